// Package diagnostics reads what a database says about itself, for the
// health checker, `socialpredict db doctor`, `db explain` and the ops
// listener's /debug/db page: query plans (Explain, refusing more than one
// statement before anything is sent, see SingleStatement), index and cache
// usage (AnalyzeIndexes), and blocked, long-running and idle-in-transaction
// sessions (InspectLocks).
//
// For the page and the doctor it also reads, on PostgreSQL, the server
// (Server), pg_stat_statements (Statements, ResetStatements), connections
// (Connections), blocking sessions (BlockingSessions), sizes (Space), bloat
// estimates (EstimateBloat), vacuum, analyze and transaction-ID ages
// (Maintenance), sequences (Sequences), replication (Replication) and the
// settings that matter with advice (Settings, Advise); on SQLite the file,
// its pages and objects (SQLiteFile) and integrity_check (IntegrityCheck);
// and it takes the operator's actions (CancelBackend, TerminateBackend,
// AnalyzeTable, whose table comes from Tables, never from the caller's
// text).
//
// It works on a *gorm.DB of either engine and imports nothing of the
// project, so the database package can use it; PostgreSQL-only reports
// return an error matching errors.ErrUnsupported on SQLite.
package diagnostics

// The engines, as GORM's dialectors name them.
const (
	driverPostgres = "postgres"
	driverSQLite   = "sqlite"
)
