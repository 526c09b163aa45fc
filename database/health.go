package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"socialpredict/database/diagnostics"
	"socialpredict/internal/confkit"
)

// DatabaseHealthChecker checks the database: pool statistics and
// exhaustion, a test query under health_check.timeout with response-time
// percentiles, transaction leaks, and on PostgreSQL blocked, long-running
// and idle-in-transaction sessions. It keeps the consecutive failures that
// health_check.retries counts, and the last report. Its methods are safe
// for concurrent use.
type DatabaseHealthChecker struct {
	db  *DB
	cfg HealthCheckConfig
	o   healthOptions

	mu        sync.Mutex
	failures  int   // consecutive failed test queries
	lastWaits int64 // pool WaitCount at the previous check
	window    []time.Duration
	next      int // where the next sample goes in window, once it is full
	last      *HealthReport

	runMu sync.Mutex
	stop  context.CancelFunc
	done  chan struct{}
}

// NewHealthChecker returns a checker of db configured by cfg (all of its
// fields must be set, as Config.Validate requires) and opts. It returns an
// error matching confkit.ErrInvalid, listing every problem, when cfg or an
// option is invalid.
func NewHealthChecker(db *DB, cfg HealthCheckConfig, opts ...HealthOption) (*DatabaseHealthChecker, error) {
	o := healthOptions{
		maxOpen: -1, log: slog.Default(), leak: 30 * time.Second, longRunning: 30 * time.Second,
		idleInTx: 30 * time.Second, window: 100, testQuery: "SELECT 1",
	}
	if db != nil {
		// The handle's own transactions and metrics, unless opts say otherwise.
		o.tm, o.metrics = db.tm, db.metrics
	}
	for _, opt := range opts {
		opt(&o)
	}
	var errs confkit.Errors
	errs.CheckPositiveDuration("database.health_check.interval", cfg.Interval, maxHealthInterval)
	errs.CheckPositiveDuration("database.health_check.timeout", cfg.Timeout, maxHealthTimeout)
	errs.CheckInt("database.health_check.retries", int64(cfg.Retries), 1, maxHealthRetries)
	errs.CheckPositiveDuration("health checker leak threshold", o.leak, maxHealthThreshold)
	errs.CheckPositiveDuration("health checker long-running threshold", o.longRunning, maxHealthThreshold)
	errs.CheckPositiveDuration("health checker idle-in-transaction threshold", o.idleInTx, maxHealthThreshold)
	errs.CheckInt("health checker window", int64(o.window), 1, maxHealthWindow)
	if strings.TrimSpace(o.testQuery) == "" {
		errs.Add("health checker test query", "must not be empty")
	}
	if db == nil {
		errs.Add("health checker database", "must not be nil")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &DatabaseHealthChecker{db: db, cfg: cfg, o: o, window: make([]time.Duration, 0, o.window)}, nil
}

// healthObservation is what one check measured, before the checker's state
// (consecutive failures, window) is applied.
type healthObservation struct {
	start    time.Time
	pool     PoolHealth
	queryErr error
	queryDur time.Duration
	checks   []HealthCheckResult // every check but query and response_time
	leaks    []LeakedTx
	locks    *diagnostics.LockReport
	replicas []ReplicaStatus
	standbys []StandbyStatus
}

// Check runs every check once, within health_check.timeout in total, and
// returns the report, which also becomes Last's. The report is never nil.
// The error is nil unless the database is Unhealthy: then it matches
// ErrUnhealthy and wraps the test query's error. A cancelled ctx fails the
// test query like any other error, and so does a test query that gets no
// connection from an exhausted pool within the timeout.
func (c *DatabaseHealthChecker) Check(ctx context.Context) (*HealthReport, error) {
	return c.record(c.observe(ctx))
}

// observe runs the checks under one deadline.
func (c *DatabaseHealthChecker) observe(ctx context.Context) healthObservation {
	obs := healthObservation{start: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	poolCheck := c.checkPool(&obs)
	obs.queryDur, obs.queryErr = c.testQuery(ctx)
	obs.checks = append(obs.checks, poolCheck, c.checkTransactions(&obs))
	obs.checks = append(obs.checks, c.checkLocks(ctx, &obs)...)
	if c.db.replicas != nil {
		obs.checks = append(obs.checks, c.checkReplicas(ctx, &obs))
	}
	return obs
}

// checkReplicas reports the replicas' rotation and lag (as last measured
// by the replica set) and the writer's view, pg_stat_replication.
func (c *DatabaseHealthChecker) checkReplicas(ctx context.Context, obs *healthObservation) HealthCheckResult {
	res := HealthCheckResult{Name: HealthCheckReplicas, Status: HealthOK}
	obs.replicas = c.db.replicas.statuses()
	if obs.queryErr == nil {
		start := time.Now()
		var rows []struct {
			ApplicationName, ClientAddr, State string
			ReplayLag                          *float64
		}
		err := c.db.gorm.WithContext(ctx).Raw(`SELECT application_name, COALESCE(client_addr::text, '') AS client_addr,
			COALESCE(state, '') AS state, EXTRACT(EPOCH FROM replay_lag)::float8 AS replay_lag FROM pg_stat_replication ORDER BY 1, 2`).Scan(&rows).Error
		res.Duration = time.Since(start)
		if err == nil {
			for _, r := range rows {
				s := StandbyStatus{ApplicationName: r.ApplicationName, ClientAddr: r.ClientAddr, State: r.State}
				if r.ReplayLag != nil {
					s.ReplayLag = *r.ReplayLag
				}
				obs.standbys = append(obs.standbys, s)
			}
		}
	}
	in := 0
	var out []string
	for _, r := range obs.replicas {
		if r.InRotation {
			in++
		} else {
			out = append(out, r.Name+": "+r.Reason)
		}
	}
	res.Message = fmt.Sprintf("%d of %d replicas in rotation; the writer streams to %d standbys", in, len(obs.replicas), len(obs.standbys))
	if len(out) > 0 {
		res.Status = HealthWarn
		res.Message += "; out of rotation (reads go to the writer): " + strings.Join(out, "; ")
	}
	return res
}

// checkPool reads the pool statistics (before the checker takes a
// connection itself) and the waits since the previous check.
func (c *DatabaseHealthChecker) checkPool(obs *healthObservation) HealthCheckResult {
	res := HealthCheckResult{Name: HealthCheckPool, Status: HealthOK}
	sqlDB, err := c.db.gorm.DB()
	if err != nil {
		res.Status, res.Message = HealthSkipped, "no connection pool: "+err.Error()
		return res
	}
	st := sqlDB.Stats()
	p := PoolHealth{
		MaxOpen: st.MaxOpenConnections, Open: st.OpenConnections, InUse: st.InUse, Idle: st.Idle,
		WaitCount: st.WaitCount, WaitDuration: st.WaitDuration,
	}
	if c.o.maxOpen >= 0 {
		p.MaxOpen = c.o.maxOpen
	}
	c.mu.Lock()
	p.NewWaits = max(st.WaitCount-c.lastWaits, 0)
	c.lastWaits = st.WaitCount
	c.mu.Unlock()
	p.Exhausted = p.MaxOpen > 0 && p.InUse >= p.MaxOpen
	obs.pool = p

	limit := "unlimited"
	if p.MaxOpen > 0 {
		limit = fmt.Sprint(p.MaxOpen)
	}
	res.Message = fmt.Sprintf("%d in use, %d idle, %d open of %s; %d waits since the previous check (%d in all, %s waiting)",
		p.InUse, p.Idle, p.Open, limit, p.NewWaits, p.WaitCount, p.WaitDuration.Round(time.Millisecond))
	if p.Exhausted {
		res.Status = HealthWarn
		res.Message = "exhausted: " + res.Message
	}
	return res
}

// testQuery runs the test query, reading and discarding its rows, and
// returns how long it took.
func (c *DatabaseHealthChecker) testQuery(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	rows, err := c.db.gorm.WithContext(ctx).Raw(c.o.testQuery).Rows()
	if err != nil {
		return time.Since(start), err
	}
	for rows.Next() {
	}
	err = errors.Join(rows.Err(), rows.Close())
	return time.Since(start), err
}

// checkTransactions reports the transactions and connections held past the
// leak threshold.
func (c *DatabaseHealthChecker) checkTransactions(obs *healthObservation) HealthCheckResult {
	res := HealthCheckResult{Name: HealthCheckTransactions, Status: HealthOK}
	// Transactions are tracked by their manager (when given), connections
	// taken outside transactions by the query monitor.
	var held []ActiveTx
	if c.o.tm != nil {
		held = c.o.tm.LongTransactions(c.o.leak)
	}
	held = append(held, c.db.LongConnections(c.o.leak)...)
	// Read the clock after selecting them: each was older than the
	// threshold when it was selected, so HeldFor is never below it.
	now := time.Now()
	slices.SortFunc(held, func(a, b ActiveTx) int { return a.Started.Compare(b.Started) })
	for _, tx := range held {
		obs.leaks = append(obs.leaks, LeakedTx{ActiveTx: tx, HeldFor: now.Sub(tx.Started)})
	}
	if len(obs.leaks) == 0 {
		res.Message = "no transaction or connection held longer than " + c.o.leak.String()
		return res
	}
	res.Status = HealthWarn
	res.Message = fmt.Sprintf("%d transactions or connections held longer than %s (the oldest, a %s, for %s, taken at %s)", len(obs.leaks), c.o.leak,
		obs.leaks[0].Kind,
		obs.leaks[0].HeldFor.Round(time.Millisecond), healthFirstFrame(obs.leaks[0].Stack))
	return res
}

// healthFirstFrame returns the "file:line" of the first frame of a stack
// formatted by formatStack.
func healthFirstFrame(stack string) string {
	lines := strings.SplitN(stack, "\n", 3)
	if len(lines) < 2 {
		return stack
	}
	return strings.TrimSpace(lines[1])
}

// checkLocks inspects the other sessions on PostgreSQL; it returns the
// locks and sessions checks.
func (c *DatabaseHealthChecker) checkLocks(ctx context.Context, obs *healthObservation) []HealthCheckResult {
	locks := HealthCheckResult{Name: HealthCheckLocks, Status: HealthSkipped}
	sessions := HealthCheckResult{Name: HealthCheckSessions, Status: HealthSkipped}
	switch {
	case c.db.Driver() != DriverPostgres:
		locks.Message = "not supported on " + c.db.Driver()
		sessions.Message = locks.Message
		return []HealthCheckResult{locks, sessions}
	case obs.queryErr != nil:
		locks.Message, sessions.Message = "not run: the test query failed", "not run: the test query failed"
		return []HealthCheckResult{locks, sessions}
	}
	start := time.Now()
	rep, err := diagnostics.InspectLocks(ctx, c.db.gorm, diagnostics.LockThresholds{LongRunning: c.o.longRunning, IdleInTransaction: c.o.idleInTx})
	locks.Duration = time.Since(start)
	if err != nil {
		locks.Message = "not run: " + err.Error()
		sessions.Message = locks.Message
		return []HealthCheckResult{locks, sessions}
	}
	obs.locks = &rep
	locks.Status, locks.Message = HealthOK, "no blocked session"
	if n := len(rep.Blocked); n > 0 {
		b := rep.Blocked[0]
		locks.Status = HealthWarn
		locks.Message = fmt.Sprintf("%d blocked sessions: pid %d blocked by %s for %s", n, b.PID, healthPIDs(b.BlockedBy),
			b.Waiting.Round(time.Millisecond))
	}
	sessions.Status = HealthOK
	sessions.Message = fmt.Sprintf("no statement running longer than %s, no session idle in transaction longer than %s",
		c.o.longRunning, c.o.idleInTx)
	if len(rep.LongRunning)+len(rep.IdleInTransaction) > 0 {
		sessions.Status = HealthWarn
		sessions.Message = fmt.Sprintf("%d statements running longer than %s, %d sessions idle in transaction longer than %s",
			len(rep.LongRunning), c.o.longRunning, len(rep.IdleInTransaction), c.o.idleInTx)
	}
	return []HealthCheckResult{locks, sessions}
}

// healthPIDs formats process ids as "12, 34".
func healthPIDs(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ", ")
}

// record applies an observation to the checker's state and publishes the
// report.
func (c *DatabaseHealthChecker) record(obs healthObservation) (*HealthReport, error) {
	r := &HealthReport{
		Driver: c.db.Driver(), CheckedAt: obs.start.UTC(), Retries: c.cfg.Retries,
		Pool: obs.pool, LongTransactions: obs.leaks, Locks: obs.locks, Replicas: obs.replicas, Standbys: obs.standbys,
	}
	query := HealthCheckResult{Name: HealthCheckQuery, Status: HealthOK, Duration: obs.queryDur}
	if obs.queryErr != nil {
		query.Status, query.Message = HealthFail, c.describeQueryError(obs)
	} else {
		query.Message = fmt.Sprintf("%q answered in %s", c.o.testQuery, obs.queryDur.Round(time.Microsecond))
	}

	c.mu.Lock()
	if obs.queryErr != nil {
		c.failures++
	} else {
		c.failures = 0
		c.addSample(obs.queryDur)
	}
	r.ConsecutiveFailures = c.failures
	r.ResponseTime = c.responseTimes()
	c.mu.Unlock()
	if obs.queryErr == nil {
		r.ResponseTime.Last = obs.queryDur
	}

	rt := HealthCheckResult{Name: HealthCheckResponseTime, Status: HealthOK}
	if r.ResponseTime.Samples == 0 {
		rt.Status, rt.Message = HealthSkipped, "no successful test query yet"
	} else {
		t := r.ResponseTime
		rt.Message = fmt.Sprintf("p50 %s, p95 %s, p99 %s over the last %d test queries", t.P50.Round(time.Microsecond),
			t.P95.Round(time.Microsecond), t.P99.Round(time.Microsecond), t.Samples)
	}
	r.Checks = append([]HealthCheckResult{obs.checks[0], query, rt}, obs.checks[1:]...)

	r.State = Healthy
	for _, ch := range r.Checks {
		if ch.Status == HealthWarn || ch.Status == HealthFail {
			r.State = Degraded
		}
	}
	if r.ConsecutiveFailures >= c.cfg.Retries {
		r.State = Unhealthy
	}
	r.Duration = time.Since(obs.start)
	c.publish(r)

	if r.State == Unhealthy {
		return r, fmt.Errorf("%w: test query failed %d times in a row: %w", ErrUnhealthy, r.ConsecutiveFailures, obs.queryErr)
	}
	return r, nil
}

// describeQueryError explains a failed test query.
func (c *DatabaseHealthChecker) describeQueryError(obs healthObservation) string {
	msg := obs.queryErr.Error()
	if errors.Is(obs.queryErr, context.DeadlineExceeded) {
		msg = fmt.Sprintf("no answer within %s (health_check.timeout): %s", c.cfg.Timeout, msg)
		if obs.pool.Exhausted {
			msg += " (the pool was exhausted: the test query waited for a connection)"
		}
	}
	return msg
}

// addSample adds a test query time to the sliding window; c.mu is held.
func (c *DatabaseHealthChecker) addSample(d time.Duration) {
	if len(c.window) < cap(c.window) {
		c.window = append(c.window, d)
		return
	}
	c.window[c.next] = d
	c.next = (c.next + 1) % len(c.window)
}

// responseTimes computes the percentiles of the window; c.mu is held.
func (c *DatabaseHealthChecker) responseTimes() ResponseTimes {
	sorted := slices.Clone(c.window)
	slices.Sort(sorted)
	return ResponseTimes{
		Samples: len(sorted),
		P50:     healthPercentile(sorted, 50), P95: healthPercentile(sorted, 95), P99: healthPercentile(sorted, 99),
	}
}

// healthPercentile returns the nearest-rank p-th percentile of sorted (0
// when it is empty).
func healthPercentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// publish makes r the last report, updates the metrics and logs a change of
// state.
func (c *DatabaseHealthChecker) publish(r *HealthReport) {
	c.mu.Lock()
	prev := HealthState("unknown") // no check yet
	if c.last != nil {
		prev = c.last.State
	}
	if c.last == nil || !r.CheckedAt.Before(c.last.CheckedAt) {
		c.last = r
	}
	c.mu.Unlock()

	if m := c.o.metrics; m != nil {
		for _, s := range HealthStates {
			v := 0.0
			if s == r.State {
				v = 1
			}
			m.HealthStatus.WithLabelValues(string(s)).Set(v)
		}
		m.HealthCheckDuration.Observe(r.Duration.Seconds())
	}
	if r.State == prev || (prev == "unknown" && r.State == Healthy) {
		return
	}
	var problems []string
	for _, ch := range r.Checks {
		if ch.Status == HealthWarn || ch.Status == HealthFail {
			problems = append(problems, ch.Name+": "+ch.Message)
		}
	}
	level := slog.LevelWarn
	if r.State == Healthy {
		level = slog.LevelInfo
	}
	c.o.log.Log(context.Background(), level, "database health changed", "from", prev, "to", r.State,
		"problems", strings.Join(problems, "; "))
}
