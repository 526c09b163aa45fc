// Package migration is a versioned schema migration manager on GORM: numbered
// migrations with Up and Down, applied in order and recorded in a history
// table (schema_migrations) with an append-only log of every run
// (schema_migrations_log); rollback, redo, baseline, repair, validation and
// dry runs; and exclusion between concurrent runners (a session-level
// advisory lock on PostgreSQL, a file lock beside the SQLite database).
//
// The migrations themselves live in package migration/migrations.
package migration
