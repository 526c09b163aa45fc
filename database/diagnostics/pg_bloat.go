package diagnostics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"gorm.io/gorm"
)

// Bloat is the estimated wasted space of one table or B-tree index: the
// pages it has beyond those its rows need, from the planner's statistics
// (row counts and average column widths of the last ANALYZE). It is an
// estimate in the manner of PgHero and check_postgres, good to tens of
// percent; pgstattuple measures exactly.
type Bloat struct {
	Schema string `json:"schema"`
	Table  string `json:"table"`
	// Index is empty for a table.
	Index string `json:"index,omitempty"`
	// Bytes is the relation's size; ExpectedBytes what its rows need at its
	// fillfactor; WastedBytes the difference (never negative), WastedPct
	// its share of Bytes.
	Bytes         int64   `json:"bytes"`
	ExpectedBytes int64   `json:"expected_bytes"`
	WastedBytes   int64   `json:"wasted_bytes"`
	WastedPct     float64 `json:"wasted_pct"`
	// Rows is the planner's row (or index entry) count.
	Rows int64 `json:"rows"`
}

// BloatReport lists the estimates, the most wasted bytes first.
type BloatReport struct {
	Tables  []Bloat `json:"tables"`
	Indexes []Bloat `json:"indexes"`
	// Skipped counts the relations without an estimate: never analyzed, or
	// expression index columns without statistics.
	Skipped int `json:"skipped"`
}

// The page layout the estimate assumes: PostgreSQL's defaults on 64-bit
// platforms.
const (
	bloatMaxAlign    = 8  // MAXALIGN
	bloatPageHeader  = 24 // PageHeaderData
	bloatItemID      = 4  // ItemIdData, one per tuple
	bloatHeapHeader  = 23 // HeapTupleHeaderData
	bloatIndexHeader = 8  // IndexTupleData
	bloatBTSpecial   = 16 // BTPageOpaqueData
)

// bloatRow is what the bloat queries read for one relation.
type bloatRow struct {
	Schema, Table, Index string
	Rows                 float64
	Pages                int64
	BlockSize            int64
	Fillfactor           int64
	Columns, WithStats   int64
	DataWidth            float64
	Nullable             bool
}

// EstimateBloat estimates the bloat of every table and B-tree index of the
// current database that has statistics, and returns the limit worst of
// each. On another engine it returns an error matching
// errors.ErrUnsupported; otherwise the query's error, wrapped.
func EstimateBloat(ctx context.Context, db *gorm.DB, limit int) (*BloatReport, error) {
	if err := requirePostgres(db, "bloat"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 20
	}
	conn := db.WithContext(ctx)
	var tables, indexes []bloatRow
	err := conn.Raw(`
SELECT n.nspname AS schema, c.relname AS "table", '' AS index, c.reltuples::float8 AS rows, c.relpages::bigint AS pages,
       current_setting('block_size')::bigint AS block_size,
       coalesce(substring(array_to_string(c.reloptions, ',') from 'fillfactor=([0-9]+)')::bigint, 100) AS fillfactor,
       count(a.attname) AS columns, count(s.attname) AS with_stats,
       coalesce(sum((1 - s.null_frac) * s.avg_width), 0)::float8 AS data_width,
       coalesce(bool_or(s.null_frac > 0), false) AS nullable
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
WHERE c.relkind = 'r' AND c.relpages > 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
GROUP BY n.nspname, c.relname, c.reltuples, c.relpages, c.reloptions`).Scan(&tables).Error
	if err == nil {
		err = conn.Raw(`
SELECT n.nspname AS schema, t.relname AS "table", ic.relname AS index, ic.reltuples::float8 AS rows,
       ic.relpages::bigint AS pages, current_setting('block_size')::bigint AS block_size,
       coalesce(substring(array_to_string(ic.reloptions, ',') from 'fillfactor=([0-9]+)')::bigint, 90) AS fillfactor,
       count(*) AS columns, count(s.attname) AS with_stats,
       coalesce(sum((1 - s.null_frac) * s.avg_width), 0)::float8 AS data_width,
       coalesce(bool_or(s.null_frac > 0), false) AS nullable
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(i.indkey::int2[]) AS k(attnum)
LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = t.relname AND s.attname = a.attname
WHERE ic.relpages > 0 AND i.indisvalid
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
GROUP BY n.nspname, t.relname, ic.relname, ic.reltuples, ic.relpages, ic.reloptions`).Scan(&indexes).Error
	}
	if err != nil {
		return nil, fmt.Errorf("bloat: %w", err)
	}
	r := &BloatReport{Tables: []Bloat{}, Indexes: []Bloat{}}
	for _, row := range tables {
		if b, ok := row.estimate(false); ok {
			r.Tables = append(r.Tables, b)
		} else {
			r.Skipped++
		}
	}
	for _, row := range indexes {
		if b, ok := row.estimate(true); ok {
			r.Indexes = append(r.Indexes, b)
		} else {
			r.Skipped++
		}
	}
	byWaste := func(a, b Bloat) int {
		return cmp.Or(cmp.Compare(b.WastedBytes, a.WastedBytes), cmp.Compare(a.Table, b.Table), cmp.Compare(a.Index, b.Index))
	}
	slices.SortFunc(r.Tables, byWaste)
	slices.SortFunc(r.Indexes, byWaste)
	r.Tables, r.Indexes = r.Tables[:min(limit, len(r.Tables))], r.Indexes[:min(limit, len(r.Indexes))]
	return r, nil
}

// estimate computes the bloat of one relation; ok is false when it has no
// statistics to estimate from.
func (r bloatRow) estimate(index bool) (Bloat, bool) {
	if r.Rows < 0 || r.WithStats < r.Columns || r.Columns == 0 || r.BlockSize <= 0 {
		return Bloat{}, false
	}
	nullBytes := 0.0
	if r.Nullable {
		nullBytes = math.Ceil(float64(r.Columns) / 8)
	}
	var tuple, usable, fixed float64
	if index {
		tuple = alignUp(bloatIndexHeader + nullBytes + r.DataWidth)
		usable = float64(r.BlockSize - bloatPageHeader - bloatBTSpecial)
		fixed = 1 // the metapage
	} else {
		tuple = alignUp(bloatHeapHeader+nullBytes) + alignUp(r.DataWidth)
		usable = float64(r.BlockSize - bloatPageHeader)
	}
	usable *= float64(r.Fillfactor) / 100
	expected := int64(math.Ceil(r.Rows*(tuple+bloatItemID)/usable) + fixed)
	if r.Rows > 0 && expected < 1 {
		expected = 1
	}
	b := Bloat{Schema: r.Schema, Table: r.Table, Index: r.Index, Bytes: r.Pages * r.BlockSize,
		ExpectedBytes: expected * r.BlockSize, Rows: int64(r.Rows)}
	b.WastedBytes = max(b.Bytes-b.ExpectedBytes, 0)
	if b.Bytes > 0 {
		b.WastedPct = 100 * float64(b.WastedBytes) / float64(b.Bytes)
	}
	return b, true
}

// alignUp rounds n up to a multiple of MAXALIGN.
func alignUp(n float64) float64 { return math.Ceil(n/bloatMaxAlign) * bloatMaxAlign }
