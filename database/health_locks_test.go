package database_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/database/dbtest"
)

func TestHealthReportsBlockedSessionWithBothPIDs(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	createHealthRows(t, tdb.DB)
	ctx := context.Background()
	holder, holderPID := healthPgSession(t, tdb.DB)
	waiter, waiterPID := healthPgSession(t, tdb.DB)
	hc := newHealthChecker(t, tdb.Handle, healthConfig(healthNoTimeout, 3))

	healthSessionExec(t, holder, "BEGIN")
	healthSessionExec(t, holder, "UPDATE health_rows SET v = v + 1 WHERE id = 1")
	blocked := make(chan error, 1)
	go func() {
		_, err := waiter.ExecContext(ctx, "UPDATE health_rows SET v = v + 2 WHERE id = 1")
		blocked <- err
	}()
	release := sync.OnceFunc(func() {
		healthSessionExec(t, holder, "ROLLBACK")
		if err := <-blocked; err != nil {
			t.Errorf("blocked update: %v", err)
		}
	})
	t.Cleanup(release)

	var r *database.HealthReport
	healthEventually(t, healthWait, func() bool {
		r = healthMustCheck(t, hc)
		return r.Locks != nil && len(r.Locks.Blocked) > 0
	})
	b := r.Locks.Blocked[0]
	if b.PID != waiterPID || !slices.Equal(b.BlockedBy, []int{holderPID}) {
		t.Errorf("blocked session pid %d blocked by %v, want pid %d blocked by [%d]", b.PID, b.BlockedBy, waiterPID, holderPID)
	}
	if !strings.HasPrefix(b.Query, "UPDATE health_rows") || b.Waiting <= 0 || !strings.HasPrefix(b.WaitEvent, "Lock:") {
		t.Errorf("blocked session = %+v, want the UPDATE waiting on a lock", b)
	}
	if r.State != database.Degraded || healthStatus(t, r, database.HealthCheckLocks) != database.HealthWarn {
		t.Errorf("state %s, checks %+v; want degraded by the locks check", r.State, r.Checks)
	}

	release()
	if r = healthMustCheck(t, hc); r.State != database.Healthy || len(r.Locks.Blocked) != 0 {
		t.Errorf("after the holder rolled back: state %s, blocked %+v; want healthy", r.State, r.Locks.Blocked)
	}
}

func TestHealthReportsIdleInTransactionAndLongRunningSessions(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	ctx := context.Background()
	idle, idlePID := healthPgSession(t, tdb.DB)
	sleeper, sleeperPID := healthPgSession(t, tdb.DB)
	hc := newHealthChecker(t, tdb.Handle, healthConfig(healthNoTimeout, 3),
		database.WithHealthLongRunning(50*time.Millisecond), database.WithHealthIdleInTransaction(50*time.Millisecond))

	healthSessionExec(t, idle, "BEGIN")
	healthSessionExec(t, idle, "SELECT 1")
	sleeping := make(chan error, 1)
	go func() {
		_, err := sleeper.ExecContext(ctx, "SELECT pg_sleep(30)")
		sleeping <- err
	}()
	stop := sync.OnceFunc(func() {
		// Cancel the sleep from another session: its backend ends the
		// statement at once, and the test database can be dropped.
		healthSessionExec(t, idle, "ROLLBACK")
		var ok bool
		if err := idle.QueryRowContext(ctx, "SELECT pg_cancel_backend($1)", sleeperPID).Scan(&ok); err != nil || !ok {
			t.Errorf("pg_cancel_backend(%d) = %v, %v", sleeperPID, ok, err)
		}
		<-sleeping // cancelled: an error
	})
	t.Cleanup(stop)

	var r *database.HealthReport
	healthEventually(t, healthWait, func() bool {
		r = healthMustCheck(t, hc)
		return r.Locks != nil && len(r.Locks.LongRunning) > 0 && len(r.Locks.IdleInTransaction) > 0
	})
	long, idleTx := r.Locks.LongRunning[0], r.Locks.IdleInTransaction[0]
	if long.PID != sleeperPID || long.State != "active" || !strings.Contains(long.Query, "pg_sleep") || long.Duration < 50*time.Millisecond {
		t.Errorf("long-running session = %+v, want pid %d running pg_sleep for at least 50ms", long, sleeperPID)
	}
	if idleTx.PID != idlePID || idleTx.State != "idle in transaction" || idleTx.Duration < 50*time.Millisecond {
		t.Errorf("idle-in-transaction session = %+v, want pid %d idle for at least 50ms", idleTx, idlePID)
	}
	if len(r.Locks.LongRunning)+len(r.Locks.IdleInTransaction) != 2 {
		t.Errorf("sessions reported: %+v, want only the two of the test (not the checker's own)", r.Locks)
	}
	if r.State != database.Degraded || healthStatus(t, r, database.HealthCheckSessions) != database.HealthWarn {
		t.Errorf("state %s, checks %+v; want degraded by the sessions check", r.State, r.Checks)
	}

	stop()
	if r = healthMustCheck(t, hc); r.State != database.Healthy {
		t.Errorf("after both sessions ended their work: state %s, locks %+v; want healthy", r.State, r.Locks)
	}
}

func TestHealthCheckRespectsTimeoutWhenTestQueryIsBlocked(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	createHealthRows(t, tdb.DB)
	ctx := context.Background()
	holder, _ := healthPgSession(t, tdb.DB)
	const timeout = 200 * time.Millisecond
	hc := newHealthChecker(t, tdb.Handle, healthConfig(timeout, 1), database.WithHealthTestQuery("SELECT count(*) FROM health_rows"))

	healthSessionExec(t, holder, "BEGIN")
	healthSessionExec(t, holder, "LOCK TABLE health_rows IN ACCESS EXCLUSIVE MODE")
	start := time.Now()
	r, err := hc.Check(ctx)
	elapsed := time.Since(start)
	healthAssertTimedOut(t, r, err, elapsed, timeout)

	// Should the abandoned test query still wait on the server (pgx
	// normally cancels it), end it, so that the test database can be
	// dropped.
	var ended []int
	rows, err := holder.QueryContext(ctx, `SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pg_backend_pid() = ANY(pg_blocking_pids(pid))`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			pid        int
			terminated bool
		)
		if err := rows.Scan(&pid, &terminated); err != nil {
			t.Fatal(err)
		}
		ended = append(ended, pid)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	healthSessionExec(t, holder, "ROLLBACK")
	healthEventually(t, healthWait, func() bool {
		var n int
		err := holder.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", ended).Scan(&n)
		return err == nil && n == 0
	})
}

// createHealthRows creates the table health_rows with the row id 1.
func createHealthRows(t *testing.T, db *gorm.DB) {
	t.Helper()
	for _, q := range []string{"CREATE TABLE health_rows (id int PRIMARY KEY, v int NOT NULL)", "INSERT INTO health_rows VALUES (1, 0)"} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// pgSession returns a dedicated connection of db's pool (a PostgreSQL
// session) and its backend pid; it is returned to the pool when the test
// ends.
func healthPgSession(t *testing.T, db *gorm.DB) (*sql.Conn, int) {
	t.Helper()
	ctx := context.Background()
	conn, err := healthSQLDB(t, db).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return conn, pid
}

// sessionExec runs a statement on a session.
func healthSessionExec(t *testing.T, conn *sql.Conn, query string) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
