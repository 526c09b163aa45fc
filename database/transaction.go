package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Propagation says what a transaction started inside another one does.
type Propagation int

// The propagation modes. They matter only when the context already carries
// a transaction; otherwise every mode starts a new one.
const (
	// Nested (the default) runs in a savepoint of the outer transaction:
	// released on success, rolled back to on failure, so an inner failure that
	// the outer function swallows commits nothing of the inner work.
	Nested Propagation = iota
	// Join runs directly in the outer transaction, with no savepoint: an inner
	// failure is the outer function's to handle (on PostgreSQL it aborts the
	// outer transaction).
	Join
	// RequiresNew always starts an independent transaction on another
	// connection, committed or rolled back on its own. It needs a free
	// connection: with the pool exhausted it waits for one.
	RequiresNew
)

// TxOptions configure one transaction.
type TxOptions struct {
	// Isolation is the isolation level; sql.LevelDefault is the server's
	// (READ COMMITTED on PostgreSQL; SQLite transactions are serializable).
	Isolation sql.IsolationLevel
	// ReadOnly starts a read-only transaction (on SQLite a deferred one, which
	// does not take the write lock).
	ReadOnly bool
	// Timeout bounds the whole transaction, retries included (0: none).
	Timeout time.Duration
	// Propagation applies when the context already carries a transaction.
	Propagation Propagation
	// Attempts overrides the manager's attempts for this transaction (0:
	// the manager's).
	Attempts int
	// Autocommit says fn is one unit of work atomic by itself (one
	// statement, or a pipeline that brings its own BEGIN and COMMIT): no
	// transaction is begun for it, which saves two round trips. Outside a
	// transaction fn is retried as a transaction would be; inside one it
	// joins it and runs once.
	Autocommit bool
}

// TxOption sets a TxOptions field.
type TxOption func(*TxOptions)

// WithIsolation sets the isolation level.
func WithIsolation(level sql.IsolationLevel) TxOption {
	return func(o *TxOptions) { o.Isolation = level }
}

// ReadOnly makes the transaction read-only.
func ReadOnly() TxOption { return func(o *TxOptions) { o.ReadOnly = true } }

// WithTimeout bounds the transaction's duration.
func WithTimeout(d time.Duration) TxOption { return func(o *TxOptions) { o.Timeout = d } }

// WithPropagation sets what happens inside an outer transaction.
func WithPropagation(p Propagation) TxOption { return func(o *TxOptions) { o.Propagation = p } }

// Autocommit marks fn as atomic by itself: no transaction is begun for it
// (see TxOptions.Autocommit).
func Autocommit() TxOption { return func(o *TxOptions) { o.Autocommit = true } }

// WithAttempts sets the attempts of this transaction (1: no retry).
func WithAttempts(n int) TxOption { return func(o *TxOptions) { o.Attempts = n } }

// TxStats counts what a TransactionManager did since it was created.
type TxStats struct {
	// Commits and Rollbacks count outermost transactions (not savepoints).
	Commits, Rollbacks int64
	// Retries counts reruns of whole transactions, by reason.
	RetriesSerialization, RetriesDeadlock, RetriesBusy int64
}

// TransactionManager runs functions in transactions: rollback on error and
// on panic, savepoints for nested calls, the transaction carried in the
// context so that repositories join it, and retry of the whole function on
// serialization failures, deadlocks and SQLite busy errors.
type TransactionManager struct {
	db       *gorm.DB
	log      *slog.Logger
	attempts int
	backoff  Backoff
	observer TxObserver
	active   activeSet
	// writers is the SQLite write queue of db (nil on PostgreSQL).
	writers *writeQueue
	// writes opens the read-your-writes window of the context's session
	// around a write transaction (nil without replicas).
	writes func(ctx context.Context) func()

	commits, rollbacks                      atomic.Int64
	retrySerialization, retryDeadlock, busy atomic.Int64
}

// TxManagerOption configures a TransactionManager.
type TxManagerOption func(*TransactionManager)

// WithTxLogger logs retries to log (default slog.Default()).
func WithTxLogger(log *slog.Logger) TxManagerOption {
	return func(tm *TransactionManager) { tm.log = log }
}

// WithRetry sets how many times a transaction runs at most (default 4) and
// the backoff between runs (default 20ms doubling to at most 1s, with
// jitter).
func WithRetry(attempts int, backoff Backoff) TxManagerOption {
	return func(tm *TransactionManager) { tm.attempts, tm.backoff = attempts, backoff }
}

// WithTxObserver reports every outermost transaction and every retry to o
// (for metrics: *Metrics implements it).
func WithTxObserver(o TxObserver) TxManagerOption {
	return func(tm *TransactionManager) { tm.observer = o }
}

// NewTransactionManager returns a manager of transactions on db.
func NewTransactionManager(db *gorm.DB, opts ...TxManagerOption) *TransactionManager {
	tm := &TransactionManager{
		active:   activeSet{kind: "transaction"},
		db:       db,
		log:      slog.Default(),
		attempts: 4,
		backoff:  Backoff{Initial: 20 * time.Millisecond, Max: time.Second},
	}
	for _, o := range opts {
		o(tm)
	}
	tm.attempts = max(tm.attempts, 1)
	tm.writers = writeQueueOf(db)
	return tm
}

// LongTransactions returns the transactions in progress for longer than d,
// oldest first, each with the stack of the code that began it: a
// transaction held that long is probably leaked or waiting on something
// outside the database.
func (tm *TransactionManager) LongTransactions(d time.Duration) []ActiveTx {
	return tm.active.olderThan(d)
}

// Stats returns the counters.
func (tm *TransactionManager) Stats() TxStats {
	return TxStats{
		Commits: tm.commits.Load(), Rollbacks: tm.rollbacks.Load(),
		RetriesSerialization: tm.retrySerialization.Load(), RetriesDeadlock: tm.retryDeadlock.Load(), RetriesBusy: tm.busy.Load(),
	}
}

// WithTransaction runs fn in a transaction, as the plan describes: the
// transaction commits when fn returns nil and rolls back when fn returns an
// error or panics (the panic then continues). tx is bound to a context that
// carries the transaction, so repository methods called with
// tx.Statement.Context join it. See Transact for nesting and retries.
func (tm *TransactionManager) WithTransaction(ctx context.Context, fn func(tx *gorm.DB) error, opts ...TxOption) error {
	return tm.Transact(ctx, func(ctx context.Context) error {
		return fn(Conn(ctx, tm.db))
	}, opts...)
}

// Transact runs fn in a transaction carried by the context fn receives;
// repositories called with that context join it (see Conn).
//
// When ctx already carries a transaction, the call is nested: by default
// it runs in a savepoint (see Propagation). Only the outermost call retries:
// on a serialization failure (SQLSTATE 40001), a deadlock (40P01) or SQLite
// busy/locked, it rolls back, waits a capped exponential backoff with jitter
// and reruns fn from the start, at most the configured attempts. fn must
// therefore do nothing outside the database that cannot be repeated.
//
// The error is fn's error (or the commit's), with any rollback error joined
// to it; after the last attempt it is the last retryable error. A cancelled
// context rolls back and returns the connection to the pool.
func (tm *TransactionManager) Transact(ctx context.Context, fn func(ctx context.Context) error, opts ...TxOption) error {
	o := TxOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	if tm.writes != nil && !o.ReadOnly {
		defer tm.writes(ctx)()
	}
	if o.Autocommit {
		if txFrom(ctx) != nil {
			return fn(ctx)
		}
		return TranslateUnavailable(tm.retry(ctx, tm.attemptsFor(o), "statement", func() error { return fn(ctx) }))
	}
	if outer := txFrom(ctx); outer != nil {
		switch o.Propagation {
		case Join:
			return fn(ctx)
		case Nested:
			return tm.savepoint(ctx, outer, fn)
		}
		ctx = context.WithValue(ctx, txKey{}, (*txState)(nil)) // RequiresNew: hide the outer one
	}
	attempts := tm.attemptsFor(o)
	start := time.Now()
	id := tm.active.add()
	err := tm.retry(ctx, attempts, "transaction", func() error { return tm.runOnce(ctx, fn, o) })
	tm.active.remove(id)
	if tm.observer != nil {
		outcome := "commit"
		if err != nil {
			outcome = "rollback"
		}
		tm.observer.ObserveTx(outcome, time.Since(start))
	}
	return err
}

// retry runs once until it succeeds, fails with an error RetryReason does
// not retry, attempts runs were made, or ctx ends; it waits the backoff
// between runs, and logs and counts each retry.
func (tm *TransactionManager) retry(ctx context.Context, attempts int, what string, once func() error) error {
	cancelled, err := tm.backoff.Retry(ctx, attempts, func(err error) bool { return RetryReason(err) != "" },
		func(attempt int, delay time.Duration, err error) {
			reason := RetryReason(err)
			tm.countRetry(reason)
			tm.log.Warn(what+" retried", "reason", reason, "attempt", attempt, "retry_in", delay, "error", err)
		}, func(int) error { return once() })
	if cancelled {
		return errors.Join(err, ctx.Err())
	}
	return err
}

func (tm *TransactionManager) countRetry(reason string) {
	if tm.observer != nil {
		tm.observer.ObserveRetry(reason)
	}
	switch reason {
	case RetrySerialization:
		tm.retrySerialization.Add(1)
	case RetryDeadlock:
		tm.retryDeadlock.Add(1)
	default:
		tm.busy.Add(1)
	}
}

// runOnce begins a transaction, runs fn and commits or rolls back. On
// SQLite a write transaction first waits for its turn in the write queue
// (before it takes a connection, so that queued writers leave the pool to
// readers) and leaves it after its commit or rollback.
func (tm *TransactionManager) runOnce(ctx context.Context, fn func(ctx context.Context) error, o TxOptions) (err error) {
	sqlDB, err := tm.db.DB()
	if err != nil {
		return err
	}
	if tm.writers != nil && !o.ReadOnly {
		if err := tm.writers.acquire(ctx); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		defer tm.writers.release()
		ctx = context.WithValue(ctx, writeSlotKey{}, tm.writers)
	}
	// A dedicated connection, so that bulk operations can reach the driver
	// connection under the transaction (see Raw).
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", poolTimeout(ctx, err))
	}
	defer conn.Close()
	state := &txState{conn: conn}
	txCtx := context.WithValue(ctx, txKey{}, state)
	session := tm.db.Session(&gorm.Session{NewDB: true, Context: txCtx})
	session.Statement.ConnPool = conn
	tx := session.Begin(&sql.TxOptions{Isolation: o.Isolation, ReadOnly: o.ReadOnly})
	if tx.Error != nil {
		return fmt.Errorf("begin transaction: %w", notCommitted(tx.Error))
	}
	state.tx = tx

	// Roll back when fn does not return: it panicked (the panic goes on) or
	// called runtime.Goexit (as t.Fatal does); otherwise the open
	// transaction would hold the connection for good.
	returned := false
	defer func() {
		if !returned {
			tm.rollback(tx, nil)
		}
	}()
	err = fn(txCtx)
	returned = true
	if err != nil {
		// Rolled back: nothing fn did can have committed.
		return tm.rollback(tx, notCommitted(err))
	}
	if err := tx.Commit().Error; err != nil {
		tm.rollbacks.Add(1)
		return fmt.Errorf("commit: %w", TranslateUnavailable(err))
	}
	tm.commits.Add(1)
	return nil
}

// rollback rolls tx back and returns cause with any rollback error joined
// (a transaction already ended, as by a cancelled context, is not an error).
func (tm *TransactionManager) rollback(tx *gorm.DB, cause error) error {
	tm.rollbacks.Add(1)
	// A transaction whose context was cancelled is already rolled back (and
	// its connection discarded) by database/sql: that is not a rollback error.
	if err := tx.Rollback().Error; err != nil && !errors.Is(err, sql.ErrTxDone) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return errors.Join(cause, fmt.Errorf("rollback: %w", err))
	}
	return cause
}

// savepoint runs fn in a savepoint of the outer transaction.
func (tm *TransactionManager) savepoint(ctx context.Context, outer *txState, fn func(ctx context.Context) error) (err error) {
	outer.savepoints++
	name := fmt.Sprintf("sp_%d", outer.savepoints)
	if err := outer.tx.Exec("SAVEPOINT " + name).Error; err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	undo := func(cause error) error {
		if rbErr := outer.tx.Exec("ROLLBACK TO SAVEPOINT " + name).Error; rbErr != nil {
			return errors.Join(cause, fmt.Errorf("rollback to savepoint: %w", rbErr))
		}
		// Release it too, so it does not linger until the outer commit.
		if relErr := outer.tx.Exec("RELEASE SAVEPOINT " + name).Error; relErr != nil {
			return errors.Join(cause, fmt.Errorf("release savepoint: %w", relErr))
		}
		return cause
	}
	returned := false
	defer func() {
		if !returned { // a panic or runtime.Goexit in fn
			_ = undo(nil)
		}
	}()
	err = fn(ctx)
	returned = true
	if err != nil {
		return undo(err)
	}
	if err := outer.tx.Exec("RELEASE SAVEPOINT " + name).Error; err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// attemptsFor returns how many times a transaction with options o runs at
// most.
func (tm *TransactionManager) attemptsFor(o TxOptions) int {
	if o.Attempts > 0 {
		return o.Attempts
	}
	return tm.attempts
}
