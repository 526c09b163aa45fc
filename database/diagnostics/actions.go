package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Errors of the operator's actions.
var (
	// ErrNoSuchBackend is matched by the error of CancelBackend and
	// TerminateBackend for a pid that is not a client session of the
	// current database (or is the caller's own session).
	ErrNoSuchBackend = errors.New("no such session in this database")
	// ErrNoSuchTable is matched by the error of AnalyzeTable for a name
	// that is not one of Tables.
	ErrNoSuchTable = errors.New("no such table")
	// ErrPermissionDenied is matched by the error of an action the
	// database role may not take (SQLSTATE 42501); the error says what to
	// grant.
	ErrPermissionDenied = errors.New("permission denied")
)

// denied wraps a permission error of the server with ErrPermissionDenied
// and what to grant; other errors are returned as they are.
func denied(err error, grant string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgerrcode.InsufficientPrivilege {
		return fmt.Errorf("%w: %w (%s)", ErrPermissionDenied, err, grant)
	}
	return err
}

// CancelBackend cancels the statement a client session of the current
// PostgreSQL database is running (pg_cancel_backend): its transaction
// fails, the session stays. It returns whether the signal was sent, an
// error matching ErrNoSuchBackend when pid is not such a session, one
// matching errors.ErrUnsupported on another engine, and the server's error
// otherwise (a role may signal only its own sessions unless it is a member
// of pg_signal_backend).
func CancelBackend(ctx context.Context, db *gorm.DB, pid int) (bool, error) {
	return signalBackend(ctx, db, pid, "pg_cancel_backend")
}

// TerminateBackend ends a client session of the current PostgreSQL
// database (pg_terminate_backend): its transaction rolls back and its
// connection closes. Errors as CancelBackend's.
func TerminateBackend(ctx context.Context, db *gorm.DB, pid int) (bool, error) {
	return signalBackend(ctx, db, pid, "pg_terminate_backend")
}

// signalBackend calls fn (pg_cancel_backend or pg_terminate_backend) on
// pid when it is another client session of the current database.
func signalBackend(ctx context.Context, db *gorm.DB, pid int, fn string) (bool, error) {
	if err := requirePostgres(db, fn); err != nil {
		return false, err
	}
	var rows []bool
	err := db.WithContext(ctx).Raw(`SELECT `+fn+`(pid) FROM pg_stat_activity
WHERE pid = ? AND datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`, pid).Scan(&rows).Error
	switch {
	case err != nil:
		return false, fmt.Errorf("%s(%d): %w", fn, pid, denied(err, "a role may signal only its own sessions: GRANT pg_signal_backend TO the application's role"))
	case len(rows) == 0:
		return false, fmt.Errorf("%s(%d): %w", fn, pid, ErrNoSuchBackend)
	}
	return rows[0], nil
}

// TableName is a table of the current database.
type TableName struct {
	// Schema is empty on SQLite.
	Schema string `json:"schema,omitempty"`
	Name   string `json:"name"`
}

// String is "schema.name" ("name" on SQLite).
func (t TableName) String() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// quoted is the table's name as a quoted SQL identifier.
func (t TableName) quoted() string {
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	if t.Schema == "" {
		return q(t.Name)
	}
	return q(t.Schema) + "." + q(t.Name)
}

// Tables lists the user tables of the current database (PostgreSQL: of
// pg_stat_user_tables; SQLite: sqlite_master's, without sqlite_ internals),
// sorted. It returns the query's error, wrapped.
func Tables(ctx context.Context, db *gorm.DB) ([]TableName, error) {
	out := []TableName{}
	var err error
	switch db.Dialector.Name() {
	case driverPostgres:
		err = db.WithContext(ctx).Raw(`SELECT schemaname AS schema, relname AS name FROM pg_stat_user_tables ORDER BY 1, 2`).Scan(&out).Error
	default:
		err = db.WithContext(ctx).Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`).Scan(&out).Error
	}
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return out, nil
}

// AnalyzeTable runs ANALYZE on one table, named as Tables' String names it
// ("public.bets"; on PostgreSQL a name without a schema is looked up in
// "public"). The name is matched against Tables, and only the matched
// entry, quoted, reaches the statement: nothing the caller wrote is
// interpolated. It returns the table analyzed, an error matching
// ErrNoSuchTable for a name that is not a table, and the database's error
// otherwise.
func AnalyzeTable(ctx context.Context, db *gorm.DB, name string) (TableName, error) {
	tables, err := Tables(ctx, db)
	if err != nil {
		return TableName{}, err
	}
	want := strings.TrimSpace(name)
	if db.Dialector.Name() == driverPostgres && !strings.Contains(want, ".") {
		want = "public." + want
	}
	for _, t := range tables {
		if t.String() == want {
			if err := db.WithContext(ctx).Exec("ANALYZE " + t.quoted()).Error; err != nil {
				return t, fmt.Errorf("analyze %s: %w", t, err)
			}
			return t, nil
		}
	}
	return TableName{}, fmt.Errorf("analyze %q: %w", name, ErrNoSuchTable)
}
