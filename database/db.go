package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// DB is the database handle: it owns the GORM connection pool, the query
// monitor, the transaction manager, the Prometheus metrics and the health
// checker of one database. Everything above this package takes a *DB
// (repositories, the data access layer, the CLI), never a bare *gorm.DB.
//
// A DB may be bound to a transaction (see Bind): its Conn, Raw and Context
// then run in that transaction even when the context does not carry it.
// Its methods are safe for concurrent use.
type DB struct {
	*shared
	// tx is the transaction this handle is bound to (nil: the pool).
	tx *txState
	// now overrides the clock of GORM's NowFunc for this handle (nil: the
	// database's, see WithNowFunc).
	now func() time.Time
}

// shared is what every handle of one database, bound or not, shares.
type shared struct {
	gorm     *gorm.DB
	sqlDB    *sql.DB // the writer's pool, under gorm
	cfg      Config
	log      *slog.Logger
	monitor  *QueryMonitor // nil without the monitor
	metrics  *Metrics
	gatherer prometheus.Gatherer // nil when the registry was passed in
	tm       *TransactionManager
	health   *DatabaseHealthChecker
	// replicas are the streaming replicas (nil: none configured).
	replicas *replicaSet
	// groups are the group commits by name (see GroupOf).
	groups sync.Map
}

// NewDatabase opens the database cfg describes and returns its handle once a
// first connection works, with the pool configured from cfg.ConnectionPool,
// the query monitor installed (unless WithoutQueryMonitor), metrics
// registered (see WithRegistry and WithMetrics), a transaction manager
// retrying as cfg.TransactionRetry says, and a health checker configured by
// cfg.HealthCheck. Close it with Close.
//
// The first connection is retried up to cfg.ConnectRetry.Attempts times with
// capped exponential backoff and jitter, logging one line per attempt (with
// the password redacted). It returns an error matching confkit.ErrInvalid
// when cfg is invalid, one matching errs.ErrUnavailable (and naming
// host:port) when every attempt failed, and ctx's error when ctx ends first.
// No error or log line contains the password.
//
// On SQLite the writers of the returned handle queue in arrival order
// before they take SQLite's write lock (see the WriteQueueName plugin and
// TransactionManager); readers do not queue.
func NewDatabase(ctx context.Context, cfg Config, opts ...Option) (*DB, error) {
	o := options{log: slog.Default(), now: func() time.Time { return time.Now().UTC() }}
	for _, opt := range opts {
		opt(&o)
	}
	cfg.Driver = cfg.driver()
	cfg.Resolve(func(string) bool { return false })
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &shared{cfg: cfg, log: o.log, metrics: o.metrics}
	if s.metrics == nil {
		reg := o.registry
		if reg == nil {
			r := prometheus.NewRegistry()
			reg, s.gatherer = r, r
		}
		s.metrics = NewMetrics(reg)
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
	s.gorm, s.sqlDB = db, sqlDB
	if !o.noMonitor {
		mon := NewQueryMonitor(cfg.Monitoring, o.log.With("component", "query_monitor"), s.metrics, o.skip...)
		if cfg.Monitoring.ExplainSlowQueries && cfg.Driver == DriverPostgres {
			mon.explain = explainInBackground(db, o.log.With("component", "query_monitor"), cfg.Monitoring.LogQueryArgs)
		}
		if err := db.Use(mon); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("install the query monitor: %w", err)
		}
		s.monitor = mon
	}
	if cfg.Driver == DriverSQLite {
		// After the monitor: writers queue here before BEGIN (see writeQueue).
		if err := db.Use(newWriteQueue(cfg.SQLite.BusyTimeout, s.metrics)); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("install the write queue: %w", err)
		}
	}
	s.metrics.RegisterPool(sqlDB, cfg.Address())
	if len(cfg.Replicas) > 0 && cfg.Driver == DriverPostgres {
		if s.replicas, err = openReplicas(ctx, cfg, o, s.monitor, s.metrics); err != nil {
			sqlDB.Close()
			return nil, err
		}
		if err := db.Use(writeTracking{rs: s.replicas}); err != nil {
			s.replicas.close()
			sqlDB.Close()
			return nil, fmt.Errorf("install the write tracking: %w", err)
		}
	}
	r := cfg.TransactionRetry
	s.tm = NewTransactionManager(db, WithTxLogger(o.log), WithTxObserver(s.metrics),
		WithRetry(r.Attempts, Backoff{Initial: r.InitialBackoff, Max: r.MaxBackoff}))
	if s.replicas != nil {
		s.tm.writes = s.replicas.beginWrite
	}
	handle := &DB{shared: s}
	s.health, err = NewHealthChecker(handle, cfg.HealthCheck, WithHealthMaxOpenConns(cfg.ConnectionPool.MaxOpenConns),
		WithHealthLogger(o.log.With("component", "health")))
	if err != nil {
		if s.replicas != nil {
			s.replicas.close()
		}
		sqlDB.Close()
		return nil, err
	}
	return handle, nil
}

// GormDB returns the GORM handle: the pool, or the transaction the handle is
// bound to. For the packages that own SQL (repositories, migrations,
// diagnostics) only.
func (db *DB) GormDB() *gorm.DB {
	g := db.gorm
	if db.tx != nil {
		g = db.tx.tx
	}
	return db.clocked(g)
}

// clocked returns g reading the time from the handle's clock.
func (db *DB) clocked(g *gorm.DB) *gorm.DB {
	if db.now == nil {
		return g
	}
	return g.Session(&gorm.Session{NowFunc: db.now})
}

// WithClock returns the handle (bound as db is) reading the time from now:
// GORM's timestamps, and the services built on it (see Now). For tests and
// tools that need a clock of their own; the database's is WithNowFunc's.
func (db *DB) WithClock(now func() time.Time) *DB {
	return &DB{shared: db.shared, tx: db.tx, now: now}
}

// Driver returns the engine's name: DriverPostgres or DriverSQLite.
func (db *DB) Driver() string { return db.cfg.Driver }

// Config returns the configuration the database was opened with (its
// password included: never log it; see Config.RedactedDSN).
func (db *DB) Config() Config { return db.cfg }

// Logger returns the logger the handle logs to.
func (db *DB) Logger() *slog.Logger { return db.log }

// Now returns the current time by the handle's clock (see WithNowFunc and
// WithClock), in UTC: the one clock of GORM's timestamps and of the
// services.
func (db *DB) Now() time.Time {
	if db.now != nil {
		return db.now().UTC()
	}
	return db.gorm.NowFunc().UTC()
}

// Transactions returns the transaction manager.
func (db *DB) Transactions() *TransactionManager { return db.tm }

// Metrics returns the handle's Prometheus collectors.
func (db *DB) Metrics() *Metrics { return db.metrics }

// Gatherer returns the registry the handle created for its metrics, or nil
// when the caller passed one in (WithRegistry, WithMetrics): serve it on
// /metrics.
func (db *DB) Gatherer() prometheus.Gatherer { return db.gatherer }

// Monitor returns the query monitor, or nil (WithoutQueryMonitor).
func (db *DB) Monitor() *QueryMonitor { return db.monitor }

// Health returns the health checker, configured by health_check.
func (db *DB) Health() *DatabaseHealthChecker { return db.health }

// Close stops the health checker's background checks and closes the pool.
// It returns the pool's error.
func (db *DB) Close() error {
	db.health.Stop()
	var replicaErr error
	if db.replicas != nil {
		replicaErr = db.replicas.close()
	}
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	return errors.Join(sqlDB.Close(), replicaErr)
}

// Replicas returns the state of each streaming replica as last measured
// (nil when none is configured).
func (db *DB) Replicas() []ReplicaStatus {
	if db.replicas == nil {
		return nil
	}
	return db.replicas.statuses()
}

// Bind returns the handle bound to the transaction ctx carries (db itself
// when ctx carries none): what runs through the bound handle joins that
// transaction, whatever context it is called with.
func (db *DB) Bind(ctx context.Context) *DB {
	s := txFrom(ctx)
	if s == nil || s == db.tx {
		return db
	}
	return &DB{shared: db.shared, tx: s, now: db.now}
}

// Context returns ctx carrying the transaction the handle is bound to, when
// ctx carries none: pass it to the transaction manager so that a bound
// handle's transactions nest.
func (db *DB) Context(ctx context.Context) context.Context {
	if db.tx != nil && txFrom(ctx) == nil {
		return context.WithValue(ctx, txKey{}, db.tx)
	}
	return ctx
}

// InTransaction reports whether work run with ctx through the handle runs
// in a transaction (ctx's, or the one the handle is bound to).
func (db *DB) InTransaction(ctx context.Context) bool { return InTransaction(db.Context(ctx)) }

// Conn returns the GORM handle to run a query with: the transaction ctx
// carries, or the one the handle is bound to, or, outside a transaction,
// a streaming replica's pool when ctx is marked StaleOK and the routing
// rules allow it (see StaleOK), or else the writer's pool; bound to ctx.
// Repositories start every query from it.
func (db *DB) Conn(ctx context.Context) *gorm.DB {
	ctx = db.Context(ctx)
	if db.replicas != nil && txFrom(ctx) == nil {
		if r := db.replicas.route(ctx); r != nil {
			return db.clocked(r.gorm.WithContext(ctx))
		}
	}
	return db.clocked(Conn(ctx, db.gorm))
}

// Raw runs fn with the driver connection under the transaction ctx carries
// or the handle is bound to (a *stdlib.Conn for PostgreSQL, for pgx's
// CopyFrom), or under a connection taken from the pool, tracked for leaks
// while fn holds it. It returns fn's error, or the error of taking a
// connection.
func (db *DB) Raw(ctx context.Context, fn func(driverConn any) error) error {
	ctx = db.Context(ctx)
	if s := txFrom(ctx); s != nil {
		return s.conn.Raw(fn)
	}
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return poolTimeout(ctx, err)
	}
	defer conn.Close()
	if db.monitor != nil {
		id := db.monitor.held.add()
		defer db.monitor.held.remove(id)
	}
	return conn.Raw(fn)
}

// Observe records a statement run outside GORM (straight through pgx) as
// the query monitor records GORM's: call it with the statement's start time
// and error. It does nothing without a monitor.
func (db *DB) Observe(ctx context.Context, sql string, table string, rows int64, start time.Time, err error) {
	if db.monitor != nil {
		db.monitor.observe(ctx, sql, nil, table, rows, start, err)
	}
}

// ObserveShared counts, in the units of work of ctx (see WithQueryScope), a
// statement run on behalf of ctx and others together and recorded once with
// Observe on another context (a group commit's batch): it adds no metrics.
// It does nothing without a monitor or outside a unit of work.
func (db *DB) ObserveShared(ctx context.Context, sql string, table string) {
	if db.monitor == nil {
		return
	}
	if scope := scopeFrom(ctx); scope != nil {
		db.monitor.inScopes(ctx, scope, db.monitor.callSite(), sql, operation(sql), table)
	}
}

// LongConnections returns the connections taken from the pool through Raw
// (outside a transaction) and held for longer than d, oldest first, each
// with the stack of the code that took it.
func (db *DB) LongConnections(d time.Duration) []ActiveTx {
	if db.monitor == nil {
		return nil
	}
	return db.monitor.held.olderThan(d)
}

// WriteQueueWaiting returns how many writers wait in the SQLite write queue
// (0 on PostgreSQL).
func (db *DB) WriteQueueWaiting() int {
	if q := writeQueueOf(db.gorm); q != nil {
		return q.waiting()
	}
	return 0
}
