package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ErrStatementsUnavailable is matched by the error of ResetStatements when
// pg_stat_statements is not installed in the database or not loaded by the
// server.
var ErrStatementsUnavailable = errors.New("pg_stat_statements is not available")

// StatementReport is what pg_stat_statements says about the current
// database: the statements that took the most time and the most frequent
// ones, or how to enable the extension.
type StatementReport struct {
	// Available is true when the statistics could be read (the extension is
	// installed in this database and preloaded by the server).
	Available bool `json:"available"`
	// Installed: CREATE EXTENSION pg_stat_statements was run in this
	// database. Preloaded: shared_preload_libraries names it (false also
	// when the role may not read that setting and the statistics could not
	// be read). Packaged: the server has the extension's files.
	Installed bool `json:"installed"`
	Preloaded bool `json:"preloaded"`
	Packaged  bool `json:"packaged"`
	// Schema is the schema the extension is installed in.
	Schema string `json:"schema,omitempty"`
	// Enable says, when it is not Available, what to do.
	Enable []string `json:"enable,omitempty"`
	// Note explains an error reading the statistics.
	Note string `json:"note,omitempty"`
	// StatsReset is when the statistics were last reset (nil: unknown).
	StatsReset *time.Time `json:"stats_reset,omitempty"`
	// ByTotalTime are the statements with the most execution time in all;
	// ByCalls the most frequent ones.
	ByTotalTime []StatementStat `json:"by_total_time"`
	ByCalls     []StatementStat `json:"by_calls"`
}

// StatementStat is one normalised statement of pg_stat_statements.
type StatementStat struct {
	// QueryID is pg_stat_statements' queryid, as text.
	QueryID string `json:"query_id"`
	// Query is the normalised text ($1 for constants), truncated to 500
	// characters: it never holds a statement's arguments.
	Query   string  `json:"query"`
	Calls   int64   `json:"calls"`
	TotalMS float64 `json:"total_ms"`
	MeanMS  float64 `json:"mean_ms"`
	Rows    int64   `json:"rows"`
	// SharePct is this statement's share of the execution time of every
	// statement of the database, in percent.
	SharePct float64 `json:"share_pct"`
	// HitPct is the share of its block reads served by shared buffers (nil
	// when it read no block).
	HitPct *float64 `json:"hit_pct"`
	// Slow: at least 20 ms mean over at least 100 calls (PgHero's rule).
	Slow bool `json:"slow"`
}

// StatementsEnable is how to enable pg_stat_statements.
var StatementsEnable = []string{
	"add pg_stat_statements to shared_preload_libraries (postgresql.conf, or ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements' keeping any library already listed) and restart PostgreSQL",
	"then, as a superuser, in this database: CREATE EXTENSION pg_stat_statements",
	"optionally GRANT pg_read_all_stats TO the application's role, so that it sees the text of every role's statements",
}

// Statements reads pg_stat_statements: the limit statements with the most
// total execution time, and the limit most called. A missing, unloaded or
// unreadable extension is not an error: the report says so and how to
// enable it. On another engine it returns an error matching
// errors.ErrUnsupported; any other query error is returned, wrapped.
func Statements(ctx context.Context, db *gorm.DB, limit int) (*StatementReport, error) {
	if err := requirePostgres(db, "pg_stat_statements"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 10
	}
	conn := db.WithContext(ctx)
	r := &StatementReport{ByTotalTime: []StatementStat{}, ByCalls: []StatementStat{}}
	var probe struct {
		Schema    *string
		Preload   *string
		Available bool
	}
	// shared_preload_libraries is hidden from roles without
	// pg_read_all_settings: then reading the view tells.
	err := conn.Raw(`
SELECT (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements') AS schema,
       (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries') AS preload,
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements') AS available`).Scan(&probe).Error
	if err != nil {
		return nil, fmt.Errorf("pg_stat_statements: %w", err)
	}
	r.Packaged = probe.Available
	r.Installed = probe.Schema != nil
	if probe.Preload != nil {
		for lib := range strings.SplitSeq(*probe.Preload, ",") {
			if strings.Trim(strings.TrimSpace(lib), `"`) == "pg_stat_statements" {
				r.Preloaded = true
			}
		}
	}
	if !r.Installed || (probe.Preload != nil && !r.Preloaded) {
		r.Enable = StatementsEnable
		if !r.Packaged {
			r.Enable = append([]string{"install the server's contrib modules (Debian and Ubuntu ship pg_stat_statements in postgresql-NN)"}, r.Enable...)
		}
		if r.Installed {
			r.Schema = *probe.Schema
			r.Note = "pg_stat_statements is installed in this database but the server does not load it: add it to shared_preload_libraries and restart PostgreSQL"
		}
		return r, nil
	}
	r.Schema = *probe.Schema
	// regnamespace's text is already a quoted identifier. A read error is
	// a note, not an error to log.
	quiet := conn.Session(&gorm.Session{Logger: conn.Logger.LogMode(logger.Silent)})
	const statementsSQL = `
SELECT queryid::text AS query_id, left(query, 500) AS query, calls, total_exec_time AS total_ms,
       mean_exec_time AS mean_ms, rows,
       coalesce(100 * total_exec_time / nullif(sum(total_exec_time) OVER (), 0), 0) AS share_pct,
       100.0 * shared_blks_hit / nullif(shared_blks_hit + shared_blks_read, 0) AS hit_pct
FROM %s.pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY %s DESC
LIMIT ?`
	err = quiet.Raw(fmt.Sprintf(statementsSQL, r.Schema, "total_exec_time"), limit).Scan(&r.ByTotalTime).Error
	if err == nil {
		err = quiet.Raw(fmt.Sprintf(statementsSQL, r.Schema, "calls"), limit).Scan(&r.ByCalls).Error
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == pgerrcode.ObjectNotInPrerequisiteState:
		r.Enable = StatementsEnable
		r.Note = "pg_stat_statements is installed but the server has not loaded it: restart PostgreSQL after adding it to shared_preload_libraries"
		return r, nil
	case err != nil:
		r.Note = "pg_stat_statements could not be read: " + err.Error()
		return r, nil
	}
	r.Available, r.Preloaded = true, true
	for _, list := range [][]StatementStat{r.ByTotalTime, r.ByCalls} {
		for i := range list {
			list[i].Slow = list[i].MeanMS >= 20 && list[i].Calls >= 100
		}
	}
	var reset *time.Time
	if quiet.Raw("SELECT stats_reset FROM "+r.Schema+".pg_stat_statements_info").Scan(&reset).Error == nil {
		r.StatsReset = reset
	}
	return r, nil
}

// ResetStatements discards pg_stat_statements' statistics (of every
// database: pg_stat_statements_reset() with no argument). It returns an
// error matching ErrStatementsUnavailable when the extension is not
// installed in the current database or not loaded, one matching
// ErrPermissionDenied when the role may not reset it (by default only
// superusers may), errors.ErrUnsupported on another engine, and the
// server's error otherwise.
func ResetStatements(ctx context.Context, db *gorm.DB) error {
	if err := requirePostgres(db, "reset pg_stat_statements"); err != nil {
		return err
	}
	var schema string
	conn := db.WithContext(ctx)
	if err := conn.Raw(`SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'`).Scan(&schema).Error; err != nil {
		return fmt.Errorf("reset pg_stat_statements: %w", err)
	}
	if schema == "" {
		return fmt.Errorf("reset pg_stat_statements: not installed in this database: %w", ErrStatementsUnavailable)
	}
	err := conn.Exec("SELECT " + schema + ".pg_stat_statements_reset()").Error
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgerrcode.ObjectNotInPrerequisiteState {
		return fmt.Errorf("reset pg_stat_statements: not loaded by the server: %w", errors.Join(ErrStatementsUnavailable, err))
	}
	if err != nil {
		return fmt.Errorf("reset pg_stat_statements: %w", denied(err, "only superusers may, unless granted: GRANT EXECUTE ON FUNCTION "+schema+".pg_stat_statements_reset TO the application's role"))
	}
	return nil
}
