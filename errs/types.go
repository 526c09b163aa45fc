package errs

import (
	"fmt"
	"strings"
)

// InputError is invalid input, naming the field and the problem. It matches
// ErrInvalidInput.
type InputError struct {
	// Field is the input's name as callers know it (a JSON field, a flag).
	Field string
	// Problem says what is wrong, e.g. "must be at most 100 characters".
	Problem string
}

// Invalid returns an *InputError naming field, with the problem formatted
// from format and args.
func Invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Error returns "invalid input: field: problem".
func (e *InputError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalidInput, e.Field, e.Problem)
}

// Is reports whether target is ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

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

// UnavailableError is an operation that failed because the database could
// not be reached or went away: the connection was refused or lost, the
// server was shutting down or starting up, or no pooled connection came
// free in time. It matches ErrUnavailable; the caller may retry later.
type UnavailableError struct {
	// MayHaveCommitted is true when the connection was lost after a commit
	// (or a statement outside a transaction) was sent: the change may have
	// been made, and only reading it back (an idempotency key) tells. It is
	// false when nothing can have been committed.
	MayHaveCommitted bool
	// Err is the driver's error.
	Err error
}

// Error says the database is unavailable, why, and whether the operation
// may have committed.
func (e *UnavailableError) Error() string {
	msg := ErrUnavailable.Error() + ": " + e.Err.Error()
	if e.MayHaveCommitted {
		return msg + " (the operation may have committed: read it back before repeating it)"
	}
	return msg + " (nothing was committed)"
}

// Is reports whether target is ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the driver's error.
func (e *UnavailableError) Unwrap() error { return e.Err }
