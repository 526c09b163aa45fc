package dbreport

import (
	"time"

	"socialpredict/database"
	"socialpredict/database/diagnostics"
	"socialpredict/migration"
)

// Report is everything the operator's page shows and db doctor judges. It
// is JSON-serialisable and never holds a statement's arguments (query texts
// come with placeholders) or a password.
type Report struct {
	// Driver is the engine: postgres or sqlite. Target names the database
	// without secrets ("postgres at db:5432").
	Driver string `json:"driver"`
	Target string `json:"target"`
	// GeneratedAt is when the report was built; Duration how long it took.
	GeneratedAt time.Time     `json:"generated_at"`
	Duration    time.Duration `json:"duration_ns"`

	// Pool, SlowQueries, NPlusOne, Locks, Health and Migrations are the
	// sections /debug/db has always had (kept for the scripts that read
	// them): the pool when the health check started, the process's latest
	// slow statements and N+1 findings (newest first), the health check's
	// lock report, a fresh health check and every migration's state.
	Pool            database.PoolHealth      `json:"pool"`
	SlowQueries     []database.SlowQuery     `json:"slow_queries"`
	NPlusOne        []database.NPlusOneEvent `json:"n_plus_one"`
	Locks           LegacyLocks              `json:"locks"`
	Health          *database.HealthReport   `json:"health"`
	HealthError     string                   `json:"health_error,omitempty"`
	Migrations      []migration.Status       `json:"migrations"`
	MigrationsError string                   `json:"migrations_error,omitempty"`

	// The sections of the page.
	Overview    Overview    `json:"overview"`
	Queries     Queries     `json:"queries"`
	Connections Connections `json:"connections"`
	Sessions    Sessions    `json:"sessions"`
	Indexes     Indexes     `json:"indexes"`
	Space       Space       `json:"space"`
	Maintenance Maintenance `json:"maintenance"`
	Replication Replication `json:"replication"`
	Settings    Settings    `json:"settings"`
	// SQLite is the SQLite file's statistics (nil on PostgreSQL).
	SQLite *SQLite `json:"sqlite,omitempty"`
	// Tables are the tables ANALYZE may be run on (the action's allow-list).
	Tables []diagnostics.TableName `json:"tables"`

	// Findings are every judgement, by section; Problems counts those that
	// failed, Warnings those that look wrong.
	Findings []Finding `json:"findings"`
	Problems int       `json:"problems"`
	Warnings int       `json:"warnings"`
	// Summary folds the findings that are not ok, one line per check,
	// worst first.
	Summary []FindingSummary `json:"summary"`
}

// Section is what every section says about itself.
type Section struct {
	// NotApplicable says why the section does not apply to this engine
	// ("not on SQLite"); Error why it could not be read.
	NotApplicable string `json:"not_applicable,omitempty"`
	Error         string `json:"error,omitempty"`
}

// Shown reports whether the section has content to show.
func (s Section) Shown() bool { return s.NotApplicable == "" && s.Error == "" }

// LegacyLocks is the locks section /debug/db always had: the health
// check's lock report (PostgreSQL), or why there is none.
type LegacyLocks struct {
	// Inspected tells whether the sessions were inspected.
	Inspected bool `json:"inspected"`
	// Note says why they were not.
	Note string `json:"note,omitempty"`
	// Report is the health check's lock report when Inspected.
	Report *diagnostics.LockReport `json:"report,omitempty"`
}

// Overview is the page's first section.
type Overview struct {
	Section
	// Version is the server's (PostgreSQL) or the library's (SQLite).
	Version string `json:"version"`
	// Server is PostgreSQL's own description (nil on SQLite).
	Server *diagnostics.ServerInfo `json:"server,omitempty"`
	// ProcessStartedAt and ProcessUptime are this process's.
	ProcessStartedAt time.Time     `json:"process_started_at"`
	ProcessUptime    time.Duration `json:"process_uptime_ns"`
	// DatabaseBytes is the database's size (the file on SQLite).
	DatabaseBytes int64 `json:"database_bytes"`
	// HealthState is the fresh health check's state ("unknown" when it could
	// not run); its checks are in Report.Health.
	HealthState database.HealthState `json:"health_state"`
	// Migrations counts the migrations by state; LatestApplied is the
	// newest applied version.
	MigrationCounts map[string]int `json:"migration_counts"`
	LatestApplied   string         `json:"latest_applied,omitempty"`
}

// Queries is the statements section.
type Queries struct {
	Section
	// Statements is pg_stat_statements (nil on SQLite).
	Statements *diagnostics.StatementReport `json:"statements,omitempty"`
	// SlowThreshold is monitoring.slow_query_threshold; PlansCaptured
	// whether monitoring.explain_slow_queries attaches plans.
	SlowThreshold time.Duration `json:"slow_threshold_ns"`
	PlansCaptured bool          `json:"plans_captured"`
}

// Connections is this process's pool and the server's connections.
type Connections struct {
	Section
	// Pool is this process's pool (as in Report.Pool).
	Pool database.PoolHealth `json:"pool"`
	// Server is PostgreSQL's connections (nil on SQLite).
	Server *diagnostics.ConnectionReport `json:"server,omitempty"`
}

// Sessions is the locks section: who waits for whom, what runs too long,
// and what this process holds too long.
type Sessions struct {
	Section
	// LongRunning and IdleInTransaction are the thresholds used.
	LongRunningAfter       time.Duration `json:"long_running_after_ns"`
	IdleInTransactionAfter time.Duration `json:"idle_in_transaction_after_ns"`
	// Blocked wait for a lock; Blocking hold what they wait for.
	Blocked  []diagnostics.BlockedSession  `json:"blocked"`
	Blocking []diagnostics.BlockingSession `json:"blocking"`
	// LongRunning and IdleInTransaction are the sessions past the
	// thresholds.
	LongRunning       []diagnostics.SessionActivity `json:"long_running"`
	IdleInTransaction []diagnostics.SessionActivity `json:"idle_in_transaction"`
	// Leaked are this process's transactions and connections held past
	// the health checker's leak threshold, with the stack that took them
	// (both engines).
	Leaked []database.LeakedTx `json:"leaked"`
}

// Indexes is index usage, problems and bloat.
type Indexes struct {
	Section
	// Analysis is the index, cache and statement analysis (PostgreSQL).
	Analysis *diagnostics.IndexReport `json:"analysis,omitempty"`
	// Bloat is the estimated bloat of tables and indexes (PostgreSQL).
	Bloat *diagnostics.BloatReport `json:"bloat,omitempty"`
	// Plans are, on SQLite, the project's own queries with the indexes
	// their plans use; Unused the indexes none of them uses.
	Plans  []QueryPlan `json:"plans,omitempty"`
	Unused []string    `json:"unused,omitempty"`
}

// QueryPlan is one of the project's queries as SQLite plans it.
type QueryPlan struct {
	// Name says what the query is for; SQL is the query (placeholders).
	Name string `json:"name"`
	SQL  string `json:"sql"`
	// Plan is EXPLAIN QUERY PLAN's text; Indexes the indexes it uses;
	// Scans the tables it reads in full.
	Plan    string   `json:"plan"`
	Indexes []string `json:"indexes"`
	Scans   []string `json:"scans"`
	// Error is set when the query could not be planned (its table is
	// missing).
	Error string `json:"error,omitempty"`
}

// Space is the disk space of the database.
type Space struct {
	Section
	// Report is PostgreSQL's table and index sizes (nil on SQLite, whose
	// sizes are in Report.SQLite).
	Report *diagnostics.SpaceReport `json:"report,omitempty"`
}

// Maintenance is vacuum, analyze, freezing and sequences.
type Maintenance struct {
	Section
	// Report is vacuum, analyze and transaction-ID ages (PostgreSQL).
	Report *diagnostics.MaintenanceReport `json:"report,omitempty"`
	// Sequences are the sequences, the most used first (PostgreSQL).
	Sequences []diagnostics.SequenceUsage `json:"sequences"`
}

// Replication is the server's replicas and slots.
type Replication struct {
	Section
	Report *diagnostics.ReplicationReport `json:"report,omitempty"`
}

// Settings are the server settings that matter.
type Settings struct {
	Section
	List []diagnostics.Setting `json:"list"`
}

// SQLite is the SQLite file, its objects, its planner statistics and,
// when run, its integrity check.
type SQLite struct {
	Section
	File *diagnostics.SQLiteReport `json:"file,omitempty"`
	// Integrity is integrity_check's result (nil: not run).
	Integrity []string `json:"integrity,omitempty"`
}
