package diagnostics

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// SequenceUsage is how much of its range a sequence has used. The range
// ends at the sequence's own maximum or at the largest value of the column
// it feeds, whichever is smaller: a bigint sequence behind an integer
// column overflows the column at 2,147,483,647.
type SequenceUsage struct {
	Schema   string `json:"schema"`
	Sequence string `json:"sequence"`
	// Column is "table.column" of the serial or identity column it feeds,
	// ColumnType that column's type (empty when it feeds none).
	Column     string `json:"column,omitempty"`
	ColumnType string `json:"column_type,omitempty"`
	// LastValue is the last value handed out (nil: never used); Limit the
	// end of the range it moves towards.
	LastValue *int64 `json:"last_value"`
	Limit     int64  `json:"limit"`
	// Remaining is how many values are left; UsedPct how much of the range
	// is used, in percent.
	Remaining int64   `json:"remaining"`
	UsedPct   float64 `json:"used_pct"`
	// Cycle: the sequence starts again at its minimum instead of failing.
	Cycle bool `json:"cycle"`
}

// Sequences reads the usage of every sequence of the current database, the
// most used first. A sequence the role may not read shows no LastValue. On
// another engine it returns an error matching errors.ErrUnsupported;
// otherwise the query's error, wrapped.
func Sequences(ctx context.Context, db *gorm.DB) ([]SequenceUsage, error) {
	if err := requirePostgres(db, "sequences"); err != nil {
		return nil, err
	}
	out := []SequenceUsage{}
	err := db.WithContext(ctx).Raw(`
WITH seqs AS (
	SELECT s.schemaname, s.sequencename, s.last_value, s.min_value, s.max_value, s.increment_by, s.cycle,
	       col.name AS column_name, col.type AS column_type,
	       CASE col.typid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647 END AS column_max,
	       CASE col.typid WHEN 'int2'::regtype THEN -32768 WHEN 'int4'::regtype THEN -2147483648 END AS column_min
	FROM pg_sequences s
	LEFT JOIN LATERAL (
		SELECT t.relname || '.' || a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.atttypid AS typid
		FROM pg_depend d
		JOIN pg_class t ON t.oid = d.refobjid
		JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
		WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass AND d.deptype IN ('a', 'i')
		LIMIT 1
	) col ON true
	WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema')
), ranged AS (
	SELECT *, CASE WHEN increment_by > 0 THEN least(max_value, coalesce(column_max, max_value))
	               ELSE greatest(min_value, coalesce(column_min, min_value)) END AS lim,
	          CASE WHEN increment_by > 0 THEN min_value ELSE max_value END AS start_value
	FROM seqs
)
SELECT schemaname AS schema, sequencename AS sequence, coalesce(column_name, '') AS "column",
       coalesce(column_type, '') AS column_type, last_value, lim AS "limit",
       abs(lim::numeric - coalesce(last_value, start_value))::bigint AS remaining,
       coalesce(100 * abs(coalesce(last_value, start_value)::numeric - start_value) / nullif(abs(lim::numeric - start_value), 0), 0)::float8 AS used_pct,
       cycle
FROM ranged
ORDER BY used_pct DESC, schema, sequence`).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("sequences: %w", err)
	}
	return out, nil
}
