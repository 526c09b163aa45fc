package database_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
)

// lockRow takes row id of table q in a transaction of its own and holds it
// until the returned function is called.
func lockRow(t *testing.T, db *database.DB, id int64) (release func()) {
	t.Helper()
	locked, done, ended := make(chan error, 1), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		_ = db.Raw(context.Background(), func(dc any) error {
			c := dc.(*stdlib.Conn).Conn()
			tx, err := c.Begin(context.Background())
			if err == nil {
				_, err = tx.Exec(context.Background(), "SELECT v FROM q WHERE id = $1 FOR UPDATE", id)
			}
			locked <- err
			if err != nil {
				return err
			}
			<-done
			return tx.Rollback(context.Background())
		})
	}()
	if err := <-locked; err != nil {
		t.Fatalf("lock row %d: %v", id, err)
	}
	var once bool
	release = func() {
		if !once {
			once = true
			close(done)
			<-ended
		}
	}
	t.Cleanup(release)
	return release
}

// value reads row id of q.
func value(t *testing.T, db *database.DB, id int64) int64 {
	t.Helper()
	var v int64
	if err := db.QueryRow(context.Background(), "q", "SELECT v FROM q WHERE id = $1", []any{id}, func(r pgx.Row) error { return r.Scan(&v) }); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestQueryAutocommitServerEnforcesDeadline: a statement that waits for a
// row lock past its caller's deadline is cancelled by the server, and the
// caller learns that nothing was committed (an errs.UnavailableError with
// MayHaveCommitted false, not a bare context.DeadlineExceeded) within the
// grace; the row is unchanged once the lock is released; the timeout does
// not outlive the statement on its connection; and a ctx cancelled before
// its deadline does not cancel the statement, which then commits when the
// lock comes free and says so.
func TestQueryAutocommitServerEnforcesDeadline(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	db := tdb.Handle
	if err := tdb.DB.Exec("CREATE TABLE q (id bigint PRIMARY KEY, v bigint NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	if err := tdb.DB.Exec("INSERT INTO q VALUES (1, 10), (2, 20)").Error; err != nil {
		t.Fatal(err)
	}
	const update = "UPDATE q SET v = v + 1 WHERE id = $1 RETURNING v"

	t.Run("deadline", func(t *testing.T) {
		release := lockRow(t, db, 1)
		const timeout = 300 * time.Millisecond
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		start := time.Now()
		var v int64
		var setting string
		err := db.Raw(t.Context(), func(dc any) error {
			c := dc.(*stdlib.Conn).Conn()
			err := database.QueryRowAutocommit(ctx, c, update, 1).Scan(&v)
			if serr := c.QueryRow(t.Context(), "SHOW statement_timeout").Scan(&setting); serr != nil {
				t.Errorf("the connection after the cancelled statement: %v", serr)
			}
			return err
		})
		elapsed := time.Since(start)
		var ue *errs.UnavailableError
		if !errors.As(err, &ue) || ue.MayHaveCommitted || !errors.Is(err, errs.ErrUnavailable) {
			t.Fatalf("statement past its deadline: %v (%T), want an UnavailableError with MayHaveCommitted false", err, err)
		}
		if elapsed > timeout+time.Second {
			t.Errorf("answered after %s, deadline %s", elapsed, timeout)
		}
		if setting != "0" {
			t.Errorf("statement_timeout after the statement = %q, want the default 0", setting)
		}
		release()
		if got := value(t, db, 1); got != 10 {
			t.Errorf("row 1 = %d after the cancelled update, want 10", got)
		}
	})

	t.Run("cancel before the deadline", func(t *testing.T) {
		release := lockRow(t, db, 2)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		result := make(chan error, 1)
		var v int64
		go func() {
			result <- db.Raw(t.Context(), func(dc any) error {
				return database.QueryRowAutocommit(ctx, dc.(*stdlib.Conn).Conn(), update, 2).Scan(&v)
			})
		}()
		time.Sleep(100 * time.Millisecond) // the statement is waiting for the lock
		cancel()
		time.Sleep(100 * time.Millisecond)
		release()
		if err := <-result; err != nil || v != 21 {
			t.Fatalf("update cancelled by its caller while waiting: %d, %v; want it to finish, 21", v, err)
		}
		if got := value(t, db, 2); got != 21 {
			t.Errorf("row 2 = %d, want 21", got)
		}
	})

	t.Run("no deadline", func(t *testing.T) {
		var v int64
		err := db.Raw(t.Context(), func(dc any) error {
			return database.QueryRowAutocommit(context.Background(), dc.(*stdlib.Conn).Conn(), update, 1).Scan(&v)
		})
		if err != nil || v != 11 {
			t.Errorf("update without a deadline: %d, %v; want 11", v, err)
		}
		err = db.Raw(t.Context(), func(dc any) error {
			return database.QueryRowAutocommit(context.Background(), dc.(*stdlib.Conn).Conn(), update, 99).Scan(&v)
		})
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("update of a missing row: %v, want pgx.ErrNoRows", err)
		}
	})
}
