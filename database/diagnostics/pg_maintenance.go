package diagnostics

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// XIDWrapLimit is how many transaction ids a database can age before
// PostgreSQL stops assigning new ones (2^31 less the 3 million it keeps in
// reserve since PostgreSQL 14) to avoid transaction-ID wraparound.
const XIDWrapLimit = 1<<31 - 3_000_000

// TableMaintenance is how one table was vacuumed and analyzed.
type TableMaintenance struct {
	Schema string `json:"schema"`
	Table  string `json:"table"`
	// LiveRows and DeadRows are the statistics' estimates; DeadPct is dead
	// rows among all.
	LiveRows int64   `json:"live_rows"`
	DeadRows int64   `json:"dead_rows"`
	DeadPct  float64 `json:"dead_pct"`
	// ModifiedSinceAnalyze counts rows changed since the last ANALYZE.
	ModifiedSinceAnalyze int64 `json:"modified_since_analyze"`
	// The last manual and automatic VACUUM and ANALYZE (nil: never).
	LastVacuum      *time.Time `json:"last_vacuum"`
	LastAutovacuum  *time.Time `json:"last_autovacuum"`
	LastAnalyze     *time.Time `json:"last_analyze"`
	LastAutoanalyze *time.Time `json:"last_autoanalyze"`
	// AutovacuumEnabled is false when the table's storage parameters turn
	// autovacuum off (autovacuum_enabled = false).
	AutovacuumEnabled bool `json:"autovacuum_enabled"`
	// XIDAge is age(relfrozenxid): transactions since the table was last
	// frozen.
	XIDAge int64 `json:"xid_age"`
}

// LastVacuumed is the later of LastVacuum and LastAutovacuum (nil: never).
func (t TableMaintenance) LastVacuumed() *time.Time { return later(t.LastVacuum, t.LastAutovacuum) }

// LastAnalyzed is the later of LastAnalyze and LastAutoanalyze (nil: never).
func (t TableMaintenance) LastAnalyzed() *time.Time { return later(t.LastAnalyze, t.LastAutoanalyze) }

// later returns the later of two optional times.
func later(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
}

// DatabaseXID is the transaction-ID age of one database of the server.
type DatabaseXID struct {
	Database string `json:"database"`
	// Age is age(datfrozenxid); Remaining how many more transactions it can
	// age before the server stops assigning ids (XIDWrapLimit - Age).
	Age       int64 `json:"age"`
	Remaining int64 `json:"remaining"`
	// UsedPct is Age against XIDWrapLimit, in percent.
	UsedPct float64 `json:"used_pct"`
	// MultiXactAge is mxid_age(datminmxid), which wraps the same way.
	MultiXactAge int64 `json:"multixact_age"`
}

// MaintenanceReport is vacuum, analyze and freezing in the current
// database, and the transaction-ID age of every database of the server.
type MaintenanceReport struct {
	// Autovacuum is the server's autovacuum setting; FreezeMaxAge its
	// autovacuum_freeze_max_age, the age at which autovacuum freezes a
	// table even when it is turned off.
	Autovacuum   bool  `json:"autovacuum"`
	FreezeMaxAge int64 `json:"freeze_max_age"`
	// Tables are the user tables, the most dead rows first.
	Tables []TableMaintenance `json:"tables"`
	// Databases are the server's ten oldest databases, the oldest first.
	Databases []DatabaseXID `json:"databases"`
}

// Maintenance reads vacuum and analyze times, dead rows and freezing ages.
// On another engine it returns an error matching errors.ErrUnsupported;
// otherwise the query's error, wrapped.
func Maintenance(ctx context.Context, db *gorm.DB) (*MaintenanceReport, error) {
	if err := requirePostgres(db, "maintenance"); err != nil {
		return nil, err
	}
	conn := db.WithContext(ctx)
	r := &MaintenanceReport{Tables: []TableMaintenance{}, Databases: []DatabaseXID{}}
	var head struct {
		Autovacuum   bool
		FreezeMaxAge int64
	}
	err := conn.Raw(`SELECT current_setting('autovacuum')::bool AS autovacuum,
       current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age`).Scan(&head).Error
	r.Autovacuum, r.FreezeMaxAge = head.Autovacuum, head.FreezeMaxAge
	if err == nil {
		err = conn.Raw(`
SELECT t.schemaname AS schema, t.relname AS "table", t.n_live_tup AS live_rows, t.n_dead_tup AS dead_rows,
       coalesce(100.0 * t.n_dead_tup / nullif(t.n_live_tup + t.n_dead_tup, 0), 0) AS dead_pct,
       t.n_mod_since_analyze AS modified_since_analyze,
       t.last_vacuum, t.last_autovacuum, t.last_analyze, t.last_autoanalyze,
       NOT coalesce('autovacuum_enabled=false' = ANY (c.reloptions) OR 'autovacuum_enabled=off' = ANY (c.reloptions), false) AS autovacuum_enabled,
       age(c.relfrozenxid) AS xid_age
FROM pg_stat_user_tables t
JOIN pg_class c ON c.oid = t.relid
ORDER BY t.n_dead_tup DESC, schema, "table"`).Scan(&r.Tables).Error
	}
	if err == nil {
		err = conn.Raw(`
SELECT datname AS database, age(datfrozenxid) AS age, ? - age(datfrozenxid) AS remaining,
       100.0 * age(datfrozenxid) / ? AS used_pct, mxid_age(datminmxid) AS multi_xact_age
FROM pg_database
ORDER BY age DESC, database
LIMIT 10`, int64(XIDWrapLimit), int64(XIDWrapLimit)).Scan(&r.Databases).Error
	}
	if err != nil {
		return nil, fmt.Errorf("maintenance: %w", err)
	}
	return r, nil
}
