package database_test

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/database/dbtest"
)

// errBoom is the error the functions under test return to ask for a rollback.
var errBoom = errors.New("boom")

func TestTransactionCommitsOnSuccess(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)
		ctx := context.Background()

		err := tm.WithTransaction(ctx, func(tx *gorm.DB) error {
			if !database.InTransaction(tx.Statement.Context) {
				t.Error("tx.Statement.Context does not carry the transaction")
			}
			return tx.Exec("INSERT INTO accounts (id, balance) VALUES (1, 100)").Error
		})
		if err != nil {
			t.Fatalf("WithTransaction: %v", err)
		}
		err = tm.Transact(ctx, func(ctx context.Context) error {
			return database.Conn(ctx, db).Exec("INSERT INTO accounts (id, balance) VALUES (2, 200)").Error
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}

		if got := queryInt(t, db, "SELECT SUM(balance) FROM accounts"); got != 300 {
			t.Errorf("sum of balances = %d, want 300 (both rows committed)", got)
		}
		if got := tm.Stats(); got.Commits != 2 || got.Rollbacks != 0 {
			t.Errorf("Stats() = %+v, want 2 commits and no rollback", got)
		}
	})
}

func TestTransactionRollsBackOnError(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)

		err := tm.Transact(context.Background(), func(ctx context.Context) error {
			if err := database.Conn(ctx, db).Exec("INSERT INTO accounts (id, balance) VALUES (1, 100)").Error; err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Transact = %v, want errBoom", err)
		}
		if got := countAccounts(t, db); got != 0 {
			t.Errorf("%d accounts after rollback, want 0", got)
		}
		if got := tm.Stats(); got.Commits != 0 || got.Rollbacks != 1 {
			t.Errorf("Stats() = %+v, want no commit and 1 rollback", got)
		}
	})
}

func TestTransactionRollsBackOnPanic(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)
		const want = "insert went wrong"

		got := recovered(func() {
			_ = tm.Transact(context.Background(), func(ctx context.Context) error {
				if err := database.Conn(ctx, db).Exec("INSERT INTO accounts (id, balance) VALUES (1, 100)").Error; err != nil {
					return err
				}
				panic(want)
			})
		})
		if got != want {
			t.Fatalf("recovered %v, want the panic value %q re-raised", got, want)
		}
		if got := countAccounts(t, db); got != 0 {
			t.Errorf("%d accounts after the panic, want 0", got)
		}
		if got := tm.Stats(); got.Rollbacks != 1 {
			t.Errorf("Stats() = %+v, want 1 rollback", got)
		}
	})
}

// TestTransactionRollsBackOnGoexit checks a function that ends its goroutine
// with runtime.Goexit, as t.Fatal does inside a transaction in a test: the
// transaction must roll back and Transact must not hang.
func TestTransactionRollsBackOnGoexit(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)
		// Only cancelling ctx can unblock Transact if it hangs.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = tm.Transact(ctx, func(ctx context.Context) error {
				if err := database.Conn(ctx, db).Exec("INSERT INTO accounts (id, balance) VALUES (1, 100)").Error; err != nil {
					return err
				}
				runtime.Goexit()
				return nil
			})
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("Transact still running 30s after fn called runtime.Goexit: the transaction was neither rolled back nor released")
			cancel()
			<-done
		}
		if got := countAccounts(t, db); got != 0 {
			t.Errorf("%d accounts after Goexit, want 0", got)
		}
		if got := tm.Stats(); got.Rollbacks != 1 {
			t.Errorf("Stats() = %+v, want 1 rollback", got)
		}
	})
}

func TestNestedFailureRollsBackToSavepoint(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)

		err := tm.Transact(context.Background(), func(ctx context.Context) error {
			if err := insertAccount(ctx, db, 1); err != nil {
				return err
			}
			// The inner work fails with a database error (on PostgreSQL that
			// aborts the transaction unless the savepoint is rolled back to).
			innerErr := tm.Transact(ctx, func(ctx context.Context) error {
				if err := insertAccount(ctx, db, 2); err != nil {
					return err
				}
				return insertAccount(ctx, db, 1) // duplicate key
			})
			if innerErr == nil {
				t.Error("inner Transact inserting a duplicate key succeeded")
			}
			return insertAccount(ctx, db, 3)
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		if got, want := accountIDs(t, db), []int{1, 3}; !slices.Equal(got, want) {
			t.Errorf("accounts %v, want %v: the outer work without the failed inner work", got, want)
		}
	})
}

func TestNestedSuccessCommitsWithOuter(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)

		err := tm.Transact(context.Background(), func(ctx context.Context) error {
			if err := insertAccount(ctx, db, 1); err != nil {
				return err
			}
			return tm.Transact(ctx, func(ctx context.Context) error {
				return insertAccount(ctx, db, 2)
			})
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		if got, want := accountIDs(t, db), []int{1, 2}; !slices.Equal(got, want) {
			t.Errorf("accounts %v, want %v", got, want)
		}
		if got := tm.Stats(); got.Commits != 1 {
			t.Errorf("Stats() = %+v, want 1 commit (savepoints are not counted)", got)
		}
	})
}

func TestNestedPanicRollsBackToSavepointAndRepanics(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)
		const want = "inner went wrong"

		err := tm.Transact(context.Background(), func(ctx context.Context) error {
			if err := insertAccount(ctx, db, 1); err != nil {
				return err
			}
			got := recovered(func() {
				_ = tm.Transact(ctx, func(ctx context.Context) error {
					if err := insertAccount(ctx, db, 2); err != nil {
						return err
					}
					panic(want)
				})
			})
			if got != want {
				t.Errorf("recovered %v, want the inner panic value %q re-raised", got, want)
			}
			return insertAccount(ctx, db, 3)
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		if got, want := accountIDs(t, db), []int{1, 3}; !slices.Equal(got, want) {
			t.Errorf("accounts %v, want %v: the outer work without the inner work", got, want)
		}
	})
}

func TestJoinKeepsInnerWorkWhenOuterSwallowsItsError(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)

		err := tm.Transact(context.Background(), func(ctx context.Context) error {
			innerErr := tm.Transact(ctx, func(ctx context.Context) error {
				if err := insertAccount(ctx, db, 1); err != nil {
					return err
				}
				return errBoom
			}, database.WithPropagation(database.Join))
			if !errors.Is(innerErr, errBoom) {
				t.Errorf("inner Transact = %v, want errBoom", innerErr)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		if got, want := accountIDs(t, db), []int{1}; !slices.Equal(got, want) {
			t.Errorf("accounts %v, want %v: a joined call has no savepoint to roll back to", got, want)
		}
	})
}

// TestRequiresNewCommitsDespiteOuterRollback is PostgreSQL only: on SQLite
// an outer write transaction holds the database's only write lock, so an
// independent writer would wait for it (see the next test for SQLite).
func TestRequiresNewCommitsDespiteOuterRollback(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	db := tdb.DB
	createAccounts(t, db)
	tm := newTxManager(db)

	err := tm.Transact(context.Background(), func(ctx context.Context) error {
		if err := insertAccount(ctx, db, 1); err != nil {
			return err
		}
		err := tm.Transact(ctx, func(ctx context.Context) error {
			return insertAccount(ctx, db, 2)
		}, database.WithPropagation(database.RequiresNew))
		if err != nil {
			t.Errorf("inner RequiresNew Transact: %v", err)
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Transact = %v, want errBoom", err)
	}
	if got, want := accountIDs(t, db), []int{2}; !slices.Equal(got, want) {
		t.Errorf("accounts %v, want %v: the independent transaction's work only", got, want)
	}
	if got := tm.Stats(); got.Commits != 1 || got.Rollbacks != 1 {
		t.Errorf("Stats() = %+v, want 1 commit (inner) and 1 rollback (outer)", got)
	}
}

func TestRequiresNewInsideReadOnlyTransaction(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)

		err := tm.Transact(context.Background(), func(ctx context.Context) error {
			if _, err := accountCount(ctx, db); err != nil {
				return err
			}
			err := tm.Transact(ctx, func(ctx context.Context) error {
				return insertAccount(ctx, db, 1)
			}, database.WithPropagation(database.RequiresNew))
			if err != nil {
				t.Errorf("inner RequiresNew Transact: %v", err)
			}
			return errBoom
		}, database.ReadOnly())
		if !errors.Is(err, errBoom) {
			t.Fatalf("Transact = %v, want errBoom", err)
		}
		if got, want := accountIDs(t, db), []int{1}; !slices.Equal(got, want) {
			t.Errorf("accounts %v, want %v: committed by the independent transaction", got, want)
		}
	})
}

func TestTransactionCarriedByContext(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)
		ctx := context.Background()
		if database.InTransaction(ctx) {
			t.Error("InTransaction(context.Background()) = true")
		}

		err := tm.Transact(ctx, func(ctx context.Context) error {
			if !database.InTransaction(ctx) {
				t.Error("InTransaction = false inside Transact")
			}
			if err := insertAccount(ctx, db, 1); err != nil {
				return err
			}
			if got, err := accountCount(ctx, db); err != nil || got != 1 {
				t.Errorf("the transaction sees %d accounts (%v), want its own uncommitted 1", got, err)
			}
			// Without the transaction's context, db runs on another connection.
			if got, err := accountCount(context.Background(), db); err != nil || got != 0 {
				t.Errorf("another connection sees %d accounts (%v) before commit, want 0", got, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		if got := countAccounts(t, db); got != 1 {
			t.Errorf("%d accounts after commit, want 1", got)
		}
	})
}

func TestCancelledContextRollsBackAndReleasesConnection(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		tm := newTxManager(db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		err := tm.Transact(ctx, func(ctx context.Context) error {
			if err := insertAccount(ctx, db, 1); err != nil {
				return err
			}
			cancel()
			return insertAccount(ctx, db, 2)
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Transact = %v, want context.Canceled", err)
		}
		if got := countAccounts(t, db); got != 0 {
			t.Errorf("%d accounts after cancellation, want 0", got)
		}
		if got := sqlDB(t, db).Stats().InUse; got != 0 {
			t.Errorf("%d connections in use after Transact returned, want 0", got)
		}
	})
}

func TestTransactionTimeout(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	db := tdb.DB
	tm := newTxManager(db)

	// The statement outlasts the timeout by far, so that returning early
	// tells the timeout from the statement's end on a loaded machine; it
	// stays short enough that DROP DATABASE (which waits 5s for other
	// sessions) would outwait it should the cancellation not reach the
	// server. A pooled connection is open first: connecting, slow on a
	// loaded machine, is not what the timeout is about.
	if err := db.Exec("SELECT 1").Error; err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := tm.Transact(context.Background(), func(ctx context.Context) error {
		return database.Conn(ctx, db).Exec("SELECT pg_sleep(4)").Error
	}, database.WithTimeout(50*time.Millisecond))
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Transact = %v, want context.DeadlineExceeded", err)
	}
	if elapsed > 3*time.Second {
		t.Errorf("Transact returned after %s, want about the 50ms timeout (well before the 4s statement ends)", elapsed)
	}
}

func TestReadOnlyTransactionRejectsWritesWithoutRetry(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	db := tdb.DB
	createAccounts(t, db)
	tm := newTxManager(db)

	calls := 0
	err := tm.Transact(context.Background(), func(ctx context.Context) error {
		calls++
		return insertAccount(ctx, db, 1)
	}, database.ReadOnly())
	if code := sqlState(err); code != pgerrcode.ReadOnlySQLTransaction {
		t.Fatalf("Transact = %v (SQLSTATE %q), want SQLSTATE %s", err, code, pgerrcode.ReadOnlySQLTransaction)
	}
	if calls != 1 {
		t.Errorf("fn called %d times, want 1 (not retried)", calls)
	}
	if got := countAccounts(t, db); got != 0 {
		t.Errorf("%d accounts, want 0", got)
	}
}

func TestDeadlockIsRetried(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	db := tdb.DB
	createAccounts(t, db)
	mustExec(t, db, "INSERT INTO accounts (id, balance) VALUES (1, 0), (2, 0)")
	tm := newTxManager(db)

	errs, calls := opposingTransfers(tm, db)
	for i, err := range errs {
		if err != nil {
			t.Errorf("transfer %d: %v", i+1, err)
		}
	}
	if got := balances(t, db); !slices.Equal(got, []int{2, 2}) {
		t.Errorf("balances %v, want [2 2]: both transfers added 1 to both accounts", got)
	}
	if got := tm.Stats(); got.RetriesDeadlock != 1 || got.Commits != 2 {
		t.Errorf("Stats() = %+v, want 1 deadlock retry and 2 commits", got)
	}
	if calls != 3 {
		t.Errorf("fn called %d times, want 3 (one deadlock victim rerun once)", calls)
	}
}

func TestDeadlockWithoutRetryReturnsDeadlock(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	db := tdb.DB
	createAccounts(t, db)
	mustExec(t, db, "INSERT INTO accounts (id, balance) VALUES (1, 0), (2, 0)")
	tm := newTxManager(db)

	errs, calls := opposingTransfers(tm, db, database.WithAttempts(1))
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("errors %v, want exactly one (the deadlock victim)", errs)
	}
	if got := database.RetryReason(failed[0]); got != database.RetryDeadlock {
		t.Errorf("RetryReason(%v) = %q, want %q", failed[0], got, database.RetryDeadlock)
	}
	if got := balances(t, db); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("balances %v, want [1 1]: the survivor's transfer only", got)
	}
	if got := tm.Stats(); got.RetriesDeadlock != 0 {
		t.Errorf("Stats() = %+v, want no retry", got)
	}
	if calls != 2 {
		t.Errorf("fn called %d times, want 2", calls)
	}
}

// TestSerializationFailureIsRetried is the write skew of the on-call doctors:
// each transaction sees two doctors on call and takes a different one off;
// SERIALIZABLE fails one of them, whose rerun sees one doctor on call and
// does nothing.
func TestSerializationFailureIsRetried(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	db := tdb.DB
	mustExec(t, db, "CREATE TABLE doctors (id INTEGER PRIMARY KEY, on_call BOOLEAN NOT NULL)")
	mustExec(t, db, "INSERT INTO doctors (id, on_call) VALUES (1, true), (2, true)")
	tm := newTxManager(db)

	bothRead := newBarrier(2)
	finished := []chan struct{}{make(chan struct{}), make(chan struct{})}
	var calls atomic.Int32
	goOffCall := func(doctor int) error {
		defer close(finished[doctor-1])
		attempt := 0
		return tm.Transact(context.Background(), func(ctx context.Context) error {
			attempt++
			calls.Add(1)
			if attempt > 1 {
				// A rerun starts once the other transaction has committed, so
				// that its snapshot surely sees the other doctor off call.
				if err := wait(finished[2-doctor]); err != nil {
					return err
				}
			}
			var onCall int
			if err := database.Conn(ctx, db).Raw("SELECT COUNT(*) FROM doctors WHERE on_call").Scan(&onCall).Error; err != nil {
				return err
			}
			if attempt == 1 {
				if err := bothRead(); err != nil {
					return err
				}
			}
			if onCall < 2 {
				return nil
			}
			return database.Conn(ctx, db).Exec("UPDATE doctors SET on_call = false WHERE id = ?", doctor).Error
		}, database.WithIsolation(sql.LevelSerializable))
	}
	errs := concurrently(func() error { return goOffCall(1) }, func() error { return goOffCall(2) })

	for i, err := range errs {
		if err != nil {
			t.Errorf("doctor %d going off call: %v", i+1, err)
		}
	}
	if got := queryInt(t, db, "SELECT COUNT(*) FROM doctors WHERE on_call"); got != 1 {
		t.Errorf("%d doctors on call, want 1", got)
	}
	if got := tm.Stats(); got.RetriesSerialization != 1 || got.Commits != 2 {
		t.Errorf("Stats() = %+v, want 1 serialization retry and 2 commits", got)
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("fn called %d times, want 3", got)
	}
}

func TestNonRetryableErrorIsNotRetried(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		createAccounts(t, db)
		mustExec(t, db, "INSERT INTO accounts (id, balance) VALUES (1, 0)")
		tm := newTxManager(db)

		calls := 0
		err := tm.Transact(context.Background(), func(ctx context.Context) error {
			calls++
			return insertAccount(ctx, db, 1) // unique violation
		})
		if err == nil {
			t.Fatal("Transact inserting a duplicate key succeeded")
		}
		if got := database.RetryReason(err); got != "" {
			t.Errorf("RetryReason(%v) = %q, want none", err, got)
		}
		if calls != 1 {
			t.Errorf("fn called %d times, want 1", calls)
		}
		if got := tm.Stats(); got != (database.TxStats{Rollbacks: 1}) {
			t.Errorf("Stats() = %+v, want 1 rollback and no retry", got)
		}
	})
}

func TestSQLiteBusyWithoutRetryIsRetryBusy(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	createAccounts(t, tdb.DB)
	impatient := openImpatientSQLite(t, tdb)
	tm := newTxManager(impatient)

	release := holdWriteTransaction(t, tdb.DB)
	err := tm.Transact(context.Background(), func(ctx context.Context) error {
		return insertAccount(ctx, impatient, 1)
	}, database.WithAttempts(1))
	if err := release(); err != nil {
		t.Errorf("holding transaction: %v", err)
	}
	if got := database.RetryReason(err); got != database.RetryBusy {
		t.Errorf("RetryReason(%v) = %q, want %q", err, got, database.RetryBusy)
	}
	if got := tm.Stats(); got.RetriesBusy != 0 {
		t.Errorf("Stats() = %+v, want no retry", got)
	}
}

func TestSQLiteBusyIsRetriedUntilTheWriterCommits(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	createAccounts(t, tdb.DB)
	impatient := openImpatientSQLite(t, tdb)
	tm := newTxManager(impatient)

	release := holdWriteTransaction(t, tdb.DB)
	// The writer commits once the transaction has met its lock and been
	// retried, however long that takes; the transaction has attempts
	// enough to outlast the commit.
	released := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for tm.Stats().RetriesBusy < 1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		released <- release()
	}()
	err := tm.Transact(context.Background(), func(ctx context.Context) error {
		return insertAccount(ctx, impatient, 1)
	}, database.WithAttempts(1000))
	if err := <-released; err != nil {
		t.Errorf("holding transaction: %v", err)
	}
	if err != nil {
		t.Fatalf("Transact: %v", err)
	}
	if got := countAccounts(t, tdb.DB); got != 1 {
		t.Errorf("%d accounts, want 1", got)
	}
	if got := tm.Stats(); got.RetriesBusy < 1 {
		t.Errorf("Stats() = %+v, want at least 1 busy retry", got)
	}
}

// opposingTransfers runs two transactions at once that each add 1 to both
// accounts, in opposite orders: on their first attempt, each updates its
// first account and waits until the other has too before updating its
// second, so that they deadlock. It returns their errors and the number of
// times their functions ran.
func opposingTransfers(tm *database.TransactionManager, db *gorm.DB, opts ...database.TxOption) (errs []error, calls int) {
	bothLocked := newBarrier(2)
	var n atomic.Int32
	transfer := func(first, second int) error {
		attempt := 0
		return tm.Transact(context.Background(), func(ctx context.Context) error {
			attempt++
			n.Add(1)
			if err := addOne(ctx, db, first); err != nil {
				return err
			}
			if attempt == 1 {
				if err := bothLocked(); err != nil {
					return err
				}
			}
			return addOne(ctx, db, second)
		}, opts...)
	}
	errs = concurrently(func() error { return transfer(1, 2) }, func() error { return transfer(2, 1) })
	return errs, int(n.Load())
}

func addOne(ctx context.Context, db *gorm.DB, id int) error {
	return database.Conn(ctx, db).Exec("UPDATE accounts SET balance = balance + 1 WHERE id = ?", id).Error
}

// openImpatientSQLite opens another pool on tdb's SQLite file whose
// connections give up on a lock after 1ms.
func openImpatientSQLite(t *testing.T, tdb *dbtest.TestDB) *gorm.DB {
	t.Helper()
	cfg := tdb.Config
	cfg.SQLite.BusyTimeout = time.Millisecond
	db, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.GormDB()
}

// holdWriteTransaction starts a write transaction on db and returns once it
// holds the write lock (on SQLite, BEGIN IMMEDIATE takes it). release commits
// the transaction and returns its error.
func holdWriteTransaction(t *testing.T, db *gorm.DB) (release func() error) {
	t.Helper()
	locked, unlock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- newTxManager(db).Transact(context.Background(), func(ctx context.Context) error {
			close(locked)
			<-unlock
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-done:
		t.Fatalf("begin the holding transaction: %v", err)
	}
	return func() error {
		close(unlock)
		return <-done
	}
}

func newTxManager(db *gorm.DB) *database.TransactionManager {
	return database.NewTransactionManager(db, database.WithTxLogger(dbtest.Logger()))
}

func createAccounts(t *testing.T, db *gorm.DB) {
	t.Helper()
	mustExec(t, db, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL)")
}

func insertAccount(ctx context.Context, db *gorm.DB, id int) error {
	return database.Conn(ctx, db).Exec("INSERT INTO accounts (id, balance) VALUES (?, 0)", id).Error
}

func mustExec(t *testing.T, db *gorm.DB, query string, args ...any) {
	t.Helper()
	if err := db.Exec(query, args...).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func queryInt(t *testing.T, db *gorm.DB, query string) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(query).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// accountCount counts the accounts through database.Conn(ctx, db). Functions
// run in a transaction use it rather than a helper that calls t.Fatal, which
// must not be called inside a transaction (see TestTransactionRollsBackOnGoexit).
func accountCount(ctx context.Context, db *gorm.DB) (int64, error) {
	var n int64
	err := database.Conn(ctx, db).Raw("SELECT COUNT(*) FROM accounts").Scan(&n).Error
	return n, err
}

// countAccounts counts the committed accounts.
func countAccounts(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	n, err := accountCount(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func accountIDs(t *testing.T, db *gorm.DB) []int {
	t.Helper()
	var ids []int
	if err := db.Raw("SELECT id FROM accounts ORDER BY id").Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

func balances(t *testing.T, db *gorm.DB) []int {
	t.Helper()
	var b []int
	if err := db.Raw("SELECT balance FROM accounts ORDER BY id").Scan(&b).Error; err != nil {
		t.Fatal(err)
	}
	return b
}

func sqlDB(t *testing.T, db *gorm.DB) *sql.DB {
	t.Helper()
	s, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sqlState returns the SQLSTATE of a PostgreSQL error in err's chain, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// recovered runs f and returns the value it panicked with, or nil.
func recovered(f func()) (p any) {
	defer func() { p = recover() }()
	f()
	return nil
}

// concurrently runs each function in its own goroutine and returns their
// errors, in order, once all have returned.
func concurrently(fns ...func() error) []error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errs
}

// newBarrier returns a function that n goroutines call once each: it returns
// nil when all n have called it, or an error after 10 seconds.
func newBarrier(n int) func() error {
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() {
		arrived.Wait()
		close(all)
	}()
	return func() error {
		arrived.Done()
		return wait(all)
	}
}

// wait waits for ch to be closed, for at most 10 seconds.
func wait(ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("timed out waiting for the other goroutine")
	}
}
