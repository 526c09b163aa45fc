package database

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
)

// WriteQueueName is the name of the GORM plugin that queues the writers of
// a SQLite database (see NewDatabase).
const WriteQueueName = "socialpredict:write_queue"

// ErrWriteQueueTimeout is matched (with errors.Is) by the error of a writer
// that waited sqlite.busy_timeout in the write queue without reaching its
// head. RetryReason reports it as RetryBusy, like SQLite's own
// "database is locked".
var ErrWriteQueueTimeout = errors.New("database is locked: the writers queued ahead in this process took longer than sqlite.busy_timeout")

// ErrNestedWriter is matched by the error of a SQLite write started with a
// context whose transaction holds the write lock, but outside that
// transaction (a RequiresNew write transaction, or a statement on the pool):
// it would wait for the lock its own caller holds. It is not retried.
var ErrNestedWriter = errors.New("a SQLite write cannot start outside the write transaction its context carries: that transaction holds the only write lock")

// writeQueue serializes the writers of one SQLite database in this process,
// in arrival order. SQLite has one write lock, and its busy handler sleeps
// and polls: a writer that has waited for seconds can lose the lock to one
// that just arrived, again and again. Writers that take a slot from the
// queue before BEGIN IMMEDIATE never meet at the lock, so they are served
// first come, first served; SQLite's busy handler then only waits for
// writers of other processes (a `socialpredict migrate`, the sqlite3 shell).
//
// What queues (see Initialize and TransactionManager.runOnce):
//   - write transactions of a TransactionManager (not ReadOnly ones), from
//     before they take a connection until after their commit or rollback;
//   - statements outside a transaction that write through GORM's Create,
//     Update, Delete (with the transaction GORM wraps them in) and Exec.
//     Without the queue, such an autocommit write would poll SQLite's lock
//     against a stream of queued transactions, and could starve.
//
// What does not queue: reads (Find, First, Raw(...).Scan, ReadOnly
// transactions: WAL lets them run beside the writer); statements inside a
// transaction (the transaction queued); transactions begun with GORM's own
// Transaction or Begin (migrations); and a write read through Raw(...).Row,
// Rows or Scan (UPDATE ... RETURNING) outside a transaction, which SQLite
// runs only when the rows are read, after the last callback. Those meet the
// queued writers at SQLite's lock, through its busy handler, like another
// process's writes; the repositories run theirs inside transactions.
//
// The queue is a ticket lock: the holder hands the slot to the oldest
// waiter on release. A waiter gives up when its context ends (with the
// context's error) or after limit (sqlite.busy_timeout; 0: no limit) with
// ErrWriteQueueTimeout, which is retried like SQLITE_BUSY.
type writeQueue struct {
	limit   time.Duration
	metrics *Metrics

	mu      sync.Mutex
	held    bool
	waiters []*writeWaiter
}

// writeWaiter is a writer waiting in the queue: ready is closed, and
// granted set under the queue's lock, when it is handed the slot.
type writeWaiter struct {
	ready   chan struct{}
	granted bool
}

// writeSlotKey keys, in a context, the queue whose slot the context's
// transaction holds; in a statement's Settings, the slot it took.
type writeSlotKey struct{}

// newWriteQueue returns an empty queue whose waiters give up after limit
// (0: never), recording wait times in metrics when it is not nil.
func newWriteQueue(limit time.Duration, metrics *Metrics) *writeQueue {
	return &writeQueue{limit: limit, metrics: metrics}
}

// writeQueueOf returns the write queue installed on db, or nil (PostgreSQL,
// or a SQLite database not opened by NewDatabase).
func writeQueueOf(db *gorm.DB) *writeQueue {
	q, _ := db.Config.Plugins[WriteQueueName].(*writeQueue)
	return q
}

func (q *writeQueue) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiters)
}

// acquire waits until the caller holds the slot, in arrival order. It
// returns ctx's error when ctx ends first, ErrWriteQueueTimeout after the
// queue's limit, and ErrNestedWriter when ctx says its caller already holds
// the slot; the slot is then not held.
func (q *writeQueue) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if holder, _ := ctx.Value(writeSlotKey{}).(*writeQueue); holder == q {
		return ErrNestedWriter
	}
	start := time.Now()
	q.mu.Lock()
	if !q.held {
		q.held = true
		q.mu.Unlock()
		q.observe(0)
		return nil
	}
	w := &writeWaiter{ready: make(chan struct{})}
	q.waiters = append(q.waiters, w)
	q.mu.Unlock()

	var expired <-chan time.Time
	if q.limit > 0 {
		t := time.NewTimer(q.limit)
		defer t.Stop()
		expired = t.C
	}
	var err error
	select {
	case <-w.ready:
		q.observe(time.Since(start))
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-expired:
		err = fmt.Errorf("%w (waited %s)", ErrWriteQueueTimeout, q.limit)
	}
	q.mu.Lock()
	if w.granted { // handed the slot as we gave up: pass it on
		q.handOff()
	} else {
		q.waiters = slices.DeleteFunc(q.waiters, func(x *writeWaiter) bool { return x == w })
	}
	q.mu.Unlock()
	return err
}

// release gives the slot to the oldest waiter, or frees it.
func (q *writeQueue) release() {
	q.mu.Lock()
	q.handOff()
	q.mu.Unlock()
}

// handOff passes the held slot on; q.mu must be held.
func (q *writeQueue) handOff() {
	if len(q.waiters) == 0 {
		q.held = false
		return
	}
	w := q.waiters[0]
	q.waiters[0] = nil
	q.waiters = q.waiters[1:]
	w.granted = true
	close(w.ready)
}

func (q *writeQueue) observe(wait time.Duration) {
	if q.metrics != nil {
		q.metrics.WriteQueueWait.Observe(wait.Seconds())
	}
}

// Name implements gorm.Plugin.
func (q *writeQueue) Name() string { return WriteQueueName }

// Initialize implements gorm.Plugin: it queues Create, Update, Delete and
// Exec run outside a transaction, around every other callback (so around
// the transaction GORM wraps Create, Update and Delete in).
func (q *writeQueue) Initialize(db *gorm.DB) error {
	cb := db.Callback()
	for _, reg := range []func() error{
		func() error { return cb.Create().Before("*").Register(WriteQueueName+":acquire", q.take) },
		func() error { return cb.Create().After("*").Register(WriteQueueName+":release", q.give) },
		func() error { return cb.Update().Before("*").Register(WriteQueueName+":acquire", q.take) },
		func() error { return cb.Update().After("*").Register(WriteQueueName+":release", q.give) },
		func() error { return cb.Delete().Before("*").Register(WriteQueueName+":acquire", q.take) },
		func() error { return cb.Delete().After("*").Register(WriteQueueName+":release", q.give) },
		func() error { return cb.Raw().Before("*").Register(WriteQueueName+":acquire", q.take) },
		func() error { return cb.Raw().After("*").Register(WriteQueueName+":release", q.give) },
	} {
		if err := reg(); err != nil {
			return err
		}
	}
	return nil
}

// take is the callback that queues a statement run outside a transaction.
func (q *writeQueue) take(tx *gorm.DB) {
	if tx.Error != nil {
		return
	}
	if _, inTx := tx.Statement.ConnPool.(gorm.TxCommitter); inTx {
		return
	}
	ctx := tx.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if err := q.acquire(ctx); err != nil {
		_ = tx.AddError(err)
		return
	}
	tx.Statement.Settings.Store(writeSlotKey{}, q)
	// The query monitor times the statement from here, not the wait.
	if _, ok := tx.Statement.Settings.Load(startKey{}); ok {
		tx.Statement.Settings.Store(startKey{}, time.Now())
	}
}

// give is the callback that releases the slot take took.
func (q *writeQueue) give(tx *gorm.DB) {
	if _, ok := tx.Statement.Settings.LoadAndDelete(writeSlotKey{}); ok {
		q.release()
	}
}
