package migration

import (
	"errors"
	"fmt"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrFailedState: a migration that ran outside a transaction failed or was
	// interrupted; nothing runs until `migrate repair` after a manual fix.
	ErrFailedState = errors.New("a migration is in a failed state")
	// ErrInvalid: validation found problems that make running unsafe
	// (duplicate versions, modified or out-of-order migrations).
	ErrInvalid = errors.New("migrations do not validate")
	// ErrUnknownVersion: a version named by the caller, or recorded in the
	// database, is not a migration this binary knows.
	ErrUnknownVersion = errors.New("unknown migration version")
	// ErrIrreversible: the migration to revert has no Down.
	ErrIrreversible = errors.New("migration cannot be reverted (no Down)")
	// ErrNotEmpty: baseline needs an empty history.
	ErrNotEmpty = errors.New("migration history is not empty")
	// ErrTransactionPooling: the schema cannot be changed through a
	// connection pooler in transaction mode (PgBouncer), since the
	// migration lock is a session-level advisory lock that such a pooler
	// does not keep; connect directly (database.migrations_url).
	ErrTransactionPooling = errors.New("migrations need a direct connection to PostgreSQL: " +
		"their session-level advisory lock does not survive PgBouncer's transaction pooling " +
		"(database.pgbouncer is true); set database.migrations_url to a direct connection")
)

// MigrationError reports which migration failed, in which direction, and why.
type MigrationError struct {
	Version     string
	Description string
	Direction   string
	// NoTransaction is set when the migration ran outside a transaction and
	// was therefore recorded as failed.
	NoTransaction bool
	Err           error
}

// Error names the migration and the cause, and for a non-transactional
// migration says how to recover.
func (e *MigrationError) Error() string {
	msg := fmt.Sprintf("migration %s (%s) %s failed: %v", e.Version, e.Description, e.Direction, e.Err)
	if e.NoTransaction {
		msg += "\nit ran outside a transaction and may have been partly applied; fix the database by hand, then run `socialpredict migrate repair`"
	} else {
		msg += " (rolled back: nothing was applied)"
	}
	return msg
}

// Unwrap returns the cause.
func (e *MigrationError) Unwrap() error { return e.Err }
