package database

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Option changes how NewDatabase opens the database.
type Option func(*options)

type options struct {
	log       *slog.Logger
	now       func() time.Time
	metrics   *Metrics
	noMonitor bool
}

// WithMetrics records query, pool and transaction metrics in m.
func WithMetrics(m *Metrics) Option {
	return func(o *options) { o.metrics = m }
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

// NewDatabase opens the database cfg describes and returns it once a first
// connection works, with the pool configured from cfg.ConnectionPool.
//
// The first connection is retried up to cfg.ConnectRetry.Attempts times with
// capped exponential backoff and jitter, logging one line per attempt (with
// the password redacted). It returns an error matching confkit.ErrInvalid
// when cfg is invalid, one matching errs.ErrUnavailable (and naming host:port)
// when every attempt failed, and ctx's error when ctx ends first. No error or
// log line contains the password.
//
// On SQLite the writers of the returned handle queue in arrival order
// before they take SQLite's write lock (see the WriteQueueName plugin and
// TransactionManager); readers do not queue.
func NewDatabase(ctx context.Context, cfg Config, opts ...Option) (*gorm.DB, error) {
	o := options{log: slog.Default(), now: func() time.Time { return time.Now().UTC() }}
	for _, opt := range opts {
		opt(&o)
	}
	cfg.Driver = cfg.driver()
	cfg.Resolve(func(string) bool { return false })
	if err := cfg.Validate(); err != nil {
		return nil, err
	}

	var (
		sqlDB     *sql.DB
		dialector gorm.Dialector
		err       error
	)
	switch cfg.Driver {
	case DriverPostgres:
		sqlDB, dialector, err = openPostgres(cfg)
	default:
		sqlDB, dialector, err = openSQLite(cfg)
	}
	if err != nil {
		return nil, redact(fmt.Errorf("open %s: %w", cfg.Target(), err), cfg.Password)
	}
	applyPool(sqlDB, cfg.ConnectionPool)

	if err := connectWithRetry(ctx, sqlDB, cfg, o.log); err != nil {
		sqlDB.Close()
		return nil, err
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:               gormLogger(o.log, cfg.Monitoring),
		NowFunc:              o.now,
		DisableAutomaticPing: true,
	})
	if err != nil {
		sqlDB.Close()
		return nil, redact(fmt.Errorf("initialise gorm for %s: %w", cfg.Target(), err), cfg.Password)
	}
	if !o.noMonitor {
		mon := NewQueryMonitor(cfg.Monitoring, o.log.With("component", "query_monitor"), o.metrics)
		if cfg.Monitoring.ExplainSlowQueries && cfg.Driver == DriverPostgres {
			mon.explain = explainInBackground(db, o.log.With("component", "query_monitor"))
		}
		if err := db.Use(mon); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("install the query monitor: %w", err)
		}
	}
	if cfg.Driver == DriverSQLite {
		// After the monitor: writers queue here before BEGIN (see writeQueue).
		if err := db.Use(newWriteQueue(cfg.SQLite.BusyTimeout, o.metrics)); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("install the write queue: %w", err)
		}
	}
	if o.metrics != nil {
		o.metrics.RegisterPool(sqlDB, cfg.Address())
	}
	return db, nil
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

// Close closes the connection pool behind db. It returns the pool's error.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
