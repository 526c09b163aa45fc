package database_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/database/dbtest"
)

// writeLogEntry is a row of write_log: seq follows the order of the commits.
type writeLogEntry struct {
	Seq  int64 `gorm:"primaryKey;autoIncrement"`
	Name string
}

func (writeLogEntry) TableName() string { return "write_log" }

func createWriteLog(t *testing.T, db *gorm.DB) {
	t.Helper()
	mustExec(t, db, "CREATE TABLE write_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)")
}

func logWrite(ctx context.Context, db *gorm.DB, name string) error {
	return database.Conn(ctx, db).Exec("INSERT INTO write_log (name) VALUES (?)", name).Error
}

// writeOrder returns the names in write_log, in commit order.
func writeOrder(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var names []string
	if err := db.Raw("SELECT name FROM write_log ORDER BY seq").Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	return names
}

// awaitQueued waits until n writers wait in db's write queue. The counter is
// the proof; the sleep only paces the polling.
func awaitQueued(t *testing.T, db *gorm.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for database.WriteQueueWaiting(db) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writers queued, want %d", database.WriteQueueWaiting(db), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSQLiteWritersAreServedInArrivalOrder: while A holds the write slot,
// B (a transaction), C (an autocommit Exec), D (GORM's Create, in the
// transaction GORM wraps it in) and E (a transaction) arrive in that order,
// each observed waiting in the queue before the next starts. Once A commits
// they commit in arrival order. Without the queue they would race on
// SQLite's busy handler, in no particular order.
func TestSQLiteWritersAreServedInArrivalOrder(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	db := tdb.DB
	createWriteLog(t, db)
	tm := newTxManager(db)
	ctx := context.Background()

	release := holdWriteTransaction(t, db)
	writers := []struct {
		name  string
		write func() error
	}{
		{"B", func() error {
			return tm.Transact(ctx, func(ctx context.Context) error { return logWrite(ctx, db, "B") })
		}},
		{"C", func() error { return logWrite(ctx, db, "C") }},
		{"D", func() error { return db.WithContext(ctx).Create(&writeLogEntry{Name: "D"}).Error }},
		{"E", func() error {
			return tm.Transact(ctx, func(ctx context.Context) error { return logWrite(ctx, db, "E") })
		}},
	}
	errs := make(chan error, len(writers))
	for i, w := range writers {
		go func() { errs <- w.write() }()
		awaitQueued(t, db, i+1)
	}
	if err := release(); err != nil {
		t.Fatalf("holding transaction: %v", err)
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Errorf("writer: %v", err)
		}
	}
	if got, want := writeOrder(t, db), []string{"B", "C", "D", "E"}; !slices.Equal(got, want) {
		t.Errorf("commit order %v, want the arrival order %v", got, want)
	}
	if n := database.WriteQueueWaiting(db); n != 0 {
		t.Errorf("%d writers still queued", n)
	}
}

// TestSQLiteReadsDoNotWaitForTheWriteQueue: while A holds the write slot and
// B waits for it, a read-only transaction and plain SELECTs complete (A
// commits only after them, so had they queued they would never return).
func TestSQLiteReadsDoNotWaitForTheWriteQueue(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	db := tdb.DB
	createWriteLog(t, db)
	tm := newTxManager(db)
	ctx := context.Background()

	release := holdWriteTransaction(t, db)
	queued := make(chan error, 1)
	go func() {
		queued <- tm.Transact(ctx, func(ctx context.Context) error { return logWrite(ctx, db, "B") })
	}()
	awaitQueued(t, db, 1)

	err := tm.Transact(ctx, func(ctx context.Context) error {
		_, err := countRows(ctx, db)
		return err
	}, database.ReadOnly())
	if err != nil {
		t.Errorf("read-only transaction: %v", err)
	}
	if _, err := countRows(ctx, db); err != nil {
		t.Errorf("SELECT outside a transaction: %v", err)
	}
	var rows []writeLogEntry
	if err := db.WithContext(ctx).Find(&rows).Error; err != nil {
		t.Errorf("Find: %v", err)
	}
	if n := database.WriteQueueWaiting(db); n != 1 {
		t.Errorf("%d writers queued during the reads, want 1 (B)", n)
	}
	if err := release(); err != nil {
		t.Fatalf("holding transaction: %v", err)
	}
	if err := <-queued; err != nil {
		t.Errorf("queued writer: %v", err)
	}
}

func countRows(ctx context.Context, db *gorm.DB) (int64, error) {
	var n int64
	err := database.Conn(ctx, db).Raw("SELECT COUNT(*) FROM write_log").Scan(&n).Error
	return n, err
}

// TestSQLiteCancelledWaitLeavesTheQueue: a writer whose context is cancelled
// while it waits returns the context's error, leaves the queue, and does not
// keep the slot: the writers behind it, and a later one, still write.
func TestSQLiteCancelledWaitLeavesTheQueue(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	db := tdb.DB
	createWriteLog(t, db)
	tm := newTxManager(db)
	ctx := context.Background()

	release := holdWriteTransaction(t, db)
	cctx, cancel := context.WithCancel(ctx)
	var ran bool
	cancelled := make(chan error, 1)
	go func() {
		cancelled <- tm.Transact(cctx, func(ctx context.Context) error { ran = true; return logWrite(ctx, db, "B") })
	}()
	awaitQueued(t, db, 1)
	behind := make(chan error, 1)
	go func() { behind <- logWrite(ctx, db, "C") }()
	awaitQueued(t, db, 2)

	cancel()
	err := <-cancelled
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled writer: %v, want context.Canceled", err)
	}
	if ran {
		t.Error("the cancelled writer's function ran")
	}
	if n := database.WriteQueueWaiting(db); n != 1 {
		t.Errorf("%d writers queued after the cancellation, want 1 (C)", n)
	}
	if err := release(); err != nil {
		t.Fatalf("holding transaction: %v", err)
	}
	if err := <-behind; err != nil {
		t.Errorf("writer behind the cancelled one: %v", err)
	}
	if err := tm.Transact(ctx, func(ctx context.Context) error { return logWrite(ctx, db, "D") }); err != nil {
		t.Errorf("later writer: %v", err)
	}
	if got, want := writeOrder(t, db), []string{"C", "D"}; !slices.Equal(got, want) {
		t.Errorf("writes %v, want %v", got, want)
	}
	if got := tm.Stats(); got.RetriesBusy != 0 {
		t.Errorf("Stats() = %+v, want no busy retry", got)
	}
}

// TestSQLiteWriteQueueTimeoutIsBusy: a writer that waits in the queue for
// longer than sqlite.busy_timeout fails as SQLite itself would, with an error
// RetryReason classifies as busy (so Transact retries it).
func TestSQLiteWriteQueueTimeoutIsBusy(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	impatient := openImpatientSQLite(t, tdb)
	createWriteLog(t, impatient)
	tm := newTxManager(impatient)

	release := holdWriteTransaction(t, impatient)
	err := tm.Transact(context.Background(), func(ctx context.Context) error {
		return logWrite(ctx, impatient, "B")
	}, database.WithAttempts(1))
	stmtErr := logWrite(context.Background(), impatient, "C")
	if err := release(); err != nil {
		t.Errorf("holding transaction: %v", err)
	}
	for _, err := range []error{err, stmtErr} {
		if !errors.Is(err, database.ErrWriteQueueTimeout) || database.RetryReason(err) != database.RetryBusy {
			t.Errorf("error %v (retry reason %q), want ErrWriteQueueTimeout, retried as %q", err, database.RetryReason(err), database.RetryBusy)
		}
	}
	if n := database.WriteQueueWaiting(impatient); n != 0 {
		t.Errorf("%d writers still queued", n)
	}
}

// TestSQLiteNestedWriterFailsAtOnce: inside a write transaction, which holds
// SQLite's only write lock, an independent write transaction (RequiresNew)
// or a statement on the pool with the transaction's context could only wait
// for that lock: they fail at once with ErrNestedWriter, not retried.
func TestSQLiteNestedWriterFailsAtOnce(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	db := tdb.DB
	createWriteLog(t, db)
	tm := newTxManager(db)

	var inner, stmt error
	err := tm.Transact(context.Background(), func(ctx context.Context) error {
		inner = tm.Transact(ctx, func(ctx context.Context) error {
			return logWrite(ctx, db, "inner")
		}, database.WithPropagation(database.RequiresNew))
		stmt = db.WithContext(ctx).Exec("INSERT INTO write_log (name) VALUES ('pool')").Error
		return logWrite(ctx, db, "outer")
	})
	if err != nil {
		t.Fatalf("outer Transact: %v", err)
	}
	for _, err := range []error{inner, stmt} {
		if !errors.Is(err, database.ErrNestedWriter) || database.RetryReason(err) != "" {
			t.Errorf("nested writer: %v, want ErrNestedWriter, not retried", err)
		}
	}
	if got, want := writeOrder(t, db), []string{"outer"}; !slices.Equal(got, want) {
		t.Errorf("writes %v, want %v", got, want)
	}
	if got := tm.Stats(); got.RetriesBusy != 0 {
		t.Errorf("Stats() = %+v, want no busy retry", got)
	}
}

// TestWriteQueueOnlyOnSQLite: NewDatabase installs the write queue on
// SQLite and not on PostgreSQL, where writers go straight to the server.
func TestWriteQueueOnlyOnSQLite(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		_, installed := tdb.DB.Config.Plugins[database.WriteQueueName]
		if want := tdb.Engine == dbtest.SQLite; installed != want {
			t.Errorf("write queue installed: %v, want %v", installed, want)
		}
	})
}

// TestWriteQueueWaitMetric: each SQLite writer records its wait in
// db_sqlite_write_queue_wait_seconds.
func TestWriteQueueWaitMetric(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	reg := prometheus.NewRegistry()
	h, err := database.NewDatabase(context.Background(), tdb.Config, database.WithLogger(dbtest.Logger()),
		database.WithMetrics(database.NewMetrics(reg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	db := h.GormDB()
	createWriteLog(t, db) // one Exec
	err = newTxManager(db).Transact(context.Background(), func(ctx context.Context) error { return logWrite(ctx, db, "A") })
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var count uint64
	for _, mf := range mfs {
		if mf.GetName() == "db_sqlite_write_queue_wait_seconds" {
			count = mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if count != 2 {
		t.Errorf("db_sqlite_write_queue_wait_seconds counted %d waits, want 2", count)
	}
}
