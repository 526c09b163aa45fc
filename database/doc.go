// Package database opens and manages the connection to the database: its
// configuration (Config), connection with startup retry (NewDatabase), and,
// in later steps, transactions, health checks and query monitoring.
//
// It is schema-agnostic: nothing here knows about users, markets or bets.
// PostgreSQL (through pgx) is the production engine; SQLite (through a pure-Go
// driver) is the embedded default, so the binary builds with CGO_ENABLED=0.
package database
