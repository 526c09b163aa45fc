package database

import (
	"database/sql"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm/logger"
)

// Option changes how NewDatabase opens the database.
type Option func(*options)

type options struct {
	log       *slog.Logger
	now       func() time.Time
	metrics   *Metrics
	registry  prometheus.Registerer
	noMonitor bool
	skip      []string
}

// WithMetrics records query, pool and transaction metrics in m (created on
// the registry of the caller's choosing).
func WithMetrics(m *Metrics) Option {
	return func(o *options) { o.metrics = m }
}

// WithRegistry registers the handle's metrics on reg. Without it (and
// without WithMetrics) the handle creates a registry of its own: see
// DB.Gatherer.
func WithRegistry(reg prometheus.Registerer) Option {
	return func(o *options) { o.registry = reg }
}

// WithCallerPackages adds package path prefixes (e.g. "example.com/app/store.")
// whose frames the query monitor skips when it names the code that ran a
// statement, besides GORM's, the drivers' and this data layer's.
func WithCallerPackages(prefixes ...string) Option {
	return func(o *options) { o.skip = append(o.skip, prefixes...) }
}

// WithoutQueryMonitor leaves the query monitor out (no metrics, slow query
// log or N+1 detection): for benchmarks that measure its cost.
func WithoutQueryMonitor() Option {
	return func(o *options) { o.noMonitor = true }
}

// WithLogger sends connection and query logs to log instead of slog.Default().
func WithLogger(log *slog.Logger) Option {
	return func(o *options) { o.log = log }
}

// WithNowFunc makes GORM read the time from now (for created_at and similar
// columns), so tests can control the clock. The default is time.Now in UTC.
func WithNowFunc(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// applyPool applies the pool settings; they show in sql.DB.Stats().
func applyPool(db *sql.DB, p PoolConfig) {
	db.SetMaxOpenConns(p.MaxOpenConns)
	db.SetMaxIdleConns(p.MaxIdleConns)
	db.SetConnMaxLifetime(p.ConnMaxLifetime)
	db.SetConnMaxIdleTime(p.ConnMaxIdleTime)
}

// gormLogger logs GORM's messages (errors, and every statement when query
// logging is on) through slog. Query parameters are never logged: they can
// hold personal data.
func gormLogger(log *slog.Logger, m MonitoringConfig) logger.Interface {
	level := map[string]logger.LogLevel{
		"silent": logger.Silent, "error": logger.Error, "warn": logger.Warn, "info": logger.Info,
	}[m.LogLevel]
	if m.EnableQueryLogging {
		level = logger.Info
	}
	return logger.NewSlogLogger(log.With("component", "gorm"), logger.Config{
		LogLevel:                  level,
		SlowThreshold:             0, // the query monitor logs slow queries
		ParameterizedQueries:      true,
		IgnoreRecordNotFoundError: true,
	})
}
