package repository

import (
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"socialpredict/database"
	"socialpredict/errs"
)

// The repository returns the errors of package errs: errs.ErrNotFound,
// errs.ErrConflict, errs.ErrInvalidReference, errs.ErrInvalidInput, errs.ErrInsufficientCredits
// and ErrUnavailable, the same ones on both engines for the same problem.

// TranslateError turns PostgreSQL and SQLite constraint violations into a
// *errs.ConstraintError matching errs.ErrConflict, errs.ErrInvalidReference or
// errs.ErrInvalidInput, a lost or refused connection into a
// *errs.UnavailableError matching ErrUnavailable, and returns any other
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
	ce := &errs.ConstraintError{Table: pgErr.TableName, Constraint: pgErr.ConstraintName, Err: err}
	if m := pgKey.FindStringSubmatch(pgErr.Detail); m != nil {
		ce.Field = m[1]
	}
	switch pgErr.Code {
	case pgerrcode.UniqueViolation:
		ce.Kind = errs.ErrConflict
	case pgerrcode.ForeignKeyViolation:
		ce.Kind = errs.ErrInvalidReference
	case pgerrcode.CheckViolation:
		ce.Kind = errs.ErrInvalidInput
		if pgErr.TableName != "" {
			ce.Field = fieldOfCheck(pgErr.TableName, pgErr.ConstraintName)
		} else {
			// A domain's CHECK (migration 005) names no table; the
			// constraint's name, <table>_<field>_<suffix>, says both.
			ce.Table, ce.Field = tableOfCheck(pgErr.ConstraintName)
		}
	case pgerrcode.NotNullViolation:
		ce.Kind, ce.Field = errs.ErrInvalidInput, pgErr.ColumnName
	case pgerrcode.StringDataRightTruncationDataException, pgerrcode.NumericValueOutOfRange,
		pgerrcode.InvalidTextRepresentation, pgerrcode.InvalidDatetimeFormat, pgerrcode.DatetimeFieldOverflow,
		pgerrcode.CharacterNotInRepertoire, pgerrcode.UntranslatableCharacter:
		ce.Kind = errs.ErrInvalidInput
	default:
		return err
	}
	return ce
}

func translateSQLite(liteErr *sqlite.Error, err error) error {
	ce := &errs.ConstraintError{Err: err}
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
		ce.Kind = errs.ErrConflict
		ce.Table, ce.Field = splitColumns(subject)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		ce.Kind = errs.ErrInvalidReference
	case sqlite3.SQLITE_CONSTRAINT_CHECK:
		ce.Kind, ce.Constraint = errs.ErrInvalidInput, subject
		ce.Table, ce.Field = tableOfCheck(subject)
	case sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		ce.Kind = errs.ErrInvalidInput
		ce.Table, ce.Field = splitColumns(subject)
	default:
		// A read-only file, a full disk, an I/O error: unavailable.
		return database.TranslateUnavailable(err)
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

// checkSuffixes end the names of CHECK constraints (and of the domains
// that replace single-column ones) in the migrations
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
