package database_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
)

// TestConnectionLostInTransactionIsUnavailable: a backend terminated in the
// middle of a transaction (as by a server restart) makes the transaction
// fail with ErrUnavailable, saying nothing was committed.
func TestConnectionLostInTransactionIsUnavailable(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	db := tdb.DB
	createAccounts(t, db)
	tm := newTxManager(db)
	ctx := context.Background()
	err := tm.Transact(ctx, func(ctx context.Context) error {
		if err := insertAccount(ctx, db, 1); err != nil {
			return err
		}
		var pid int64
		if err := database.Conn(ctx, db).Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
			return err
		}
		// Terminated from another connection: the server's admin shutdown.
		if err := db.Exec("SELECT pg_terminate_backend(?)", pid).Error; err != nil {
			t.Fatalf("pg_terminate_backend: %v", err)
		}
		return insertAccount(ctx, db, 2)
	}, database.WithAttempts(1))
	var ue *errs.UnavailableError
	if !errors.Is(err, errs.ErrUnavailable) || !errors.As(err, &ue) {
		t.Fatalf("Transact after the backend was terminated: %v, want ErrUnavailable", err)
	}
	if ue.MayHaveCommitted {
		t.Errorf("MayHaveCommitted = true for a transaction that never reached its commit: %v", err)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM accounts"); got != 0 {
		t.Errorf("%d accounts after the lost transaction, want 0", got)
	}
}

// TestRefusedConnectionIsUnavailable: a server that refuses connections is
// ErrUnavailable, and nothing can have committed.
func TestRefusedConnectionIsUnavailable(t *testing.T) {
	_, err := pgconn.Connect(context.Background(), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", dbtest.ClosedPort(t)))
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	err = database.TranslateUnavailable(err)
	var ue *errs.UnavailableError
	if !errors.As(err, &ue) || ue.MayHaveCommitted {
		t.Fatalf("TranslateUnavailable(refused) = %v, want an UnavailableError with MayHaveCommitted false", err)
	}
}

// TestTranslateUnavailable: which driver errors mean the database went away,
// and whether the operation may have committed.
func TestTranslateUnavailable(t *testing.T) {
	tests := []struct {
		name          string
		err           error
		want          bool
		mayHaveCommit bool
	}{
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true, true},
		{"lost in the middle", fmt.Errorf("commit: %w", io.ErrUnexpectedEOF), true, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false, false},
		{"the caller's deadline", context.DeadlineExceeded, false, false},
		{"plain error", errors.New("boom"), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := database.TranslateUnavailable(tc.err)
			var ue *errs.UnavailableError
			if got := errors.As(err, &ue); got != tc.want {
				t.Fatalf("TranslateUnavailable(%v) = %v, unavailable %v, want %v", tc.err, err, got, tc.want)
			}
			if ue != nil && ue.MayHaveCommitted != tc.mayHaveCommit {
				t.Errorf("MayHaveCommitted = %v, want %v", ue.MayHaveCommitted, tc.mayHaveCommit)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("the translated error does not wrap the driver's")
			}
		})
	}
}

// TestPoolTimeoutIsUnavailable: no pooled connection before the deadline is
// ErrUnavailable, on both engines.
func TestPoolTimeoutIsUnavailable(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		sqlDB, err := tdb.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		sqlDB.SetMaxOpenConns(1)
		held, err := sqlDB.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		tm := newTxManager(tdb.DB)
		err = tm.Transact(context.Background(), func(context.Context) error { return nil }, database.WithTimeout(50*time.Millisecond))
		if !errors.Is(err, errs.ErrUnavailable) {
			t.Fatalf("Transact with the pool exhausted: %v, want ErrUnavailable", err)
		}
	})
}

// TestSQLiteReadOnlyIsUnavailable: a write that SQLite refuses because the
// database is read-only (here PRAGMA query_only; in production a read-only
// file or file system, see internal/chaos) is ErrUnavailable, saying so,
// with nothing committed; not an unexplained driver error (a 500).
func TestSQLiteReadOnlyIsUnavailable(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	db := tdb.DB
	createAccounts(t, db)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1) // the one connection the pragma is set on
	if err := db.Exec("PRAGMA query_only = 1").Error; err != nil {
		t.Fatal(err)
	}
	err = newTxManager(db).Transact(context.Background(), func(ctx context.Context) error {
		return insertAccount(ctx, db, 1)
	}, database.WithAttempts(1))
	var ue *errs.UnavailableError
	if !errors.As(err, &ue) || ue.MayHaveCommitted || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("insert into a read-only database: %v, want ErrUnavailable saying read-only, nothing committed", err)
	}
	if err := db.Exec("PRAGMA query_only = 0").Error; err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM accounts"); got != 0 {
		t.Errorf("%d accounts after the refused insert, want 0", got)
	}
}

// TestConnectTimeoutIsUnavailable: a connection attempt that times out on
// its own connect timeout (a server that accepts and never answers, as a
// black-holed network does) is the database being unavailable, and nothing
// was committed, although the timeout reads as context.DeadlineExceeded
// and no caller's deadline passed. It used to escape untranslated (a 500
// over HTTP in the chaos run's black hole).
func TestConnectTimeoutIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer func() { ln.Close(); <-done }()
	go func() {
		defer close(done)
		var held []net.Conn // accepted, never answered
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	_, err = pgconn.Connect(t.Context(), fmt.Sprintf("postgres://u@%s/db?sslmode=disable&connect_timeout=1", ln.Addr()))
	if err == nil {
		t.Fatal("connect to a silent server succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("(the connect error does not read as a deadline here: %v)", err)
	}
	got := database.TranslateUnavailable(err)
	var ue *errs.UnavailableError
	if !errors.Is(got, errs.ErrUnavailable) || !errors.As(got, &ue) || ue.MayHaveCommitted {
		t.Errorf("TranslateUnavailable(%v) = %v; want errs.ErrUnavailable, not committed", err, got)
	}
}
