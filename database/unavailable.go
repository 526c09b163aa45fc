package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// UnavailableError is an operation that failed because the database could
// not be reached or went away: the connection was refused or lost, the
// server was shutting down or starting up, or no pooled connection came
// free in time. It matches ErrUnavailable; the caller may retry later (a
// server answers 503 with Retry-After).
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

// TranslateUnavailable returns err as an *UnavailableError when it is a lost
// or refused connection, a server shutting down or starting up, or a pool
// that had no connection before the deadline; any other error unchanged.
// MayHaveCommitted is set unless the driver guarantees nothing was sent.
func TranslateUnavailable(err error) error {
	var ue *UnavailableError
	if err == nil || errors.As(err, &ue) || !connectionLost(err) {
		return err
	}
	var ce *pgconn.ConnectError
	return &UnavailableError{Err: err, MayHaveCommitted: !errors.As(err, &ce) && !pgconn.SafeToRetry(err)}
}

// IsUnavailable reports whether err means the database is unreachable or
// the connection went away (whether or not it is translated yet).
func IsUnavailable(err error) bool {
	return err != nil && (errors.Is(err, ErrUnavailable) || connectionLost(err))
}

// notCommitted clears MayHaveCommitted in err's UnavailableError, if any:
// for errors of work whose transaction was rolled back.
func notCommitted(err error) error {
	err = TranslateUnavailable(err)
	var ue *UnavailableError
	if errors.As(err, &ue) {
		ue.MayHaveCommitted = false
	}
	return err
}

// connectionLost reports whether err means the database is unreachable or
// the connection is gone.
func connectionLost(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's deadline, not the database
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", // admin_shutdown
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03", // cannot_connect_now
			pgErr.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	var (
		ce     *pgconn.ConnectError
		netErr net.Error
	)
	switch {
	case errors.As(err, &ce), errors.As(err, &netErr),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	// pgx reports a connection closed under it in words only.
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "unexpected EOF")
}

// poolTimeout translates the error of waiting for a pooled connection: a
// deadline that passed while waiting is the pool's exhaustion, not the
// operation's.
func poolTimeout(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return &UnavailableError{Err: errors.New("no pooled connection came free before the deadline: " + err.Error())}
	}
	return TranslateUnavailable(err)
}
