package dal_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

// TestMain fails the package when a test leaves a goroutine behind; dbtest
// fails each test whose pool still has connections in use.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errBoom = errors.New("boom")

// world is what a test transaction writes through several repositories.
type world struct {
	user   *models.User
	market *models.Market
	bet    *models.Bet
}

// write creates a user, their market, a bet, a ledger row and a position
// through d's repositories, with ctx, and applies the bet to the market and
// the balance.
func write(ctx context.Context, d *dal.DataAccessLayer, name string) (world, error) {
	w := world{user: &models.User{Username: name, DisplayName: name, Email: name + "@example.com", UserType: models.UserTypeRegular, Balance: 100}}
	if err := d.Users().Create(ctx, w.user); err != nil {
		return w, fmt.Errorf("create user: %w", err)
	}
	w.market = &models.Market{CreatorID: w.user.ID, QuestionTitle: "Q " + name, YesLabel: "YES", NoLabel: "NO",
		ClosesAt: daltest.Now.Add(time.Hour), Status: models.MarketOpen, Probability: 0.5}
	if err := d.Markets().Create(ctx, w.market); err != nil {
		return w, fmt.Errorf("create market: %w", err)
	}
	w.bet = &models.Bet{UserID: w.user.ID, MarketID: w.market.ID, Outcome: models.OutcomeYes, Amount: 10, ProbabilityAfter: 0.6, PlacedAt: daltest.Now}
	if err := d.Bets().Create(ctx, w.bet); err != nil {
		return w, fmt.Errorf("create bet: %w", err)
	}
	if err := d.Markets().AddBet(ctx, w.market.ID, models.OutcomeYes, 10, 0.6); err != nil {
		return w, fmt.Errorf("add bet: %w", err)
	}
	balance, err := d.Users().AddToBalance(ctx, w.user.ID, -10, 0)
	if err != nil {
		return w, fmt.Errorf("debit: %w", err)
	}
	if err := d.Ledger().Append(ctx, &models.LedgerEntry{UserID: w.user.ID, MarketID: &w.market.ID, BetID: &w.bet.ID,
		Kind: models.LedgerBet, Amount: -10, BalanceAfter: balance, CreatedAt: daltest.Now}); err != nil {
		return w, fmt.Errorf("ledger: %w", err)
	}
	if _, err := d.Positions().AddStake(ctx, w.user.ID, w.market.ID, models.OutcomeYes, 10, daltest.Now); err != nil {
		return w, fmt.Errorf("position: %w", err)
	}
	return w, nil
}

// committed reports whether everything write did for name is in the
// database, read outside any transaction; it fails t when only part is.
func committed(t *testing.T, d *dal.DataAccessLayer, name string) bool {
	t.Helper()
	ctx := context.Background()
	u, err := d.Users().GetByUsername(ctx, name)
	if errors.Is(err, errs.ErrNotFound) {
		if n := count(t, d, &models.Market{}, "question_title = ?", "Q "+name); n != 0 {
			t.Errorf("%s: no user, but %d markets", name, n)
		}
		return false
	}
	if err != nil {
		t.Fatalf("%s: GetByUsername: %v", name, err)
	}
	if u.Balance != 90 {
		t.Errorf("%s: balance %d, want 90", name, u.Balance)
	}
	for _, c := range []struct {
		model any
		where string
	}{
		{&models.Market{}, "creator_id = ? AND volume = 10 AND bet_count = 1"},
		{&models.Bet{}, "user_id = ?"},
		{&models.LedgerEntry{}, "user_id = ?"},
		{&models.Position{}, "user_id = ? AND yes_stake = 10"},
	} {
		if n := count(t, d, c.model, c.where, u.ID); n != 1 {
			t.Errorf("%s: %d rows of %T where %s, want 1", name, n, c.model, c.where)
		}
	}
	return true
}

func count(t *testing.T, d *dal.DataAccessLayer, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := daltest.DB(t, d).Model(model).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatalf("count %T: %v", model, err)
	}
	return n
}

func TestWithTransactionCommitsAcrossRepositories(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		ctx := t.Context()
		err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
			// The bound repositories join the transaction with any context.
			_, err := write(ctx, tx, "alice")
			return err
		})
		if err != nil {
			t.Fatalf("WithTransaction: %v", err)
		}
		if !committed(t, d, "alice") {
			t.Error("nothing committed")
		}
		if s := tdb.Handle.Transactions().Stats(); s.Commits != 1 || s.Rollbacks != 0 {
			t.Errorf("Stats() = %+v, want 1 commit, 0 rollbacks", s)
		}
	})
}

func TestWithTransactionRollsBack(t *testing.T) {
	tests := []struct {
		name string
		fn   func(ctx context.Context, tx *dal.DataAccessLayer) error
		// check tells the error (or recovered panic) is the expected one.
		check func(t *testing.T, err error, recovered any)
	}{
		{"on error", func(ctx context.Context, tx *dal.DataAccessLayer) error {
			if _, err := write(ctx, tx, "alice"); err != nil {
				return err
			}
			return fmt.Errorf("wrapped: %w", errBoom)
		}, func(t *testing.T, err error, recovered any) {
			if !errors.Is(err, errBoom) || recovered != nil {
				t.Errorf("WithTransaction = %v (panic %v), want the function's error", err, recovered)
			}
		}},
		{"on a repository error", func(ctx context.Context, tx *dal.DataAccessLayer) error {
			if _, err := write(ctx, tx, "alice"); err != nil {
				return err
			}
			_, err := write(ctx, tx, "alice") // the username is taken
			return err
		}, func(t *testing.T, err error, recovered any) {
			if !errors.Is(err, errs.ErrConflict) || recovered != nil {
				t.Errorf("WithTransaction = %v (panic %v), want ErrConflict", err, recovered)
			}
		}},
		{"on insufficient credits", func(ctx context.Context, tx *dal.DataAccessLayer) error {
			w, err := write(ctx, tx, "alice")
			if err != nil {
				return err
			}
			_, err = tx.Users().AddToBalance(ctx, w.user.ID, -91, 0)
			return err
		}, func(t *testing.T, err error, recovered any) {
			if !errors.Is(err, errs.ErrInsufficientCredits) || recovered != nil {
				t.Errorf("WithTransaction = %v (panic %v), want ErrInsufficientCredits", err, recovered)
			}
		}},
		{"on panic, panicking again", func(ctx context.Context, tx *dal.DataAccessLayer) error {
			if _, err := write(ctx, tx, "alice"); err != nil {
				return err
			}
			panic(errBoom)
		}, func(t *testing.T, err error, recovered any) {
			if recovered != errBoom {
				t.Errorf("WithTransaction = %v (panic %v), want the panic re-raised", err, recovered)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
				ctx := t.Context()
				var err error
				recovered := func() (p any) {
					defer func() { p = recover() }()
					err = d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error { return tc.fn(ctx, tx) })
					return nil
				}()
				tc.check(t, err, recovered)
				if committed(t, d, "alice") {
					t.Error("the transaction's work was committed")
				}
				if n := count(t, d, &models.User{}, "1 = 1"); n != 0 {
					t.Errorf("%d users after the rollback, want 0", n)
				}
				if s := tdb.Handle.Transactions().Stats(); s.Commits != 0 || s.Rollbacks != 1 {
					t.Errorf("Stats() = %+v, want 0 commits, 1 rollback", s)
				}
				// The connection went back to the pool and works.
				if _, err := write(ctx, d, "bob"); err != nil {
					t.Fatalf("write after the rollback: %v", err)
				}
			})
		})
	}
}

func TestNestedWithTransaction(t *testing.T) {
	tests := []struct {
		name string
		// inner is what the nested call runs; the outer function writes
		// "outer", runs it, and fails with errBoom when outerErr.
		inner    func(ctx context.Context, tx *dal.DataAccessLayer) error
		outerErr bool
		// swallowErr is the inner error the outer function expects and
		// ignores (nil: the inner call must succeed).
		swallowErr error
		// wantErr is the error of the whole transaction.
		wantErr              error
		wantOuter, wantInner bool
	}{
		{name: "inner fails, outer swallows it and commits",
			inner: func(ctx context.Context, tx *dal.DataAccessLayer) error {
				if _, err := write(ctx, tx, "inner"); err != nil {
					return err
				}
				return errBoom
			},
			swallowErr: errBoom, wantOuter: true},
		{name: "inner fails on a constraint, outer goes on and commits",
			inner: func(ctx context.Context, tx *dal.DataAccessLayer) error {
				if _, err := write(ctx, tx, "inner"); err != nil {
					return err
				}
				// A failed statement: on PostgreSQL only the savepoint keeps
				// the outer transaction usable.
				_, err := write(ctx, tx, "outer")
				return err
			},
			swallowErr: errs.ErrConflict, wantOuter: true},
		{name: "both succeed",
			inner: func(ctx context.Context, tx *dal.DataAccessLayer) error {
				_, err := write(ctx, tx, "inner")
				return err
			},
			wantOuter: true, wantInner: true},
		{name: "inner succeeds, outer fails",
			inner: func(ctx context.Context, tx *dal.DataAccessLayer) error {
				_, err := write(ctx, tx, "inner")
				return err
			},
			outerErr: true, wantErr: errBoom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
				ctx := t.Context()
				err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
					if _, err := write(ctx, tx, "outer"); err != nil {
						return err
					}
					innerErr := tx.WithTransaction(ctx, func(inner *dal.DataAccessLayer) error { return tc.inner(ctx, inner) })
					if tc.swallowErr != nil {
						if !errors.Is(innerErr, tc.swallowErr) {
							return fmt.Errorf("inner error = %v, want %v", innerErr, tc.swallowErr)
						}
					} else if innerErr != nil {
						return fmt.Errorf("inner: %w", innerErr)
					}
					// The outer transaction still works after the inner one.
					if _, err := tx.Users().AddToBalance(ctx, mustUser(ctx, tx, "outer"), 0, 0); err != nil {
						return fmt.Errorf("after the inner transaction: %w", err)
					}
					if tc.outerErr {
						return errBoom
					}
					return nil
				})
				if tc.wantErr == nil && err != nil {
					t.Fatalf("WithTransaction: %v", err)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("WithTransaction = %v, want %v", err, tc.wantErr)
				}
				if got := committed(t, d, "outer"); got != tc.wantOuter {
					t.Errorf("outer work committed: %v, want %v", got, tc.wantOuter)
				}
				if got := committed(t, d, "inner"); got != tc.wantInner {
					t.Errorf("inner work committed: %v, want %v", got, tc.wantInner)
				}
			})
		})
	}
}

func mustUser(ctx context.Context, d *dal.DataAccessLayer, name string) int64 {
	u, err := d.Users().GetByUsername(ctx, name)
	if err != nil {
		return -1
	}
	return u.ID
}

func TestNestedPanicRollsBackToSavepoint(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
			if _, err := write(ctx, tx, "outer"); err != nil {
				return err
			}
			p := func() (p any) {
				defer func() { p = recover() }()
				_ = tx.WithTransaction(ctx, func(inner *dal.DataAccessLayer) error {
					if _, err := write(ctx, inner, "inner"); err != nil {
						return err
					}
					panic(errBoom)
				})
				return nil
			}()
			if p != errBoom {
				return fmt.Errorf("recovered %v, want the inner panic", p)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("WithTransaction: %v", err)
		}
		if !committed(t, d, "outer") {
			t.Error("outer work not committed")
		}
		if committed(t, d, "inner") {
			t.Error("inner work committed despite its panic")
		}
	})
}

func TestCreateBatchJoinsTransaction(t *testing.T) {
	newBets := func(u *models.User, m *models.Market, n int) []*models.Bet {
		bets := make([]*models.Bet, n)
		for i := range bets {
			bets[i] = &models.Bet{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeNo, Amount: 1, ProbabilityAfter: 0.5,
				PlacedAt: daltest.Now, IdempotencyKey: ptr(fmt.Sprintf("k%d", i))}
		}
		return bets
	}
	newUsers := func(prefix string, n int) []*models.User {
		users := make([]*models.User, n)
		for i := range users {
			name := fmt.Sprintf("%s_%d", prefix, i)
			users[i] = &models.User{Username: name, DisplayName: name, Email: name + "@example.com", UserType: models.UserTypeRegular}
		}
		return users
	}
	const size = 1_300 // several SQLite INSERTs
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)

		t.Run("rolled back with the transaction", func(t *testing.T) {
			err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
				if err := tx.Users().CreateBatch(ctx, newUsers("gone", size)); err != nil {
					return err
				}
				if err := tx.Bets().CreateBatch(ctx, newBets(u, m, size)); err != nil {
					return err
				}
				// Visible inside the transaction.
				n, err := tx.Bets().Count(ctx, repository.BetFilters{})
				if err != nil {
					return err
				}
				if n != size {
					return fmt.Errorf("Count inside the transaction = %d, want %d", n, size)
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("WithTransaction = %v, want errBoom", err)
			}
			if n := count(t, d, &models.Bet{}, "1 = 1"); n != 0 {
				t.Errorf("bets after the rollback = %d, want 0", n)
			}
			if n := count(t, d, &models.User{}, "username LIKE 'gone%'"); n != 0 {
				t.Errorf("batch users after the rollback = %d, want 0", n)
			}
		})
		t.Run("rolled back with the context transaction", func(t *testing.T) {
			err := tdb.Handle.Transactions().Transact(ctx, func(ctx context.Context) error {
				if err := d.Bets().CreateBatch(ctx, newBets(u, m, size)); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Transact = %v, want errBoom", err)
			}
			if n := count(t, d, &models.Bet{}, "1 = 1"); n != 0 {
				t.Errorf("bets after the rollback = %d, want 0", n)
			}
		})
		t.Run("a failed batch leaves the transaction usable", func(t *testing.T) {
			err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
				bets := newBets(u, m, size)
				bets[size-1].IdempotencyKey = bets[0].IdempotencyKey
				if err := tx.Bets().CreateBatch(ctx, bets); !errors.Is(err, errs.ErrConflict) {
					return fmt.Errorf("CreateBatch with a duplicate = %v, want ErrConflict", err)
				}
				return tx.Bets().CreateBatch(ctx, newBets(u, m, 10))
			})
			if err != nil {
				t.Fatalf("WithTransaction: %v", err)
			}
			if n := count(t, d, &models.Bet{}, "1 = 1"); n != 10 {
				t.Errorf("bets after the commit = %d, want 10 (the second batch only)", n)
			}
		})
		t.Run("committed with the transaction", func(t *testing.T) {
			// Never t.Fatal inside a transaction: it would end the goroutine
			// with the transaction open.
			bettor := daltest.User(t, d)
			err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
				if err := tx.Users().CreateBatch(ctx, newUsers("kept", size)); err != nil {
					return err
				}
				return tx.Bets().CreateBatch(ctx, newBets(bettor, m, size))
			})
			if err != nil {
				t.Fatalf("WithTransaction: %v", err)
			}
			if n := count(t, d, &models.Bet{}, "1 = 1"); n != 10+size {
				t.Errorf("bets after the commit = %d, want %d", n, 10+size)
			}
			if n := count(t, d, &models.User{}, "username LIKE 'kept%'"); n != size {
				t.Errorf("batch users after the commit = %d, want %d", n, size)
			}
		})
	})
}

func TestTransactContextReachesRepositories(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		ctx := t.Context()
		t.Run("rolled back", func(t *testing.T) {
			err := tdb.Handle.Transactions().Transact(ctx, func(ctx context.Context) error {
				if !database.InTransaction(ctx) {
					return errors.New("the context carries no transaction")
				}
				// The root DAL's repositories, called with the context.
				w, err := write(ctx, d, "ctxuser")
				if err != nil {
					return err
				}
				// Seen inside the transaction, not outside it.
				if _, err := d.Users().GetByID(ctx, w.user.ID); err != nil {
					return fmt.Errorf("inside: %w", err)
				}
				if _, err := d.Users().GetByID(context.Background(), w.user.ID); !errors.Is(err, errs.ErrNotFound) {
					return fmt.Errorf("outside the transaction GetByID = %v, want ErrNotFound", err)
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Transact = %v, want errBoom", err)
			}
			if committed(t, d, "ctxuser") {
				t.Error("work done with the transaction's context was committed")
			}
		})
		t.Run("committed", func(t *testing.T) {
			err := tdb.Handle.Transactions().Transact(ctx, func(ctx context.Context) error {
				_, err := write(ctx, d, "ctxuser")
				return err
			})
			if err != nil {
				t.Fatalf("Transact: %v", err)
			}
			if !committed(t, d, "ctxuser") {
				t.Error("nothing committed")
			}
		})
		t.Run("nested in a savepoint", func(t *testing.T) {
			err := tdb.Handle.Transactions().Transact(ctx, func(ctx context.Context) error {
				if _, err := write(ctx, d, "ctxouter"); err != nil {
					return err
				}
				err := tdb.Handle.Transactions().Transact(ctx, func(ctx context.Context) error {
					if _, err := write(ctx, d, "ctxinner"); err != nil {
						return err
					}
					return errBoom
				})
				if !errors.Is(err, errBoom) {
					return fmt.Errorf("inner Transact = %v, want errBoom", err)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Transact: %v", err)
			}
			if !committed(t, d, "ctxouter") || committed(t, d, "ctxinner") {
				t.Error("want the outer work committed and the inner work rolled back")
			}
		})
		t.Run("WithTransaction inside Transact", func(t *testing.T) {
			err := tdb.Handle.Transactions().Transact(ctx, func(ctx context.Context) error {
				return d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
					if _, err := write(ctx, tx, "mixed"); err != nil {
						return err
					}
					return errBoom
				})
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Transact = %v, want errBoom", err)
			}
			if committed(t, d, "mixed") {
				t.Error("work rolled back was committed")
			}
		})
	})
}

func TestCancelledContextRollsBack(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx, cancel := context.WithCancel(t.Context())
		err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
			if _, err := write(ctx, tx, "cancelled"); err != nil {
				return err
			}
			cancel()
			// A statement after the cancellation fails.
			_, err := tx.Users().GetByUsername(ctx, "cancelled")
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("WithTransaction = %v, want context.Canceled", err)
		}
		if committed(t, d, "cancelled") {
			t.Error("the cancelled transaction was committed")
		}
		// The connection is back in the pool (dbtest checks too) and works.
		if _, err := write(context.Background(), d, "after"); err != nil {
			t.Fatalf("write after the cancellation: %v", err)
		}
	})
}

func TestNewAndOpen(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		ctx := t.Context()
		if d.Users() == nil || d.Markets() == nil || d.Bets() == nil || d.Ledger() == nil || d.Positions() == nil || d.Invariants() == nil {
			t.Fatal("a repository or the transaction manager is nil")
		}
		if daltest.DB(t, d) != tdb.DB {
			t.Error("DB() is not the handle the DAL was built on")
		}
		// A second DAL opened from the configuration sees the same data.
		other, err := dal.Open(ctx, tdb.Config, dbtest.Logger())
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		u := daltest.User(t, d)
		got, err := other.Users().GetByID(ctx, u.ID)
		if err != nil || got.Username != u.Username {
			t.Errorf("GetByID through the opened DAL = %+v, %v", got, err)
		}
		if err := other.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		// New with no logger uses the default one.
		plain := dal.New(tdb.Handle)
		if got, err := plain.Users().GetByID(ctx, u.ID); err != nil || got.ID != u.ID {
			t.Errorf("GetByID through dal.New(..., nil) = %+v, %v", got, err)
		}
		if err := plain.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
			_, err := tx.Users().AddToBalance(ctx, u.ID, 1, 0)
			return err
		}); err != nil {
			t.Errorf("WithTransaction through dal.New(..., nil): %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
