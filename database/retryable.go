package database

import (
	"errors"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Reasons a transaction is retried.
const (
	// RetrySerialization is PostgreSQL's serialization failure (SQLSTATE 40001).
	RetrySerialization = "serialization_failure"
	// RetryDeadlock is PostgreSQL's deadlock detected (SQLSTATE 40P01).
	RetryDeadlock = "deadlock"
	// RetryBusy is SQLite's SQLITE_BUSY or SQLITE_LOCKED, or a wait in the
	// write queue longer than sqlite.busy_timeout (ErrWriteQueueTimeout).
	RetryBusy = "sqlite_busy"
)

// RetryReason returns why err makes a whole transaction worth rerunning, or
// "" when it does not.
func RetryReason(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, ErrWriteQueueTimeout) {
		return RetryBusy
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgerrcode.SerializationFailure:
			return RetrySerialization
		case pgerrcode.DeadlockDetected:
			return RetryDeadlock
		}
		return ""
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff { // primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return RetryBusy
		}
	}
	return ""
}
