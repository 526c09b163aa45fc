package database

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"modernc.org/sqlite"

	"socialpredict/database/diagnostics"
)

// QueryMonitorName is the name the query monitor plugin registers under.
const QueryMonitorName = "socialpredict:query_monitor"

// QueryMonitor is a GORM plugin that watches every statement: latency and
// error metrics, the slow query log, and N+1 detection within a QueryScope;
// it keeps the latest slow statements and N+1 findings (RecentSlow,
// RecentNPlusOne).
// NewDatabase installs one on every handle (see DB).
type QueryMonitor struct {
	// held tracks connections taken from the pool through DB.Raw.
	held    activeSet
	cfg     MonitoringConfig
	log     *slog.Logger
	metrics *Metrics
	system  string
	// explain captures the plan of a slow SELECT in the background and
	// passes it to done (nil: off).
	explain func(ctx context.Context, sql string, vars []any, done func(*diagnostics.Plan))
	// slow and nPlusOne keep the latest slow statements and N+1 findings.
	slow     *ring[SlowQuery]
	nPlusOne *ring[NPlusOneEvent]
	// skip lists the package path prefixes whose frames are not call sites;
	// sites caches, per program counter, its file:line or "" for a skipped
	// frame.
	skip  atomic.Pointer[[]string]
	sites atomic.Pointer[sync.Map]
}

// internalPackages are the frames never named as call sites: GORM, the
// drivers, database/sql, the runtime and this package.
var internalPackages = []string{"gorm.io/", "github.com/jackc/", "github.com/libtnb/", "modernc.org/",
	"database/sql.", "runtime.", "socialpredict/database."}

// NewQueryMonitor returns a monitor configured by cfg; metrics may be nil.
// Its call sites skip the frames of internalPackages and of skip (package
// path prefixes such as "socialpredict/repository.").
func NewQueryMonitor(cfg MonitoringConfig, log *slog.Logger, metrics *Metrics, skip ...string) *QueryMonitor {
	m := &QueryMonitor{cfg: cfg, log: log, metrics: metrics, held: activeSet{kind: "connection"},
		slow: newRing[SlowQuery](cfg.RecentSlowQueries), nPlusOne: newRing[NPlusOneEvent](cfg.RecentNPlusOne)}
	m.SkipCallers(skip...)
	return m
}

// SkipCallers adds package path prefixes whose frames are not named as the
// code that ran a statement: the layers above this package that only pass
// queries on (the repositories, the data access layer). Safe for concurrent
// use.
func (m *QueryMonitor) SkipCallers(prefixes ...string) {
	all := slices.Concat(internalPackages, prefixes)
	if old := m.skip.Load(); old != nil {
		all = slices.Concat(*old, prefixes)
	}
	m.skip.Store(&all)
	m.sites.Store(new(sync.Map))
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
		caller = m.callSite()
	}
	if slow {
		m.slowQuery(ctx, sql, vars, op, table, rows, start, d, caller, err)
	}
	m.inScopes(ctx, scope, caller, sql, op, table)
}

// inScopes counts the statement in scope and its parents (the units of
// work of ctx), reporting an N+1 pattern where one crosses the threshold.
func (m *QueryMonitor) inScopes(ctx context.Context, scope *QueryScope, caller, sql, op, table string) {
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
			e := NPlusOneEvent{At: time.Now().UTC(), NPlusOne: *f, OperationID: OperationID(ctx)}
			e.SQL = truncate(e.SQL, maxLoggedSQL)
			m.nPlusOne.add(e)
		}
	}
}

// The longest SQL text and plan text a slow query record holds.
const (
	maxLoggedSQL = 2000
	maxPlanText  = 4000
)

// slowQuery logs, counts and keeps a slow statement, and has its plan
// captured when it is a SELECT and monitoring.explain_slow_queries is on.
func (m *QueryMonitor) slowQuery(ctx context.Context, sql string, vars []any, op, table string, rows int64,
	start time.Time, d time.Duration, caller string, err error) {
	if m.metrics != nil {
		m.metrics.SlowQueries.WithLabelValues(m.system, op, table).Inc()
	}
	e := SlowQuery{Start: start.UTC(), Duration: d, SQL: truncate(sql, maxLoggedSQL), Rows: rows, Caller: caller,
		OperationID: OperationID(ctx)}
	attrs := []any{"sql", e.SQL, "duration", d, "rows", rows, "caller", caller}
	if e.OperationID != "" {
		attrs = append(attrs, "operation_id", e.OperationID)
	}
	if m.cfg.LogQueryArgs {
		attrs = append(attrs, "args", vars)
	}
	if err != nil {
		attrs = append(attrs, "error", err)
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			e.ErrorClass = errorClass(err)
		}
	}
	m.log.WarnContext(ctx, "slow query", attrs...)
	seq := m.slow.add(e)
	if m.explain != nil && op == "select" {
		m.explain(context.WithoutCancel(ctx), sql, vars, func(p *diagnostics.Plan) {
			plan := &SlowQueryPlan{Summary: p.Summary, Text: truncate(p.MaskedText(), maxPlanText)}
			m.slow.update(seq, func(q *SlowQuery) { q.Plan = plan })
		})
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
func (m *QueryMonitor) callSite() string {
	// Most call sites are within the first 24 frames (GORM's and the data
	// layer's); look deeper only when they are not.
	for _, depth := range []int{24, 96} {
		buf := make([]uintptr, depth)
		pcs := buf[:runtime.Callers(3, buf)]
		for _, pc := range pcs {
			if site, ok := m.siteOf(pc); ok {
				return site
			}
		}
		if len(pcs) < depth {
			break
		}
	}
	return "unknown"
}

// siteOf returns the file:line of pc, and false for a skipped frame.
func (m *QueryMonitor) siteOf(pc uintptr) (string, bool) {
	sites := m.sites.Load()
	if v, ok := sites.Load(pc); ok {
		s := v.(string)
		return s, s != ""
	}
	frame, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	site := ""
	if !m.skipped(frame.Function) {
		site = frame.File + ":" + strconv.Itoa(frame.Line)
	}
	sites.Store(pc, site)
	return site, site != ""
}

// skipped reports whether a function belongs to a package whose frames are
// not call sites.
func (m *QueryMonitor) skipped(fn string) bool {
	for _, p := range *m.skip.Load() {
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
