package database

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"modernc.org/sqlite"
)

// QueryMonitorName is the name the query monitor plugin registers under.
const QueryMonitorName = "socialpredict:query_monitor"

// QueryMonitor is a GORM plugin that watches every statement: latency and
// error metrics, the slow query log, and N+1 detection within a QueryScope.
// Install it with db.Use (NewDatabase does).
type QueryMonitor struct {
	// held tracks connections taken from the pool through Raw.
	held    activeSet
	cfg     MonitoringConfig
	log     *slog.Logger
	metrics *Metrics
	system  string
	// explain captures the plan of a slow SELECT (nil: off).
	explain func(ctx context.Context, sql string, vars []any)
}

// NewQueryMonitor returns a monitor configured by cfg; metrics may be nil.
func NewQueryMonitor(cfg MonitoringConfig, log *slog.Logger, metrics *Metrics) *QueryMonitor {
	return &QueryMonitor{cfg: cfg, log: log, metrics: metrics, held: activeSet{kind: "connection"}}
}

// monitorOf returns the monitor installed on db, or nil.
func monitorOf(db *gorm.DB) *QueryMonitor {
	m, _ := db.Config.Plugins[QueryMonitorName].(*QueryMonitor)
	return m
}

// LongConnections returns the connections taken from db's pool through Raw
// (outside a transaction) and held for longer than d, oldest first, each
// with the stack of the code that took it; none when db has no monitor.
func LongConnections(db *gorm.DB, d time.Duration) []ActiveTx {
	if m := monitorOf(db); m != nil {
		return m.held.olderThan(d)
	}
	return nil
}

// Name identifies the plugin.
func (m *QueryMonitor) Name() string { return QueryMonitorName }

// startKey keys a statement's start time in its Settings. A constant key is
// enough: Before always writes it before After of the same execution reads.
type startKey struct{}

// Initialize registers the monitor's callbacks around every GORM processor.
func (m *QueryMonitor) Initialize(db *gorm.DB) error {
	m.system = "sqlite"
	if db.Dialector.Name() == DriverPostgres {
		m.system = "postgresql"
	}
	before := func(tx *gorm.DB) { tx.Statement.Settings.Store(startKey{}, time.Now()) }
	after := func(tx *gorm.DB) {
		start, ok := tx.Statement.Settings.Load(startKey{})
		if !ok {
			return
		}
		st := tx.Statement
		m.observe(st.Context, st.SQL.String(), st.Vars, st.Table, tx.RowsAffected, start.(time.Time), tx.Error)
	}
	cb := db.Callback()
	for _, reg := range []func() error{
		func() error { return cb.Create().Before("*").Register(QueryMonitorName+":before", before) },
		func() error { return cb.Create().After("*").Register(QueryMonitorName+":after", after) },
		func() error { return cb.Query().Before("*").Register(QueryMonitorName+":before", before) },
		func() error { return cb.Query().After("*").Register(QueryMonitorName+":after", after) },
		func() error { return cb.Update().Before("*").Register(QueryMonitorName+":before", before) },
		func() error { return cb.Update().After("*").Register(QueryMonitorName+":after", after) },
		func() error { return cb.Delete().Before("*").Register(QueryMonitorName+":before", before) },
		func() error { return cb.Delete().After("*").Register(QueryMonitorName+":after", after) },
		func() error { return cb.Row().Before("*").Register(QueryMonitorName+":before", before) },
		func() error { return cb.Row().After("*").Register(QueryMonitorName+":after", after) },
		func() error { return cb.Raw().Before("*").Register(QueryMonitorName+":before", before) },
		func() error { return cb.Raw().After("*").Register(QueryMonitorName+":after", after) },
	} {
		if err := reg(); err != nil {
			return err
		}
	}
	return nil
}

// Observe records a statement run outside GORM (straight through pgx) as
// the plugin records GORM's: call it with the statement's start time and
// error. It does nothing when db has no monitor installed.
func Observe(ctx context.Context, db *gorm.DB, sql string, table string, rows int64, start time.Time, err error) {
	if m := monitorOf(db); m != nil {
		m.observe(ctx, sql, nil, table, rows, start, err)
	}
}

func (m *QueryMonitor) observe(ctx context.Context, sql string, vars []any, table string, rows int64, start time.Time, err error) {
	if sql == "" {
		return
	}
	d := time.Since(start)
	op := operation(sql)
	if table == "" {
		table = "raw"
	}
	if m.metrics != nil {
		m.metrics.QueryDuration.WithLabelValues(m.system, op, table).Observe(d.Seconds())
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			m.metrics.QueryErrors.WithLabelValues(m.system, errorClass(err)).Inc()
		}
	}
	var caller string
	scope := scopeFrom(ctx)
	slow := m.cfg.SlowQueryThreshold > 0 && d >= m.cfg.SlowQueryThreshold
	if scope != nil || slow {
		caller = callSite()
	}
	if slow {
		if m.metrics != nil {
			m.metrics.SlowQueries.WithLabelValues(m.system, op, table).Inc()
		}
		attrs := []any{"sql", truncate(sql, 2000), "duration", d, "rows", rows, "caller", caller}
		if id := OperationID(ctx); id != "" {
			attrs = append(attrs, "operation_id", id)
		}
		if m.cfg.LogQueryArgs {
			attrs = append(attrs, "args", vars)
		}
		if err != nil {
			attrs = append(attrs, "error", err)
		}
		m.log.WarnContext(ctx, "slow query", attrs...)
		if m.explain != nil && op == "select" {
			m.explain(context.WithoutCancel(ctx), sql, vars)
		}
	}
	for ; scope != nil; scope = scope.parent {
		if f := scope.record(caller, sql, m.cfg.NPlusOneThreshold); f != nil {
			if m.metrics != nil {
				m.metrics.NPlusOne.WithLabelValues(m.system, op, table).Inc()
			}
			attrs := []any{"caller", f.Caller, "count", f.Count, "sql", truncate(sql, 500)}
			if id := OperationID(ctx); id != "" {
				attrs = append(attrs, "operation_id", id)
			}
			m.log.WarnContext(ctx, "N+1 query pattern", attrs...)
		}
	}
}

// operation is the statement's kind, for a low-cardinality label.
func operation(sql string) string {
	s := strings.TrimLeftFunc(sql, unicode.IsSpace)
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(s)
	}
	switch w := strings.ToLower(s[:end]); w {
	case "select", "insert", "update", "delete", "with":
		return w
	default:
		return "other"
	}
}

// errorClass is the SQLSTATE class of a PostgreSQL error ("23"), the
// primary result code of a SQLite one ("sqlite_19"), or "canceled"/"other".
func errorClass(err error) string {
	var pgErr *pgconn.PgError
	var liteErr *sqlite.Error
	switch {
	case errors.As(err, &pgErr) && len(pgErr.Code) >= 2:
		return pgErr.Code[:2]
	case errors.As(err, &liteErr):
		return "sqlite_" + strconv.Itoa(liteErr.Code()&0xff)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "other"
}

// callSite returns file:line of the first caller outside GORM and the data
// layer packages: the code that asked for the data. What each program
// counter resolves to is cached, so that a query costs a stack walk but no
// symbol lookups.
func callSite() string {
	// Most call sites are within the first 24 frames (GORM's and the data
	// layer's); look deeper only when they are not.
	for _, depth := range []int{24, 96} {
		buf := make([]uintptr, depth)
		pcs := buf[:runtime.Callers(3, buf)]
		for _, pc := range pcs {
			if site, ok := siteOf(pc); ok {
				return site
			}
		}
		if len(pcs) < depth {
			break
		}
	}
	return "unknown"
}

// sites caches, per program counter, its file:line or "" for internal frames.
var sites sync.Map

// siteOf returns the file:line of pc, and false for an internal frame.
func siteOf(pc uintptr) (string, bool) {
	if v, ok := sites.Load(pc); ok {
		s := v.(string)
		return s, s != ""
	}
	frame, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	site := ""
	if !internalFrame(frame.Function) {
		site = frame.File + ":" + strconv.Itoa(frame.Line)
	}
	sites.Store(pc, site)
	return site, site != ""
}

// internalFrame reports whether a function belongs to GORM, the drivers,
// the standard library's database/sql, or this project's data layer.
func internalFrame(fn string) bool {
	for _, p := range []string{"gorm.io/", "github.com/jackc/", "github.com/libtnb/", "modernc.org/", "database/sql.",
		"socialpredict/database.", "socialpredict/repository.", "socialpredict/dal.", "runtime."} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// truncate shortens s to at most n bytes, saying how much was cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…(" + strconv.Itoa(len(s)-n) + " more bytes)"
}
