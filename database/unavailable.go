package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"socialpredict/errs"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// TranslateUnavailable returns err as an *errs.UnavailableError (matching
// errs.ErrUnavailable) when it is a lost
// or refused connection, a server shutting down or starting up, or a pool
// that had no connection before the deadline; any other error unchanged.
// MayHaveCommitted is set unless the driver guarantees nothing was sent.
func TranslateUnavailable(err error) error {
	var ue *errs.UnavailableError
	if err == nil || errors.As(err, &ue) || !connectionLost(err) {
		return err
	}
	var ce *pgconn.ConnectError
	return &errs.UnavailableError{Err: err, MayHaveCommitted: !errors.As(err, &ce) && !pgconn.SafeToRetry(err)}
}

// IsUnavailable reports whether err means the database is unreachable or
// the connection went away (whether or not it is translated yet).
func IsUnavailable(err error) bool {
	return err != nil && (errors.Is(err, errs.ErrUnavailable) || connectionLost(err))
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
		return &errs.UnavailableError{Err: errors.New("no pooled connection came free before the deadline: " + err.Error())}
	}
	return TranslateUnavailable(err)
}
