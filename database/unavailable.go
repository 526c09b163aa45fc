package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"socialpredict/errs"
)

// TranslateUnavailable returns err as an *errs.UnavailableError (matching
// errs.ErrUnavailable) when it is a lost
// or refused connection, a server shutting down or starting up, or a pool
// that had no connection before the deadline; any other error unchanged.
// MayHaveCommitted is set unless the driver guarantees nothing was sent.
//
// SQLite's storage failures (a read-only file, a full disk, an I/O error, a
// file that cannot be opened) are unavailability too: the process and the
// data are fine, the file cannot be written or read until an operator
// acts, and the error names which it is. MayHaveCommitted is false for
// them but for an I/O error, which may hit a commit half way (SQLite then
// rolls back, but we do not rely on it).
func TranslateUnavailable(err error) error {
	var ue *errs.UnavailableError
	if err == nil || errors.As(err, &ue) {
		return err
	}
	if what, ioErr, ok := sqliteStorage(err); ok {
		return &errs.UnavailableError{Err: fmt.Errorf("sqlite storage: %s: %w", what, err), MayHaveCommitted: ioErr}
	}
	if !connectionLost(err) {
		return err
	}
	var ce *pgconn.ConnectError
	return &errs.UnavailableError{Err: err, MayHaveCommitted: !errors.As(err, &ce) && !pgconn.SafeToRetry(err)}
}

// IsUnavailable reports whether err means the database is unreachable, the
// connection went away or SQLite's file cannot be written or read (whether
// or not it is translated yet).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	_, _, storage := sqliteStorage(err)
	return storage || errors.Is(err, errs.ErrUnavailable) || connectionLost(err)
}

// sqliteStorage says what is wrong when err is one of SQLite's storage
// failures, and whether it is an I/O error.
func sqliteStorage(err error) (what string, ioErr, ok bool) {
	var liteErr *sqlite.Error
	if !errors.As(err, &liteErr) {
		return "", false, false
	}
	switch liteErr.Code() & 0xff { // primary result code
	case sqlite3.SQLITE_READONLY:
		return "the database file is read-only", false, true
	case sqlite3.SQLITE_FULL:
		return "the disk is full", false, true
	case sqlite3.SQLITE_CANTOPEN:
		return "the database file cannot be opened", false, true
	case sqlite3.SQLITE_PERM:
		return "access to the database file is denied", false, true
	case sqlite3.SQLITE_IOERR:
		return "the database file cannot be read or written (disk I/O error: a read-only or full file system, or a failing disk)", true, true
	}
	return "", false, false
}

// notCommitted clears MayHaveCommitted in err's UnavailableError, if any:
// for errors of work whose transaction was rolled back.
func notCommitted(err error) error {
	err = TranslateUnavailable(err)
	var ue *errs.UnavailableError
	if errors.As(err, &ue) {
		ue.MayHaveCommitted = false
	}
	return err
}

// connectionLost reports whether err means the database is unreachable or
// the connection is gone.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		// A connection that could not be opened: the database is down or
		// unreachable, also when the dial timed out (a net timeout error
		// reads as context.DeadlineExceeded, though no caller's deadline
		// passed; see net's timeoutError).
		return true
	}
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
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
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
		return &errs.UnavailableError{Err: errors.New("no pooled connection came free before the deadline: " + err.Error())}
	}
	return TranslateUnavailable(err)
}
