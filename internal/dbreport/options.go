package dbreport

import (
	"time"

	"socialpredict/database/diagnostics"
)

// Options are the thresholds of the findings. A zero field takes its
// default.
type Options struct {
	// Indexes are the thresholds of the index, cache and pg_stat_statements
	// analysis (diagnostics.IndexAnalysisOptions' defaults).
	Indexes diagnostics.IndexAnalysisOptions
	// LongRunning and IdleInTransaction: sessions running a statement, or
	// idle in a transaction, longer than this are listed. Default 30s each.
	LongRunning       time.Duration
	IdleInTransaction time.Duration
	// Statements is how many statements of pg_stat_statements each list
	// shows; Rows how many tables and indexes the space and bloat lists
	// show. Defaults 10 and 20.
	Statements int
	Rows       int
	// SequencePct: a sequence that used this share of its range, in
	// percent, is a problem. Default 90.
	SequencePct float64
	// XIDPct: a database whose transaction-ID age passed this share of the
	// wraparound limit, in percent, is a problem. Default 50 (about one
	// billion transactions; autovacuum freezes at 200 million by default).
	XIDPct float64
	// DeadRowsPct and DeadRowsMin: a table with at least this share of dead
	// rows, and at least this many, needs a VACUUM. Defaults 20 and 10,000.
	DeadRowsPct float64
	DeadRowsMin int64
	// StaleRowsPct and StaleRowsMin: a table with this share of its rows
	// (and at least this many) changed since its last ANALYZE, or never
	// analyzed with that many rows, has stale planner statistics. Defaults
	// 20 and 10,000.
	StaleRowsPct float64
	StaleRowsMin int64
	// BloatPct and BloatBytes: a table or index whose estimated waste is at
	// least this share of it, and at least this many bytes, is bloated.
	// Defaults 50 and 100 MiB.
	BloatPct   float64
	BloatBytes int64
	// ConnectionsPct: server connections above this share of
	// max_connections (less the reserved ones) look wrong. Default 80.
	ConnectionsPct float64
	// SlotBytes: an inactive replication slot retaining this much WAL is a
	// problem; ReplicaLagBytes: a replica this far behind looks wrong.
	// Defaults 1 GiB and 64 MiB.
	SlotBytes       int64
	ReplicaLagBytes int64
	// SQLiteFreePct and SQLiteFreeBytes: an SQLite file with this share of
	// free pages, and this many free bytes, would shrink with VACUUM.
	// Defaults 25 and 16 MiB. SQLiteWALBytes: a WAL file larger than this
	// means checkpoints cannot finish. Default 64 MiB.
	SQLiteFreePct   float64
	SQLiteFreeBytes int64
	SQLiteWALBytes  int64
	// IntegrityCheck runs SQLite's integrity_check (every page is read).
	// Default false: the page runs it on demand, db doctor always.
	IntegrityCheck bool
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.LongRunning <= 0 {
		o.LongRunning = 30 * time.Second
	}
	if o.IdleInTransaction <= 0 {
		o.IdleInTransaction = 30 * time.Second
	}
	if o.Statements <= 0 {
		o.Statements = 10
	}
	if o.Rows <= 0 {
		o.Rows = 20
	}
	def(&o.SequencePct, 90)
	def(&o.XIDPct, 50)
	def(&o.DeadRowsPct, 20)
	defInt(&o.DeadRowsMin, 10_000)
	def(&o.StaleRowsPct, 20)
	defInt(&o.StaleRowsMin, 10_000)
	def(&o.BloatPct, 50)
	defInt(&o.BloatBytes, 100<<20)
	def(&o.ConnectionsPct, 80)
	defInt(&o.SlotBytes, 1<<30)
	defInt(&o.ReplicaLagBytes, 64<<20)
	def(&o.SQLiteFreePct, 25)
	defInt(&o.SQLiteFreeBytes, 16<<20)
	defInt(&o.SQLiteWALBytes, 64<<20)
	return o
}
