package database

import (
	"log/slog"
	"time"
)

// HealthOption configures a DatabaseHealthChecker.
type HealthOption func(*healthOptions)

type healthOptions struct {
	maxOpen     int // -1: the pool's own limit
	tm          *TransactionManager
	metrics     *Metrics
	log         *slog.Logger
	leak        time.Duration
	longRunning time.Duration
	idleInTx    time.Duration
	window      int
	testQuery   string
}

// WithHealthMaxOpenConns sets the pool size exhaustion is measured against
// (connection_pool.max_open_conns; default: the pool's own limit).
func WithHealthMaxOpenConns(n int) HealthOption { return func(o *healthOptions) { o.maxOpen = n } }

// WithHealthTransactions enables transaction leak detection on the
// transactions tm runs.
func WithHealthTransactions(tm *TransactionManager) HealthOption {
	return func(o *healthOptions) { o.tm = tm }
}

// WithHealthMetrics sets db_health_status and observes
// db_health_check_duration_seconds on m after every check (default: none).
func WithHealthMetrics(m *Metrics) HealthOption { return func(o *healthOptions) { o.metrics = m } }

// WithHealthLogger logs changes of state to log (default slog.Default()).
func WithHealthLogger(log *slog.Logger) HealthOption { return func(o *healthOptions) { o.log = log } }

// WithHealthLeakThreshold reports transactions held longer than d (default
// 30s) as leaked.
func WithHealthLeakThreshold(d time.Duration) HealthOption {
	return func(o *healthOptions) { o.leak = d }
}

// WithHealthLongRunning reports statements running longer than d (default
// 30s) on PostgreSQL.
func WithHealthLongRunning(d time.Duration) HealthOption {
	return func(o *healthOptions) { o.longRunning = d }
}

// WithHealthIdleInTransaction reports sessions idle inside a transaction
// for longer than d (default 30s) on PostgreSQL.
func WithHealthIdleInTransaction(d time.Duration) HealthOption {
	return func(o *healthOptions) { o.idleInTx = d }
}

// WithHealthWindow sets how many recent test query times the percentiles
// are computed over (default 100).
func WithHealthWindow(n int) HealthOption { return func(o *healthOptions) { o.window = n } }

// WithHealthTestQuery replaces the test query (default "SELECT 1"), for
// instance with one that reads a table the service cannot work without.
// Its rows are read and discarded.
func WithHealthTestQuery(sql string) HealthOption {
	return func(o *healthOptions) { o.testQuery = sql }
}
