// Package diagnostics reads what a database says about itself, for the
// health checker, `socialpredict db doctor` and `db explain`: query plans
// (Explain, refusing more than one statement before anything is sent, see
// SingleStatement), index and cache usage (AnalyzeIndexes), and blocked,
// long-running and idle-in-transaction sessions (InspectLocks). It works on
// a *gorm.DB of either engine and imports nothing of the project, so the
// database package can use it; PostgreSQL-only reports return an error
// matching errors.ErrUnsupported on SQLite.
package diagnostics

// The engines, as GORM's dialectors name them.
const (
	driverPostgres = "postgres"
	driverSQLite   = "sqlite"
)
