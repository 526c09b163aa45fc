package database_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/database/diagnostics"
	"socialpredict/internal/confkit"
)

func TestHealthyReportOnBothEngines(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		hc := newHealthChecker(t, tdb.Handle, healthConfig(healthNoTimeout, 3))

		r, err := hc.Check(context.Background())
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		if r.State != database.Healthy || r.Driver != string(tdb.Engine) || r.ConsecutiveFailures != 0 {
			t.Errorf("report = %+v, want healthy on %s with no failure", r, tdb.Engine)
		}
		var names []string
		for _, c := range r.Checks {
			names = append(names, c.Name)
		}
		want := []string{database.HealthCheckPool, database.HealthCheckQuery, database.HealthCheckResponseTime,
			database.HealthCheckTransactions, database.HealthCheckLocks, database.HealthCheckSessions}
		if diff := cmp.Diff(names, want); diff != "" {
			t.Errorf("check names (-got +want):\n%s", diff)
		}
		wantStatus := map[string]database.HealthCheckStatus{
			database.HealthCheckPool: database.HealthOK, database.HealthCheckQuery: database.HealthOK,
			database.HealthCheckResponseTime: database.HealthOK,
			database.HealthCheckTransactions: database.HealthOK, // nothing held
			database.HealthCheckLocks:        database.HealthOK, database.HealthCheckSessions: database.HealthOK,
		}
		if tdb.Engine == dbtest.SQLite {
			wantStatus[database.HealthCheckLocks] = database.HealthSkipped
			wantStatus[database.HealthCheckSessions] = database.HealthSkipped
		}
		for name, want := range wantStatus {
			if got := healthStatus(t, r, name); got != want {
				t.Errorf("check %s: status %s, want %s", name, got, want)
			}
		}
		if got := r.ResponseTime; got.Samples != 1 || got.Last <= 0 || got.P50 != got.Last || got.P99 != got.Last {
			t.Errorf("response times = %+v, want one sample equal to Last", got)
		}
		if got, want := r.Pool.MaxOpen, tdb.Config.ConnectionPool.MaxOpenConns; got != want || r.Pool.Exhausted {
			t.Errorf("pool = %+v, want max open %d, not exhausted", r.Pool, want)
		}
		if (r.Locks != nil) != (tdb.Engine == dbtest.Postgres) {
			t.Errorf("Locks = %+v on %s, want a lock report only on postgres", r.Locks, tdb.Engine)
		}
		if last, ok := hc.Last(); !ok || last != r {
			t.Errorf("Last() = %p, %v; want the report of Check", last, ok)
		}
	})
}

func TestHealthReportIsJSON(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		hc := newHealthChecker(t, tdb.Handle, healthConfig(healthNoTimeout, 3))
		r, err := hc.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back database.HealthReport
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		if diff := cmp.Diff(&back, r); diff != "" {
			t.Errorf("JSON round trip (-got +want):\n%s", diff)
		}
		var fields map[string]any
		if err := json.Unmarshal(data, &fields); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"state", "driver", "checked_at", "duration_ns", "checks", "pool", "response_time"} {
			if _, ok := fields[key]; !ok {
				t.Errorf("JSON lacks %q: %s", key, data)
			}
		}
	})
}

func TestNewHealthCheckerRejectsInvalidSettings(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	valid := healthConfig(time.Second, 3)
	tests := []struct {
		name string
		cfg  func(c *database.HealthCheckConfig)
		opts []database.HealthOption
	}{
		{name: "zero timeout", cfg: func(c *database.HealthCheckConfig) { c.Timeout = 0 }},
		{name: "zero interval", cfg: func(c *database.HealthCheckConfig) { c.Interval = 0 }},
		{name: "zero retries", cfg: func(c *database.HealthCheckConfig) { c.Retries = 0 }},
		{name: "negative leak threshold", opts: []database.HealthOption{database.WithHealthLeakThreshold(-time.Second)}},
		{name: "zero long-running threshold", opts: []database.HealthOption{database.WithHealthLongRunning(0)}},
		{name: "zero idle-in-transaction threshold", opts: []database.HealthOption{database.WithHealthIdleInTransaction(0)}},
		{name: "empty window", opts: []database.HealthOption{database.WithHealthWindow(0)}},
		{name: "empty test query", opts: []database.HealthOption{database.WithHealthTestQuery(" ")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			hc, err := database.NewHealthChecker(tdb.Handle, cfg, tt.opts...)
			if !errors.Is(err, confkit.ErrInvalid) || hc != nil {
				t.Errorf("NewHealthChecker = %v, %v; want nil and an error matching confkit.ErrInvalid", hc, err)
			}
		})
	}
}

func TestHealthPoolExhaustionDegradesUntilReleased(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := openHealthPool(t, tdb, 2)
		// The check with the pool exhausted waits out the timeout; the one
		// after the release must answer within it, even on a loaded machine.
		hc := newHealthChecker(t, db, healthConfig(3*time.Second, 3))
		ctx := context.Background()

		release := healthHoldConns(t, db.GormDB(), 2)
		waiter := make(chan error, 1)
		go func() { waiter <- db.GormDB().WithContext(ctx).Exec("SELECT 1").Error }()
		healthEventually(t, healthWait, func() bool { return healthSQLDB(t, db.GormDB()).Stats().WaitCount >= 1 })

		r, err := hc.Check(ctx)
		if err != nil {
			t.Fatalf("Check with the pool exhausted: %v (want degraded, not unhealthy)", err)
		}
		if r.State != database.Degraded || healthStatus(t, r, database.HealthCheckPool) != database.HealthWarn {
			t.Errorf("state %s, pool check %+v; want degraded by the pool", r.State, r.Checks[0])
		}
		if p := r.Pool; p.MaxOpen != 2 || p.InUse != 2 || !p.Exhausted || p.NewWaits < 1 {
			t.Errorf("pool = %+v, want 2 of 2 in use, exhausted, with a waiter", p)
		}

		release()
		if err := <-waiter; err != nil {
			t.Fatalf("waiter: %v", err)
		}
		r, err = hc.Check(ctx)
		if err != nil || r.State != database.Healthy || r.Pool.Exhausted {
			t.Errorf("after release: state %s, pool %+v, err %v; want healthy", r.State, r.Pool, err)
		}
	})
}

func TestHealthReportsLeakedTransaction(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		tm := database.NewTransactionManager(tdb.DB, database.WithTxLogger(dbtest.Logger()))
		hc := newHealthChecker(t, tdb.Handle, healthConfig(healthNoTimeout, 3),
			database.WithHealthTransactions(tm), database.WithHealthLeakThreshold(50*time.Millisecond))
		ctx := context.Background()

		started, hold, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- tm.Transact(ctx, func(context.Context) error {
				close(started)
				<-hold
				return nil
			})
		}()
		release := sync.OnceFunc(func() {
			close(hold)
			if err := <-done; err != nil {
				t.Errorf("held transaction: %v", err)
			}
		})
		t.Cleanup(release)
		<-started

		var r *database.HealthReport
		healthEventually(t, healthWait, func() bool {
			r = healthMustCheck(t, hc)
			return len(r.LongTransactions) > 0
		})
		if r.State != database.Degraded || healthStatus(t, r, database.HealthCheckTransactions) != database.HealthWarn {
			t.Errorf("state %s, checks %+v; want degraded by the transactions check", r.State, r.Checks)
		}
		leak := r.LongTransactions[0]
		if !strings.Contains(leak.Stack, "TestHealthReportsLeakedTransaction") || leak.HeldFor < 50*time.Millisecond {
			t.Errorf("leaked transaction held for %s with stack:\n%s\nwant >= 50ms and a stack naming the test", leak.HeldFor, leak.Stack)
		}

		release()
		if r = healthMustCheck(t, hc); r.State != database.Healthy || len(r.LongTransactions) != 0 {
			t.Errorf("after commit: state %s, leaks %d; want healthy", r.State, len(r.LongTransactions))
		}
	})
}

func TestHealthReportsLeakedConnection(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		hc := newHealthChecker(t, tdb.Handle, healthConfig(healthNoTimeout, 3), database.WithHealthLeakThreshold(50*time.Millisecond))
		started, hold, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- tdb.Handle.Raw(context.Background(), func(any) error {
				close(started)
				<-hold
				return nil
			})
		}()
		release := sync.OnceFunc(func() {
			close(hold)
			if err := <-done; err != nil {
				t.Errorf("held connection: %v", err)
			}
		})
		t.Cleanup(release)
		<-started

		var r *database.HealthReport
		healthEventually(t, healthWait, func() bool {
			r = healthMustCheck(t, hc)
			return len(r.LongTransactions) > 0
		})
		leak := r.LongTransactions[0]
		if r.State != database.Degraded || leak.Kind != "connection" || !strings.Contains(leak.Stack, "TestHealthReportsLeakedConnection") {
			t.Errorf("state %s, leak %s with stack:\n%s\nwant degraded by a connection taken by the test", r.State, leak.Kind, leak.Stack)
		}
		release()
		if r = healthMustCheck(t, hc); r.State != database.Healthy {
			t.Errorf("after release: state %s, want healthy", r.State)
		}
	})
}

func TestHealthTestQueryFailureIsUnhealthy(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		closed := openHealthPool(t, tdb, 2)
		if err := closed.Close(); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name  string
			db    *database.DB
			ctx   context.Context
			cause error
		}{
			{name: "closed pool", db: closed, ctx: context.Background()}, // database/sql exports no error for it
			{name: "cancelled context", db: tdb.Handle, ctx: cancelled, cause: context.Canceled},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				hc := newHealthChecker(t, tt.db, healthConfig(healthNoTimeout, 1))
				r, err := hc.Check(tt.ctx)
				if !errors.Is(err, database.ErrUnhealthy) {
					t.Errorf("Check error %v, want ErrUnhealthy", err)
				}
				if tt.cause != nil && !errors.Is(err, tt.cause) {
					t.Errorf("Check error %v, want it to wrap %v", err, tt.cause)
				}
				if r == nil || r.State != database.Unhealthy || healthStatus(t, r, database.HealthCheckQuery) != database.HealthFail {
					t.Fatalf("report %+v, want unhealthy with a failed query check", r)
				}
				if got := healthStatus(t, r, database.HealthCheckLocks); got != database.HealthSkipped {
					t.Errorf("locks check %s after a failed test query, want skipped", got)
				}
			})
		}
	})
}

func TestHealthRetriesConsecutiveFailures(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		hc := newHealthChecker(t, tdb.Handle, healthConfig(healthNoTimeout, 3))
		failing, cancel := context.WithCancel(context.Background())
		cancel()
		steps := []struct {
			name         string
			ctx          context.Context
			wantState    database.HealthState
			wantFailures int
		}{
			{"first failure", failing, database.Degraded, 1},
			{"second failure", failing, database.Degraded, 2},
			{"third failure reaches retries", failing, database.Unhealthy, 3},
			{"fourth failure", failing, database.Unhealthy, 4},
			{"success restores", context.Background(), database.Healthy, 0},
			{"failure after success", failing, database.Degraded, 1},
		}
		for _, s := range steps {
			r, err := hc.Check(s.ctx)
			if r.State != s.wantState || r.ConsecutiveFailures != s.wantFailures {
				t.Errorf("%s: state %s after %d failures, want %s after %d", s.name, r.State, r.ConsecutiveFailures,
					s.wantState, s.wantFailures)
			}
			if got, want := errors.Is(err, database.ErrUnhealthy), s.wantState == database.Unhealthy; got != want {
				t.Errorf("%s: error %v, want ErrUnhealthy: %v", s.name, err, want)
			}
		}
	})
}

func TestHealthCheckRespectsTimeoutWhenPoolIsExhausted(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := openHealthPool(t, tdb, 1)
		const timeout = 200 * time.Millisecond
		hc := newHealthChecker(t, db, healthConfig(timeout, 1))
		defer healthHoldConns(t, db.GormDB(), 1)()

		start := time.Now()
		r, err := hc.Check(context.Background())
		elapsed := time.Since(start)
		healthAssertTimedOut(t, r, err, elapsed, timeout)
	})
}

func TestHealthMetrics(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		m := database.NewMetrics(prometheus.NewRegistry())
		hc := newHealthChecker(t, tdb.Handle, healthConfig(healthNoTimeout, 1), database.WithHealthMetrics(m))
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		steps := []struct {
			ctx  context.Context
			want database.HealthState
		}{
			{context.Background(), database.Healthy},
			{cancelled, database.Unhealthy},
			{context.Background(), database.Healthy},
		}
		for i, s := range steps {
			r, _ := hc.Check(s.ctx)
			if r.State != s.want {
				t.Fatalf("check %d: state %s, want %s", i, r.State, s.want)
			}
			for _, state := range database.HealthStates {
				want := 0.0
				if state == s.want {
					want = 1
				}
				if got := healthGaugeValue(t, m.HealthStatus.WithLabelValues(string(state))); got != want {
					t.Errorf("check %d: db_health_status{state=%q} = %v, want %v", i, state, got, want)
				}
			}
			var pb dto.Metric
			if err := m.HealthCheckDuration.Write(&pb); err != nil {
				t.Fatal(err)
			}
			if got := pb.GetHistogram().GetSampleCount(); got != uint64(i+1) {
				t.Errorf("check %d: db_health_check_duration_seconds count %d, want %d", i, got, i+1)
			}
		}
	})
}

func TestHealthBackgroundChecks(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		cfg := healthConfig(healthNoTimeout, 3)
		cfg.Interval = 20 * time.Millisecond
		hc := newHealthChecker(t, tdb.Handle, cfg)
		if r, ok := hc.Last(); ok || r != nil {
			t.Fatalf("Last() before any check = %v, %v; want nil, false", r, ok)
		}
		hc.Stop() // not running: nothing to do

		hc.Start(context.Background())
		hc.Start(context.Background()) // already running: nothing to do
		first, ok := hc.Last()
		if !ok || first.State != database.Healthy {
			t.Fatalf("Last() right after Start = %+v, %v; want a healthy report", first, ok)
		}
		healthEventually(t, healthWait, func() bool {
			r, _ := hc.Last()
			return r.CheckedAt.After(first.CheckedAt)
		})
		hc.Stop()
		hc.Stop()

		stopped, _ := hc.Last()
		time.Sleep(3 * cfg.Interval)
		if r, _ := hc.Last(); r != stopped {
			t.Errorf("a check ran after Stop: %v, then %v", stopped.CheckedAt, r.CheckedAt)
		}

		// Start again, and end by cancelling the context.
		ctx, cancel := context.WithCancel(context.Background())
		hc.Start(ctx)
		cancel()
		hc.Stop()
	})
}

func TestHealthResponseTimeWindow(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	hc := newHealthChecker(t, tdb.Handle, healthConfig(healthNoTimeout, 3), database.WithHealthWindow(3))
	for i := range 5 {
		r := healthMustCheck(t, hc)
		rt := r.ResponseTime
		if want := min(i+1, 3); rt.Samples != want {
			t.Errorf("check %d: %d samples, want %d", i, rt.Samples, want)
		}
		if rt.P50 <= 0 || rt.P50 > rt.P95 || rt.P95 > rt.P99 {
			t.Errorf("check %d: percentiles %+v, want 0 < p50 <= p95 <= p99", i, rt)
		}
	}
}

func TestInspectLocksUnsupportedOnSQLite(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	_, err := diagnostics.InspectLocks(context.Background(), tdb.DB, diagnostics.LockThresholds{LongRunning: time.Second, IdleInTransaction: time.Second})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("InspectLocks on sqlite = %v, want errors.ErrUnsupported", err)
	}
}

// Test budgets. A check's timeout is either waited out on purpose (a held
// pool, a locked table) or, as healthNoTimeout, never reached even on a
// loaded machine. healthWait bounds how long a test waits for a condition;
// healthEventually polls often, so a condition that holds is seen at once.
const (
	healthNoTimeout = 30 * time.Second
	healthWait      = 30 * time.Second
)

// healthConfig returns a health check configuration whose background
// interval never fires during a test.
func healthConfig(timeout time.Duration, retries int) database.HealthCheckConfig {
	return database.HealthCheckConfig{Interval: time.Hour, Timeout: timeout, Retries: retries}
}

// newHealthChecker returns a checker of db logging to the test logger; it is
// stopped when the test ends.
func newHealthChecker(t *testing.T, db *database.DB, cfg database.HealthCheckConfig, opts ...database.HealthOption) *database.DatabaseHealthChecker {
	t.Helper()
	opts = append([]database.HealthOption{database.WithHealthLogger(dbtest.Logger())}, opts...)
	hc, err := database.NewHealthChecker(db, cfg, opts...)
	if err != nil {
		t.Fatalf("NewHealthChecker: %v", err)
	}
	t.Cleanup(hc.Stop)
	return hc
}

// mustCheck runs a check that must not return an error.
func healthMustCheck(t *testing.T, hc *database.DatabaseHealthChecker) *database.HealthReport {
	t.Helper()
	r, err := hc.Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return r
}

// healthStatus returns the status of the check named name.
func healthStatus(t *testing.T, r *database.HealthReport, name string) database.HealthCheckStatus {
	t.Helper()
	c, ok := r.Result(name)
	if !ok {
		t.Fatalf("report has no %q check: %+v", name, r.Checks)
	}
	return c.Status
}

// openHealthPool opens another pool on the test database with maxOpen
// connections at most; it is closed when the test ends.
func openHealthPool(t *testing.T, tdb *dbtest.TestDB, maxOpen int) *database.DB {
	t.Helper()
	cfg := tdb.Config
	cfg.ConnectionPool.MaxOpenConns, cfg.ConnectionPool.MaxIdleConns = maxOpen, maxOpen
	db, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatalf("open a pool of %d: %v", maxOpen, err)
	}
	t.Cleanup(func() { _ = db.Close() }) // a test may have closed it already
	return db
}

// holdConns takes n connections from db's pool and returns the function
// that gives them back (also called when the test ends).
func healthHoldConns(t *testing.T, db *gorm.DB, n int) (release func()) {
	t.Helper()
	var conns []*sql.Conn
	for range n {
		c, err := healthSQLDB(t, db).Conn(context.Background())
		if err != nil {
			t.Fatalf("take a connection: %v", err)
		}
		conns = append(conns, c)
	}
	release = sync.OnceFunc(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	t.Cleanup(release)
	return release
}

func healthSQLDB(t *testing.T, db *gorm.DB) *sql.DB {
	t.Helper()
	s, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually polls cond until it holds, failing the test after within.
func healthEventually(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition still false after %s", within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assertTimedOut checks a Check that must have failed by running out of
// its timeout, promptly.
func healthAssertTimedOut(t *testing.T, r *database.HealthReport, err error, elapsed, timeout time.Duration) {
	t.Helper()
	if !errors.Is(err, database.ErrUnhealthy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Check error %v, want ErrUnhealthy and context.DeadlineExceeded", err)
	}
	if r.State != database.Unhealthy || healthStatus(t, r, database.HealthCheckQuery) != database.HealthFail {
		t.Errorf("state %s, checks %+v; want unhealthy with a failed query", r.State, r.Checks)
	}
	// What blocks the check (held connections, a lock) is held until the
	// test ends: a check that ignored its timeout would never return. The
	// margin only tells a timely return from that, on a machine as loaded
	// as it may be (the race detector, other test binaries).
	if elapsed < timeout || elapsed > timeout+10*time.Second {
		t.Errorf("Check took %s with a %s timeout, want about the timeout", elapsed, timeout)
	}
}

// gaugeValue reads a gauge.
func healthGaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var pb dto.Metric
	if err := g.Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetGauge().GetValue()
}
