package repository

import (
	"errors"
	"regexp"
	"strings"

	"github.com/glebarez/go-sqlite"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite/lib"

	"socialpredict/database"
)

// The repository errors; match them with errors.Is. Both engines return the
// same ones for the same problem.
var (
	// ErrNotFound: no row has the id, username or other key asked for.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the row would duplicate a unique value (username, email,
	// API key, idempotency key, a second payout); the error names the field.
	ErrConflict = errors.New("conflict")
	// ErrInvalidReference: the row refers to a row that does not exist (or a
	// row still referred to was to be deleted).
	ErrInvalidReference = errors.New("invalid reference")
	// ErrInvalidInput: a value breaks a rule of the schema (a CHECK or NOT
	// NULL constraint, a value out of range), or a cursor, filter or sort
	// is malformed.
	ErrInvalidInput = errors.New("invalid input")
	// ErrInsufficientCredits: a guarded balance update would take a balance
	// below the allowed floor; nothing was changed.
	ErrInsufficientCredits = errors.New("insufficient credits")
	// ErrUnavailable: the database could not be reached or went away; the
	// error is a *database.UnavailableError saying whether the operation may
	// have committed.
	ErrUnavailable = database.ErrUnavailable
)

// ConstraintError is a constraint violation translated from a driver error.
// Its message names the table, field and constraint, never the values.
type ConstraintError struct {
	// Kind is ErrConflict, ErrInvalidReference or ErrInvalidInput.
	Kind error
	// Table and Field say where; either may be empty when the engine does not
	// tell (SQLite does not name the columns of a foreign key).
	Table, Field string
	// Constraint is the violated constraint's name, when known.
	Constraint string
	// Err is the driver's error.
	Err error
}

// Error describes the violation without the offending values.
func (e *ConstraintError) Error() string {
	where := e.Table
	if e.Field != "" {
		where = strings.TrimPrefix(where+"."+e.Field, ".")
	}
	msg := e.Kind.Error()
	if where != "" {
		msg += ": " + where
	}
	if e.Constraint != "" {
		msg += " (constraint " + e.Constraint + ")"
	}
	return msg
}

// Is reports whether target is the error's Kind.
func (e *ConstraintError) Is(target error) bool { return target == e.Kind }

// Unwrap returns the driver's error.
func (e *ConstraintError) Unwrap() error { return e.Err }

// TranslateError turns PostgreSQL and SQLite constraint violations into a
// *ConstraintError matching ErrConflict, ErrInvalidReference or
// ErrInvalidInput, a lost or refused connection into a
// *database.UnavailableError matching ErrUnavailable, and returns any other
// error unchanged (nil for nil).
func TranslateError(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !database.IsUnavailable(err) {
		return translatePostgres(pgErr, err)
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return translateSQLite(liteErr, err)
	}
	return database.TranslateUnavailable(err)
}

// pgKey finds the columns in a PostgreSQL detail such as
// "Key (user_id, idempotency_key)=(1, abc) already exists."
var pgKey = regexp.MustCompile(`^Key \(([^)]*)\)`)

func translatePostgres(pgErr *pgconn.PgError, err error) error {
	ce := &ConstraintError{Table: pgErr.TableName, Constraint: pgErr.ConstraintName, Err: err}
	if m := pgKey.FindStringSubmatch(pgErr.Detail); m != nil {
		ce.Field = m[1]
	}
	switch pgErr.Code {
	case pgerrcode.UniqueViolation:
		ce.Kind = ErrConflict
	case pgerrcode.ForeignKeyViolation:
		ce.Kind = ErrInvalidReference
	case pgerrcode.CheckViolation:
		ce.Kind = ErrInvalidInput
		ce.Field = fieldOfCheck(pgErr.TableName, pgErr.ConstraintName)
	case pgerrcode.NotNullViolation:
		ce.Kind, ce.Field = ErrInvalidInput, pgErr.ColumnName
	case pgerrcode.StringDataRightTruncationDataException, pgerrcode.NumericValueOutOfRange,
		pgerrcode.InvalidTextRepresentation, pgerrcode.InvalidDatetimeFormat, pgerrcode.DatetimeFieldOverflow,
		pgerrcode.CharacterNotInRepertoire, pgerrcode.UntranslatableCharacter:
		ce.Kind = ErrInvalidInput
	default:
		return err
	}
	return ce
}

func translateSQLite(liteErr *sqlite.Error, err error) error {
	ce := &ConstraintError{Err: err}
	// Messages look like "UNIQUE constraint failed: users.username (2067)";
	// cut the trailing code.
	msg := liteErr.Error()
	if i := strings.LastIndex(msg, " ("); i > 0 {
		msg = msg[:i]
	}
	subject := msg
	if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
		subject = msg[i+len("constraint failed: "):]
	}
	switch liteErr.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		ce.Kind = ErrConflict
		ce.Table, ce.Field = splitColumns(subject)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		ce.Kind = ErrInvalidReference
	case sqlite3.SQLITE_CONSTRAINT_CHECK:
		ce.Kind, ce.Constraint = ErrInvalidInput, subject
		ce.Table, ce.Field = tableOfCheck(subject)
	case sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		ce.Kind = ErrInvalidInput
		ce.Table, ce.Field = splitColumns(subject)
	default:
		return err
	}
	return ce
}

// splitColumns turns "bets.user_id, bets.idempotency_key" into
// ("bets", "user_id, idempotency_key").
func splitColumns(subject string) (table, fields string) {
	var cols []string
	for _, part := range strings.Split(subject, ", ") {
		t, c, ok := strings.Cut(part, ".")
		if !ok {
			return "", subject
		}
		table = t
		cols = append(cols, c)
	}
	return table, strings.Join(cols, ", ")
}

// checkSuffixes end the names of CHECK constraints in the migrations
// (<table>_<field>_<suffix>).
var checkSuffixes = []string{"_format", "_length", "_valid", "_positive", "_nonnegative", "_nonzero", "_range", "_required"}

// schemaTables are the tables whose CHECK constraint names start with the
// table name.
var schemaTables = []string{"ledger_entries", "api_keys", "positions", "markets", "users", "bets"}

// fieldOfCheck derives the field a CHECK constraint guards from its name,
// e.g. users_username_format → username.
func fieldOfCheck(table, constraint string) string {
	f := strings.TrimPrefix(constraint, table+"_")
	for _, s := range checkSuffixes {
		if strings.HasSuffix(f, s) {
			return strings.TrimSuffix(f, s)
		}
	}
	return f
}

// tableOfCheck splits a CHECK constraint name into table and field.
func tableOfCheck(constraint string) (table, field string) {
	for _, t := range schemaTables {
		if strings.HasPrefix(constraint, t+"_") {
			return t, fieldOfCheck(t, constraint)
		}
	}
	return "", constraint
}
