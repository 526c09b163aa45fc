package diagnostics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// IndexAnalysisOptions are the thresholds of AnalyzeIndexes. A zero field
// takes its default.
type IndexAnalysisOptions struct {
	// MinRows is the size from which a table read mostly by sequential scans
	// is a missing-index candidate. Default 10,000 rows.
	MinRows int64 `json:"min_rows"`
	// MinSeqScans is the number of sequential scans from which a table is
	// judged at all (a backup or a one-off report scans every table once).
	// Default 10.
	MinSeqScans int64 `json:"min_seq_scans"`
	// SeqScanShare is the share of sequential scans among all scans of a
	// table above which it is a missing-index candidate. Default 0.5.
	SeqScanShare float64 `json:"seq_scan_share"`
	// MinCacheHitRatio is the buffer cache hit ratio of tables, and of
	// indexes, below which the cache is too small. Default 0.9.
	MinCacheHitRatio float64 `json:"min_cache_hit_ratio"`
	// MinCacheBlocks is the number of block accesses from which a cache hit
	// ratio is judged. Default 10,000 blocks.
	MinCacheBlocks int64 `json:"min_cache_blocks"`
	// SlowStatements is how many statements of pg_stat_statements to list,
	// by total time. Default 10.
	SlowStatements int `json:"slow_statements"`
}

func (o IndexAnalysisOptions) withDefaults() IndexAnalysisOptions {
	if o.MinRows <= 0 {
		o.MinRows = 10_000
	}
	if o.MinSeqScans <= 0 {
		o.MinSeqScans = 10
	}
	if o.SeqScanShare <= 0 {
		o.SeqScanShare = 0.5
	}
	if o.MinCacheHitRatio <= 0 {
		o.MinCacheHitRatio = 0.9
	}
	if o.MinCacheBlocks <= 0 {
		o.MinCacheBlocks = 10_000
	}
	if o.SlowStatements <= 0 {
		o.SlowStatements = 10
	}
	return o
}

// IndexReport is what AnalyzeIndexes finds. Unused indexes, missing-index
// candidates, duplicate and invalid indexes and a low cache hit ratio are
// problems (see Problems); the rest is information. Every finding carries a
// Message for people; the report is JSON-serialisable.
type IndexReport struct {
	// Database is the database analysed.
	Database string `json:"database"`
	// StatsReset is when the database's statistics were last reset (nil:
	// never); every counter below counts from then.
	StatsReset *time.Time `json:"stats_reset,omitempty"`
	// Thresholds are the options the analysis used.
	Thresholds IndexAnalysisOptions `json:"thresholds"`
	// UnusedIndexes have never been scanned and enforce nothing: a problem.
	UnusedIndexes []IndexUsage `json:"unused_indexes"`
	// UnusedUniqueIndexes have never been scanned but enforce uniqueness or
	// back a constraint, so they stay: information.
	UnusedUniqueIndexes []IndexUsage `json:"unused_unique_indexes"`
	// MissingIndexCandidates are large tables read mostly by sequential
	// scans: a problem.
	MissingIndexCandidates []TableScans `json:"missing_index_candidates"`
	// DuplicateIndexes are sets of indexes with the same definition: a problem.
	DuplicateIndexes []DuplicateIndexes `json:"duplicate_indexes"`
	// InvalidIndexes are indexes the planner cannot use: a problem.
	InvalidIndexes []IndexUsage `json:"invalid_indexes"`
	// CacheHitRatios are the buffer cache hit ratios of the tables, their
	// indexes and the whole database; a low one of the first two is a problem.
	CacheHitRatios []CacheHitRatio `json:"cache_hit_ratios"`
	// SlowStatements are the statements with the most total execution time,
	// from pg_stat_statements (empty when it is not available; see Notes).
	SlowStatements []SlowStatement `json:"slow_statements"`
	// Notes say what could not be analysed, and why.
	Notes []string `json:"notes,omitempty"`
}

// IndexUsage is one index and how much it was used.
type IndexUsage struct {
	Schema     string `json:"schema"`
	Table      string `json:"table"`
	Index      string `json:"index"`
	Definition string `json:"definition"`
	SizeBytes  int64  `json:"size_bytes"`
	Scans      int64  `json:"scans"`
	Message    string `json:"message"`
}

// TableScans is a table and how it was read.
type TableScans struct {
	Schema       string  `json:"schema"`
	Table        string  `json:"table"`
	Rows         int64   `json:"rows"`
	SizeBytes    int64   `json:"size_bytes"`
	SeqScans     int64   `json:"seq_scans"`
	SeqRowsRead  int64   `json:"seq_rows_read"`
	IndexScans   int64   `json:"index_scans"`
	SeqScanShare float64 `json:"seq_scan_share"`
	Message      string  `json:"message"`
}

// DuplicateIndexes are indexes of one table with the same columns or
// expressions, operator classes, collations, options and predicate.
type DuplicateIndexes struct {
	Schema  string           `json:"schema"`
	Table   string           `json:"table"`
	Indexes []DuplicateIndex `json:"indexes"`
	Message string           `json:"message"`
}

// DuplicateIndex is one member of a set of DuplicateIndexes.
type DuplicateIndex struct {
	Index      string `json:"index"`
	Definition string `json:"definition"`
	SizeBytes  int64  `json:"size_bytes"`
	Unique     bool   `json:"unique"`
	Constraint bool   `json:"constraint"`
}

// CacheHitRatio is the share of block reads served by shared buffers.
type CacheHitRatio struct {
	// Scope is "tables", "indexes" or "database".
	Scope string `json:"scope"`
	Hits  int64  `json:"hits"`
	Reads int64  `json:"reads"`
	// Ratio is Hits / (Hits + Reads), nil when nothing was read.
	Ratio *float64 `json:"ratio"`
	// Low is true when Ratio is below the threshold over enough accesses.
	Low     bool   `json:"low"`
	Message string `json:"message"`
}

// SlowStatement is one row of pg_stat_statements.
type SlowStatement struct {
	// Query is the normalised statement text, truncated to 300 characters.
	Query   string  `json:"query"`
	Calls   int64   `json:"calls"`
	TotalMS float64 `json:"total_ms"`
	MeanMS  float64 `json:"mean_ms"`
	Rows    int64   `json:"rows"`
	// Slow is true when the statement averages at least 20 ms over at least
	// 100 calls (PgHero's definition).
	Slow    bool   `json:"slow"`
	Message string `json:"message"`
}

// AnalyzeIndexes reports how the indexes and tables of the current
// PostgreSQL database are used, from its cumulative statistics
// (pg_stat_user_indexes, pg_stat_user_tables, pg_statio_user_tables,
// pg_stat_database) and pg_stat_statements when that extension is installed
// and loaded. Statistics reach those views asynchronously; a session can
// publish its own with SELECT pg_stat_force_next_flush().
//
// On SQLite it returns an error matching errors.ErrUnsupported. A missing
// or unreadable pg_stat_statements is a note in the report, not an error;
// any other query error is returned, wrapped.
func AnalyzeIndexes(ctx context.Context, db *gorm.DB, opts IndexAnalysisOptions) (*IndexReport, error) {
	if name := db.Dialector.Name(); name != driverPostgres {
		return nil, fmt.Errorf("index usage analysis is not supported on %s: %w", name, errors.ErrUnsupported)
	}
	opts = opts.withDefaults()
	conn := db.WithContext(ctx)
	r := &IndexReport{Thresholds: opts}
	steps := []struct {
		what string
		run  func(*gorm.DB, *IndexReport, IndexAnalysisOptions) error
	}{
		{"database", readStatsReset},
		{"unused indexes", readUnusedIndexes},
		{"missing-index candidates", readMissingIndexes},
		{"duplicate indexes", readDuplicateIndexes},
		{"invalid indexes", readInvalidIndexes},
		{"cache hit ratio", readCacheHitRatios},
		{"pg_stat_statements", readSlowStatements},
	}
	for _, s := range steps {
		if err := s.run(conn, r, opts); err != nil {
			return nil, fmt.Errorf("index usage analysis: %s: %w", s.what, err)
		}
	}
	return r, nil
}

func readStatsReset(db *gorm.DB, r *IndexReport, _ IndexAnalysisOptions) error {
	var row struct {
		Name       string
		StatsReset *time.Time
	}
	err := db.Raw(`SELECT current_database() AS name, stats_reset FROM pg_stat_database WHERE datname = current_database()`).Scan(&row).Error
	r.Database, r.StatsReset = row.Name, row.StatsReset
	return err
}

// since describes the period the counters cover.
func (r *IndexReport) since() string {
	if r.StatsReset == nil {
		return "since statistics began"
	}
	return "since statistics were reset at " + r.StatsReset.UTC().Format(time.RFC3339)
}

func readUnusedIndexes(db *gorm.DB, r *IndexReport, _ IndexAnalysisOptions) error {
	var rows []struct {
		IndexUsage
		Enforces bool
	}
	err := db.Raw(`
SELECT s.schemaname AS schema, s.relname AS "table", s.indexrelname AS index,
       pg_get_indexdef(s.indexrelid) AS definition, pg_relation_size(s.indexrelid) AS size_bytes,
       s.idx_scan AS scans,
       i.indisunique OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid) AS enforces
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan = 0 AND NOT i.indisprimary AND i.indisvalid
ORDER BY size_bytes DESC, schema, "table", index`).Scan(&rows).Error
	for _, row := range rows {
		u := row.IndexUsage
		if row.Enforces {
			u.Message = fmt.Sprintf("index %s on %s.%s (%s) has not been scanned %s, but it enforces uniqueness or backs a constraint: kept",
				u.Index, u.Schema, u.Table, ByteSize(u.SizeBytes), r.since())
			r.UnusedUniqueIndexes = append(r.UnusedUniqueIndexes, u)
			continue
		}
		u.Message = fmt.Sprintf("unused index %s on %s.%s (%s): not scanned once %s, yet every write maintains it; drop it unless a rare query needs it",
			u.Index, u.Schema, u.Table, ByteSize(u.SizeBytes), r.since())
		r.UnusedIndexes = append(r.UnusedIndexes, u)
	}
	return err
}

func readMissingIndexes(db *gorm.DB, r *IndexReport, o IndexAnalysisOptions) error {
	err := db.Raw(`
SELECT t.schemaname AS schema, t.relname AS "table",
       greatest(t.n_live_tup, c.reltuples::bigint) AS rows, pg_table_size(t.relid) AS size_bytes,
       t.seq_scan AS seq_scans, t.seq_tup_read AS seq_rows_read, coalesce(t.idx_scan, 0) AS index_scans,
       t.seq_scan::float8 / (t.seq_scan + coalesce(t.idx_scan, 0)) AS seq_scan_share
FROM pg_stat_user_tables t
JOIN pg_class c ON c.oid = t.relid
WHERE greatest(t.n_live_tup, c.reltuples::bigint) >= ? AND t.seq_scan >= ?
  AND t.seq_scan::float8 / (t.seq_scan + coalesce(t.idx_scan, 0)) > ?
ORDER BY t.seq_tup_read DESC, schema, "table"`, o.MinRows, o.MinSeqScans, o.SeqScanShare).Scan(&r.MissingIndexCandidates).Error
	for i := range r.MissingIndexCandidates {
		t := &r.MissingIndexCandidates[i]
		t.Message = fmt.Sprintf("missing index? table %s.%s (%d rows, %s) was read by %d sequential scans and %d index scans %s (%.0f%% sequential, %d rows read sequentially): find the queries that filter it on unindexed columns (pg_stat_statements, db explain) and index them",
			t.Schema, t.Table, t.Rows, ByteSize(t.SizeBytes), t.SeqScans, t.IndexScans, r.since(), 100*t.SeqScanShare, t.SeqRowsRead)
	}
	return err
}

func readDuplicateIndexes(db *gorm.DB, r *IndexReport, _ IndexAnalysisOptions) error {
	var rows []struct {
		Schema, Table, Members string
	}
	// Same table, access method, key columns, operator classes, collations,
	// options, expressions and predicate: the definition without the name.
	err := db.Raw(`
SELECT n.nspname AS schema, t.relname AS "table",
       json_agg(json_build_object(
         'index', ic.relname, 'definition', pg_get_indexdef(i.indexrelid),
         'size_bytes', pg_relation_size(i.indexrelid), 'unique', i.indisunique,
         'constraint', EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
       ) ORDER BY ic.relname)::text AS members
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
GROUP BY n.nspname, t.relname, i.indrelid, ic.relam, i.indkey::text, i.indclass::text, i.indcollation::text,
         i.indoption::text, coalesce(pg_get_expr(i.indexprs, i.indrelid), ''), coalesce(pg_get_expr(i.indpred, i.indrelid), '')
HAVING count(*) > 1
ORDER BY schema, "table", members`).Scan(&rows).Error
	for _, row := range rows {
		d := DuplicateIndexes{Schema: row.Schema, Table: row.Table}
		if jerr := json.Unmarshal([]byte(row.Members), &d.Indexes); jerr != nil {
			return errors.Join(err, fmt.Errorf("decode %s: %w", row.Members, jerr))
		}
		names := make([]string, len(d.Indexes))
		for i, m := range d.Indexes {
			names[i] = m.Index
		}
		d.Message = fmt.Sprintf("duplicate indexes on %s.%s: %s have the same definition (%s); drop all but one (keep one that is unique or backs a constraint)",
			d.Schema, d.Table, joinQuoted(names), d.Indexes[0].Definition)
		r.DuplicateIndexes = append(r.DuplicateIndexes, d)
	}
	return err
}

func readInvalidIndexes(db *gorm.DB, r *IndexReport, _ IndexAnalysisOptions) error {
	err := db.Raw(`
SELECT n.nspname AS schema, t.relname AS "table", ic.relname AS index,
       pg_get_indexdef(i.indexrelid) AS definition, pg_relation_size(i.indexrelid) AS size_bytes
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE NOT i.indisvalid
ORDER BY schema, "table", index`).Scan(&r.InvalidIndexes).Error
	for i := range r.InvalidIndexes {
		u := &r.InvalidIndexes[i]
		u.Message = fmt.Sprintf("invalid index %s on %s.%s: a CREATE INDEX CONCURRENTLY failed (or is still running); writes maintain it but no query can use it: DROP INDEX CONCURRENTLY %s and create it again, or REINDEX INDEX CONCURRENTLY %s",
			u.Index, u.Schema, u.Table, u.Index, u.Index)
	}
	return err
}

func readCacheHitRatios(db *gorm.DB, r *IndexReport, o IndexAnalysisOptions) error {
	var row struct {
		HeapHit, HeapRead, IdxHit, IdxRead, DBHit, DBRead int64
	}
	err := db.Raw(`
SELECT coalesce(sum(heap_blks_hit), 0) AS heap_hit, coalesce(sum(heap_blks_read), 0) AS heap_read,
       coalesce(sum(idx_blks_hit), 0) AS idx_hit, coalesce(sum(idx_blks_read), 0) AS idx_read,
       (SELECT blks_hit FROM pg_stat_database WHERE datname = current_database()) AS db_hit,
       (SELECT blks_read FROM pg_stat_database WHERE datname = current_database()) AS db_read
FROM pg_statio_user_tables`).Scan(&row).Error
	r.CacheHitRatios = []CacheHitRatio{
		cacheHitRatio("tables", row.HeapHit, row.HeapRead, o, true),
		cacheHitRatio("indexes", row.IdxHit, row.IdxRead, o, true),
		cacheHitRatio("database", row.DBHit, row.DBRead, o, false),
	}
	return err
}

// cacheHitRatio judges one ratio; judged is false for information only.
func cacheHitRatio(scope string, hits, reads int64, o IndexAnalysisOptions, judged bool) CacheHitRatio {
	c := CacheHitRatio{Scope: scope, Hits: hits, Reads: reads}
	total := hits + reads
	if total == 0 {
		c.Message = fmt.Sprintf("%s cache hit ratio: no blocks accessed yet", scope)
		return c
	}
	ratio := float64(hits) / float64(total)
	c.Ratio = &ratio
	c.Low = judged && total >= o.MinCacheBlocks && ratio < o.MinCacheHitRatio
	c.Message = fmt.Sprintf("%s cache hit ratio %.4f over %d block accesses", scope, ratio, total)
	if c.Low {
		c.Message = fmt.Sprintf("low %s cache hit ratio %.4f (below %.2f) over %d block accesses: the working set does not fit in shared_buffers; add memory or find the queries that read the most",
			scope, ratio, o.MinCacheHitRatio, total)
	}
	return c
}

// Notes about pg_stat_statements.
const (
	noteStatementsMissing = "pg_stat_statements is not installed; CREATE EXTENSION pg_stat_statements (and add it to shared_preload_libraries) to see slow statements"
	noteStatementsNotLoad = "pg_stat_statements is installed but not loaded: add it to shared_preload_libraries and restart PostgreSQL to see slow statements"
)

func readSlowStatements(db *gorm.DB, r *IndexReport, o IndexAnalysisOptions) error {
	var schema string
	err := db.Raw(`SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'`).Scan(&schema).Error
	if err != nil {
		return err
	}
	if schema == "" {
		r.Notes = append(r.Notes, noteStatementsMissing)
		return nil
	}
	// regnamespace's text is already a quoted identifier. The query fails
	// when the library is not preloaded: a note, not an error to log.
	quiet := db.Session(&gorm.Session{Logger: db.Logger.LogMode(logger.Silent)})
	err = quiet.Raw(`
SELECT left(query, 300) AS query, calls, total_exec_time AS total_ms, mean_exec_time AS mean_ms, rows
FROM `+schema+`.pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC
LIMIT ?`, o.SlowStatements).Scan(&r.SlowStatements).Error
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == pgerrcode.ObjectNotInPrerequisiteState:
		r.Notes = append(r.Notes, noteStatementsNotLoad)
		return nil
	case err != nil:
		r.Notes = append(r.Notes, "pg_stat_statements could not be read: "+err.Error())
		return nil
	}
	for i := range r.SlowStatements {
		s := &r.SlowStatements[i]
		s.Slow = s.MeanMS >= 20 && s.Calls >= 100
		s.Message = fmt.Sprintf("%.1f ms in total over %d calls (%.2f ms mean, %d rows): %s", s.TotalMS, s.Calls, s.MeanMS, s.Rows, s.Query)
	}
	return nil
}

// ByteSize renders n bytes for people: "16 kB", "3.2 MB".
func ByteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, suffix := float64(n)/unit, "kB"
	for _, s := range []string{"MB", "GB", "TB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}

// joinQuoted renders names as "a, b and c".
func joinQuoted(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	out := names[0]
	for _, n := range names[1 : len(names)-1] {
		out += ", " + n
	}
	return out + " and " + names[len(names)-1]
}
