package database

import (
	"fmt"
	"time"

	"socialpredict/internal/confkit"
)

// The upper bounds of the numeric keys, as documented in their `doc` tags:
// generous for any real deployment, and small enough that no arithmetic on
// them (a backoff doubled, a timeout added to now) can overflow.
const (
	maxBusyTimeout     = time.Hour
	maxOpenConns       = 10_000
	maxConnAge         = 365 * 24 * time.Hour // conn_max_lifetime, conn_max_idle_time
	maxConnectAttempts = 1000
	maxConnectWait     = time.Hour // connect_retry backoffs and attempt_timeout
	maxTxAttempts      = 100
	maxTxBackoff       = time.Minute
	maxSlowQuery       = 24 * time.Hour
	maxNPlusOne        = 1_000_000
	maxHealthInterval  = 24 * time.Hour
	maxHealthTimeout   = time.Hour
	maxHealthRetries   = 1000
	maxGroupBatch      = 1000
	maxGroupInFlight   = 10_000
	// The health checker's own options (set in code, not configured).
	maxHealthThreshold = 7 * 24 * time.Hour
	maxHealthWindow    = 1_000_000
)

// validateNumbers adds a problem for every number and duration of c outside
// its range.
func (c Config) validateNumbers(errs *confkit.Errors) {
	const k = "database."
	errs.CheckDuration(k+"sqlite.busy_timeout", c.SQLite.BusyTimeout, 0, maxBusyTimeout)
	errs.CheckDuration(k+"max_replica_lag", c.MaxReplicaLag, 100*time.Millisecond, time.Hour)
	errs.CheckDuration(k+"replica_check_interval", c.ReplicaCheckInterval, 100*time.Millisecond, time.Hour)
	errs.CheckDuration(k+"read_your_writes", c.ReadYourWrites, 0, time.Hour)

	p := c.ConnectionPool
	errs.CheckInt(k+"connection_pool.max_open_conns", int64(p.MaxOpenConns), 1, maxOpenConns)
	if p.MaxIdleConns < 0 {
		errs.CheckInt(k+"connection_pool.max_idle_conns", int64(p.MaxIdleConns), 0, int64(max(p.MaxOpenConns, 0)))
	} else if p.MaxOpenConns >= 1 && p.MaxIdleConns > p.MaxOpenConns {
		errs.Add(k+"connection_pool.max_idle_conns", fmt.Sprintf("must not exceed connection_pool.max_open_conns (%d), got %d", p.MaxOpenConns, p.MaxIdleConns))
	}
	errs.CheckDuration(k+"connection_pool.conn_max_lifetime", p.ConnMaxLifetime, 0, maxConnAge)
	errs.CheckDuration(k+"connection_pool.conn_max_idle_time", p.ConnMaxIdleTime, 0, maxConnAge)

	r := c.ConnectRetry
	errs.CheckInt(k+"connect_retry.attempts", int64(r.Attempts), 1, maxConnectAttempts)
	errs.CheckPositiveDuration(k+"connect_retry.initial_backoff", r.InitialBackoff, maxConnectWait)
	errs.CheckPositiveDuration(k+"connect_retry.attempt_timeout", r.AttemptTimeout, maxConnectWait)
	maxBackoff(errs, "connect_retry", r.InitialBackoff, r.MaxBackoff, maxConnectWait)

	g := c.GroupCommit
	errs.CheckInt(k+"group_commit.max_batch", int64(g.MaxBatch), 1, maxGroupBatch)
	errs.CheckInt(k+"group_commit.max_in_flight", int64(g.MaxInFlight), 0, maxGroupInFlight)

	t := c.TransactionRetry
	errs.CheckInt(k+"transaction_retry.attempts", int64(t.Attempts), 1, maxTxAttempts)
	errs.CheckPositiveDuration(k+"transaction_retry.initial_backoff", t.InitialBackoff, maxTxBackoff)
	maxBackoff(errs, "transaction_retry", t.InitialBackoff, t.MaxBackoff, maxTxBackoff)

	errs.CheckDuration(k+"monitoring.slow_query_threshold", c.Monitoring.SlowQueryThreshold, 0, maxSlowQuery)
	errs.CheckInt(k+"monitoring.n_plus_one_threshold", int64(c.Monitoring.NPlusOneThreshold), 0, maxNPlusOne)
	errs.CheckInt(k+"monitoring.recent_slow_queries", int64(c.Monitoring.RecentSlowQueries), 0, maxRecent)
	errs.CheckInt(k+"monitoring.recent_n_plus_one", int64(c.Monitoring.RecentNPlusOne), 0, maxRecent)

	h := c.HealthCheck
	errs.CheckPositiveDuration(k+"health_check.interval", h.Interval, maxHealthInterval)
	errs.CheckPositiveDuration(k+"health_check.timeout", h.Timeout, maxHealthTimeout)
	errs.CheckInt(k+"health_check.retries", int64(h.Retries), 1, maxHealthRetries)
}

// maxBackoff checks section.max_backoff: at least section.initial_backoff,
// at most hi.
func maxBackoff(errs *confkit.Errors, section string, initial, maxWait, hi time.Duration) {
	key := "database." + section + ".max_backoff"
	if maxWait < initial {
		errs.Add(key, fmt.Sprintf("must be at least %s.initial_backoff (%s), got %s", section, confkit.FormatDuration(initial), confkit.FormatDuration(maxWait)))
		return
	}
	errs.CheckDuration(key, maxWait, 0, hi)
}
