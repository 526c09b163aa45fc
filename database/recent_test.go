package database_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
)

// secretArg is a parameter value no slow query record may hold.
const secretArg = "hunter2-secret-key"

// monitoredHandle opens another handle on tdb's database, its configuration
// (the query monitor's, mostly) changed by change.
func monitoredHandle(t *testing.T, tdb *dbtest.TestDB, change func(*database.Config)) *database.DB {
	t.Helper()
	cfg := tdb.Config
	change(&cfg)
	db, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// noSecret fails the test when the JSON of v holds secretArg.
func noSecret(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secretArg) {
		t.Errorf("a parameter value is kept: %s", b)
	}
}

// holdWriteLock takes SQLite's write lock on a connection of tdb's own pool
// (not the monitored handle's, whose writers would queue in the process)
// and returns the function that releases it, also called after d when d > 0
// and when the test ends.
func holdWriteLock(t *testing.T, tdb *dbtest.TestDB, d time.Duration) func() {
	t.Helper()
	sqlDB, err := tdb.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		t.Fatal(err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Error(err)
			}
			conn.Close()
		})
	}
	if d > 0 {
		time.AfterFunc(d, release)
	}
	t.Cleanup(release)
	return release
}

// runSlow runs a statement with secretArg as its parameter that takes at
// least 300ms, and fails after timeout when timeout > 0: PostgreSQL sleeps;
// on SQLite the statement is an INSERT that waits for the write lock (CPU
// bound statements are too slow under the race detector).
func runSlow(t *testing.T, tdb *dbtest.TestDB, db *database.DB, ctx context.Context, timeout time.Duration) error {
	t.Helper()
	if tdb.Engine == dbtest.Postgres {
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return db.Conn(ctx).Exec("SELECT pg_sleep(0.3), CAST(? AS text)", secretArg).Error
	}
	hold := 400 * time.Millisecond
	if timeout > 0 {
		hold = 0 // held until the statement gave up
	}
	defer holdWriteLock(t, tdb, hold)()
	return db.Conn(ctx).Exec("INSERT INTO things (v) VALUES (CAST(? AS text))", secretArg).Error
}

func TestRecentSlowQueries(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		if err := tdb.DB.Exec("CREATE TABLE things (v text)").Error; err != nil {
			t.Fatal(err)
		}
		db := monitoredHandle(t, tdb, func(c *database.Config) { c.Monitoring.SlowQueryThreshold = 100 * time.Millisecond })
		ctx := database.WithOperationID(context.Background(), "req-7")
		if err := runSlow(t, tdb, db, ctx, 0); err != nil {
			t.Fatal(err)
		}
		recent := db.Monitor().RecentSlow()
		if len(recent) != 1 {
			t.Fatalf("kept %+v, want the slow statement", recent)
		}
		q := recent[0]
		if !strings.Contains(q.SQL, "CAST(") || strings.Contains(q.SQL, secretArg) {
			t.Errorf("SQL %q, want the statement with a placeholder", q.SQL)
		}
		if !strings.Contains(q.Caller, "recent_test.go:") || q.OperationID != "req-7" || q.ErrorClass != "" ||
			q.Duration < 100*time.Millisecond || time.Since(q.Start) > time.Minute || q.Rows != 1 {
			t.Errorf("slow query %+v, want this file's caller, operation req-7, no error, 1 row, at least 100ms, just now", q)
		}
		noSecret(t, recent)

		// A slow statement that fails keeps its error class, not its message.
		failing := db
		if tdb.Engine == dbtest.SQLite {
			failing = monitoredHandle(t, tdb, func(c *database.Config) {
				c.Monitoring.SlowQueryThreshold = 100 * time.Millisecond
				c.SQLite.BusyTimeout = 200 * time.Millisecond
			})
		}
		if err := runSlow(t, tdb, failing, ctx, 200*time.Millisecond); err == nil {
			t.Fatal("the failing statement succeeded")
		}
		recent = failing.Monitor().RecentSlow()
		want := map[dbtest.Engine][]string{dbtest.Postgres: {"57", "canceled"}, dbtest.SQLite: {"sqlite_5"}}[tdb.Engine]
		if len(recent) == 0 || !slices.Contains(want, recent[0].ErrorClass) {
			t.Errorf("failed slow query %+v, want error class %s", recent, want)
		}
		noSecret(t, recent)
	})
}

func TestRecentSlowKeepsTheLastN(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db := monitoredHandle(t, tdb, func(c *database.Config) {
			c.Monitoring.SlowQueryThreshold = time.Nanosecond // every statement is slow
			c.Monitoring.RecentSlowQueries = 3
		})
		for i := range 5 {
			if err := db.GormDB().Exec(fmt.Sprintf("SELECT %d AS q%d", i, i)).Error; err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, q := range db.Monitor().RecentSlow() {
			got = append(got, q.SQL)
		}
		if want := []string{"SELECT 4 AS q4", "SELECT 3 AS q3", "SELECT 2 AS q2"}; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("kept %q, want %q (the last 3, newest first)", got, want)
		}

		off := monitoredHandle(t, tdb, func(c *database.Config) {
			c.Monitoring.SlowQueryThreshold = time.Nanosecond
			c.Monitoring.RecentSlowQueries = 0
		})
		if err := off.GormDB().Exec("SELECT 1").Error; err != nil {
			t.Fatal(err)
		}
		if got := off.Monitor().RecentSlow(); len(got) != 0 {
			t.Errorf("recent_slow_queries 0 kept %+v", got)
		}
	})
}

func TestRecentSlowConcurrent(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		const size, workers, each = 8, 6, 40
		db := monitoredHandle(t, tdb, func(c *database.Config) {
			c.Monitoring.SlowQueryThreshold = time.Nanosecond
			c.Monitoring.RecentSlowQueries = size
			c.Monitoring.NPlusOneThreshold = 2
		})
		mon := db.Monitor()
		var wg, reader sync.WaitGroup
		done := make(chan struct{})
		reader.Go(func() { // reads the whole time
			for {
				select {
				case <-done:
					return
				case <-time.After(50 * time.Microsecond):
					if len(mon.RecentSlow()) > size || len(mon.RecentNPlusOne()) > 50 {
						t.Error("a ring outgrew its size")
					}
				}
			}
		})
		for w := range workers {
			wg.Go(func() {
				ctx, _ := database.WithQueryScope(database.WithOperationID(context.Background(), fmt.Sprint("w", w)))
				for range each {
					if err := db.Conn(ctx).Exec("SELECT CAST(? AS text)", secretArg).Error; err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(done)
		reader.Wait()
		recent := mon.RecentSlow()
		if len(recent) != size {
			t.Errorf("kept %d slow queries, want %d", len(recent), size)
		}
		for _, q := range recent {
			if q.SQL != "SELECT CAST(? AS text)" && q.SQL != "SELECT CAST($1 AS text)" {
				t.Errorf("kept %q", q.SQL)
			}
		}
		if n := len(mon.RecentNPlusOne()); n != workers {
			t.Errorf("kept %d N+1 findings, want one per worker (%d)", n, workers)
		}
		noSecret(t, recent)
	})
}

func TestRecentNPlusOne(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		var ids []int64
		for range 12 {
			ids = append(ids, daltest.User(t, d).ID)
		}
		ctx, _ := database.WithQueryScope(database.WithOperationID(context.Background(), "req-n1"))
		for _, id := range ids {
			if _, err := d.Users().GetByID(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		found := tdb.Handle.Monitor().RecentNPlusOne()
		if len(found) != 1 {
			t.Fatalf("kept %+v, want one finding", found)
		}
		f := found[0]
		if !strings.Contains(f.Caller, "recent_test.go:") || f.Count != 11 || f.OperationID != "req-n1" ||
			!strings.Contains(f.SQL, "users") || time.Since(f.At) > time.Minute {
			t.Errorf("finding %+v, want this file's loop, 11 queries, operation req-n1", f)
		}
	})
}

func TestRecentSlowPlanIsMasked(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	if err := tdb.DB.Exec("CREATE TABLE accounts (id integer, api_key text)").Error; err != nil {
		t.Fatal(err)
	}
	if err := tdb.DB.Exec("INSERT INTO accounts VALUES (1, ?)", secretArg).Error; err != nil {
		t.Fatal(err)
	}
	db := monitoredHandle(t, tdb, func(c *database.Config) {
		c.Monitoring.SlowQueryThreshold = 150 * time.Millisecond
		c.Monitoring.ExplainSlowQueries = true
	})
	if err := db.GormDB().Exec("SELECT pg_sleep(0.3), id FROM accounts WHERE api_key = ? AND id > ?", secretArg, 0).Error; err != nil {
		t.Fatal(err)
	}
	// The plan arrives in the background: wait for it.
	var q database.SlowQuery
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if r := db.Monitor().RecentSlow(); len(r) > 0 && r[0].Plan != nil {
			q = r[0]
			break
		}
	}
	if q.Plan == nil {
		t.Fatalf("no plan attached: %+v", db.Monitor().RecentSlow())
	}
	if q.Plan.Summary.Relation != "accounts" || !strings.Contains(q.Plan.Text, "Seq Scan on accounts") ||
		!strings.Contains(q.Plan.Text, "api_key = ?::text") || !strings.Contains(q.Plan.Text, "id > ?") {
		t.Errorf("plan %+v, want the scan of accounts with its filter masked", q.Plan)
	}
	noSecret(t, q)
}
