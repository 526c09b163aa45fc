// Package database opens and manages the connection to the database: its
// configuration (Config), connection with startup retry (NewDatabase),
// transactions (TransactionManager), query monitoring (QueryMonitor, a GORM
// plugin, and Metrics), health checks (DatabaseHealthChecker), and
// diagnostics (EXPLAIN, index usage analysis).
//
// It is schema-agnostic: nothing here knows about users, markets or bets.
// PostgreSQL (through pgx) is the production engine; SQLite (through a pure-Go
// driver) is the embedded default, so the binary builds with CGO_ENABLED=0.
// On SQLite, writers queue in the process in arrival order before they take
// its single write lock (the write queue, a GORM plugin); readers do not.
package database
