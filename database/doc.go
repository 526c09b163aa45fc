// Package database opens and manages the connection to the database. Its
// centre is the handle, DB, made by NewDatabase from a Config: it owns the
// connection pool (opened with startup retry), the query monitor
// (QueryMonitor, a GORM plugin, with its Metrics), the transaction manager
// (TransactionManager: the one way into a transaction, carried by the
// context) and the health checker (DatabaseHealthChecker). What a database
// says about itself (plans, index usage, locks) is in the diagnostics
// subpackage.
//
// It is schema-agnostic: nothing here knows about users, markets or bets.
// PostgreSQL (through pgx) is the production engine; SQLite (through a pure-Go
// driver) is the embedded default, so the binary builds with CGO_ENABLED=0.
// On SQLite, writers queue in the process in arrival order before they take
// its single write lock (the write queue, a GORM plugin); readers do not.
package database
