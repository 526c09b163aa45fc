package diagnostics

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// TableSpace is the disk space of one table and its rows.
type TableSpace struct {
	Schema string `json:"schema"`
	Table  string `json:"table"`
	// Rows is the live rows as the statistics count them (the larger of
	// pg_stat_user_tables.n_live_tup and pg_class.reltuples).
	Rows int64 `json:"rows"`
	// TotalBytes = TableBytes + IndexBytes + ToastBytes.
	TotalBytes int64 `json:"total_bytes"`
	TableBytes int64 `json:"table_bytes"`
	IndexBytes int64 `json:"index_bytes"`
	ToastBytes int64 `json:"toast_bytes"`
}

// IndexSpace is the disk space of one index and how often it was scanned.
type IndexSpace struct {
	Schema string `json:"schema"`
	Table  string `json:"table"`
	Index  string `json:"index"`
	Bytes  int64  `json:"bytes"`
	Scans  int64  `json:"scans"`
}

// SpaceReport is the disk space of the current database.
type SpaceReport struct {
	// DatabaseBytes is pg_database_size of the current database.
	DatabaseBytes int64 `json:"database_bytes"`
	// Tables are the largest tables (with their indexes and TOAST) first;
	// Indexes the largest indexes first.
	Tables  []TableSpace `json:"tables"`
	Indexes []IndexSpace `json:"indexes"`
}

// Space reads the sizes of the limit largest tables and indexes of the
// current database. On another engine it returns an error matching
// errors.ErrUnsupported; otherwise the query's error, wrapped.
func Space(ctx context.Context, db *gorm.DB, limit int) (*SpaceReport, error) {
	if err := requirePostgres(db, "space"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	conn := db.WithContext(ctx)
	r := &SpaceReport{Tables: []TableSpace{}, Indexes: []IndexSpace{}}
	err := conn.Raw(`SELECT pg_database_size(current_database())`).Scan(&r.DatabaseBytes).Error
	if err == nil {
		err = conn.Raw(`
SELECT n.nspname AS schema, c.relname AS "table",
       greatest(coalesce(s.n_live_tup, 0), c.reltuples::bigint, 0) AS rows,
       pg_total_relation_size(c.oid) AS total_bytes, pg_relation_size(c.oid) AS table_bytes,
       pg_indexes_size(c.oid) AS index_bytes,
       coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast_bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
ORDER BY total_bytes DESC, schema, "table"
LIMIT ?`, limit).Scan(&r.Tables).Error
	}
	if err == nil {
		err = conn.Raw(`
SELECT schemaname AS schema, relname AS "table", indexrelname AS index,
       pg_relation_size(indexrelid) AS bytes, idx_scan AS scans
FROM pg_stat_user_indexes
ORDER BY bytes DESC, schema, "table", index
LIMIT ?`, limit).Scan(&r.Indexes).Error
	}
	if err != nil {
		return nil, fmt.Errorf("space: %w", err)
	}
	return r, nil
}
