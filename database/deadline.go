package database

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"socialpredict/errs"
)

// DeadlineMargin is how long before its caller's deadline the server
// cancels a statement run by QueryAutocommit (a tenth of the time left when
// that is shorter), so that the server's answer reaches the caller before
// the deadline: no caller waits past its own.
const DeadlineMargin = 100 * time.Millisecond

// QueryAutocommit runs sql with args on conn as one PostgreSQL statement
// outside any transaction, so that it commits by itself, and returns its
// rows, which the caller reads and closes.
//
// When ctx has a deadline, the server enforces it: the statement is sent
// in one round trip after `SELECT set_config('statement_timeout', <time
// left less DeadlineMargin>, true)`, which lasts for the statement's own
// transaction only (so it is safe behind PgBouncer in transaction
// pooling), and the client reads the answer until the deadline. Without
// this, pgx closes the connection at the deadline and sends a cancel
// request; but a cancel request that reaches the server before the
// statement starts is ignored, and a server does not notice a closed
// connection while the statement waits for a row lock: the statement then
// commits after its caller was told it failed (seen under a CPU hog: a bet
// answered 503 at its deadline was placed when the lock came free). With
// it, the statement has ended, committed or cancelled, by the deadline:
// the caller learns its result or an *errs.UnavailableError saying that
// nothing was committed, and only if the server's answer is later than the
// deadline (a network or a machine that slow) does the caller not know,
// as before. A ctx cancelled before its deadline does not stop the
// statement, whose deadline the server holds: so its outcome is known.
//
// Without a deadline this is conn.Query with ctx. Errors are returned
// untranslated, except the server's cancellation (SQLSTATE 57014), which
// becomes the *errs.UnavailableError described above, and the deadline
// passing before the server's answer, an *errs.UnavailableError that may
// have committed (a 503 even when the caller's ctx does not report its
// deadline yet). The repositories translate the rest.
func QueryAutocommit(ctx context.Context, conn *pgx.Conn, sql string, args ...any) (pgx.Rows, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return conn.Query(ctx, sql, args...)
	}
	left := time.Until(deadline)
	if left <= 0 {
		return nil, &errs.UnavailableError{Err: fmt.Errorf("the deadline passed before the statement was sent: %w", context.DeadlineExceeded)}
	}
	wait, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	timeout := max(left-min(DeadlineMargin, left/10), time.Millisecond)
	b := &pgx.Batch{}
	b.Queue("SELECT set_config('statement_timeout', $1, true)", strconv.FormatInt(timeout.Milliseconds(), 10))
	b.Queue(sql, args...)
	br := conn.SendBatch(wait, b)
	q := &deadlineRows{br: br, wait: wait, cancel: cancel, left: left}
	if _, err := br.Exec(); err != nil {
		q.Close()
		return nil, q.translate(err)
	}
	rows, err := br.Query()
	if err != nil {
		q.Close()
		return nil, q.translate(err)
	}
	q.Rows = rows
	return q, nil
}

// QueryRowAutocommit is QueryAutocommit for a statement that returns one
// row: Scan reads it (pgx.ErrNoRows when there is none) and closes the
// rows.
func QueryRowAutocommit(ctx context.Context, conn *pgx.Conn, sql string, args ...any) pgx.Row {
	rows, err := QueryAutocommit(ctx, conn, sql, args...)
	return autocommitRow{rows: rows, err: err}
}

// deadlineRows are the rows of a statement whose deadline the server
// enforces; Close ends the batch that carried it.
type deadlineRows struct {
	pgx.Rows
	br     pgx.BatchResults
	wait   context.Context
	cancel context.CancelFunc
	left   time.Duration
	closed bool
}

// Close closes the rows and the batch.
func (r *deadlineRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	if r.Rows != nil {
		r.Rows.Close()
	}
	_ = r.br.Close()
	r.cancel()
}

// Err is the statement's error, translated (see translate).
func (r *deadlineRows) Err() error { return r.translate(r.Rows.Err()) }

// translate turns the server's cancellation of the statement (SQLSTATE
// 57014) into an *errs.UnavailableError that says nothing was committed
// (the statement failed, so its transaction rolled back), and an error
// because the deadline passed before the server's answer came into one
// that says it may have been: the statement was sent. It returns any other
// error unchanged.
func (r *deadlineRows) translate(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pgErr) && pgErr.Code == "57014":
		return &errs.UnavailableError{Err: fmt.Errorf("the statement did not end within its deadline (%s) and the server cancelled it: %w",
			r.left.Round(time.Millisecond), err)}
	case errors.Is(r.wait.Err(), context.DeadlineExceeded):
		return &errs.UnavailableError{Err: fmt.Errorf("no answer from the server within the statement's deadline (%s): %w",
			r.left.Round(time.Millisecond), err), MayHaveCommitted: true}
	}
	return err
}

// autocommitRow is QueryRowAutocommit's row.
type autocommitRow struct {
	rows pgx.Rows
	err  error
}

// Scan reads the one row into dest and closes the rows.
func (r autocommitRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		r.rows.Close()
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
