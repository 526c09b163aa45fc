package database_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/database/dbtest"
)

func TestConnectAndPing(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		res, err := database.Ping(context.Background(), tdb.Handle)
		if err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if res.Driver != string(tdb.Engine) || res.ServerVersion == "" || res.Latency <= 0 {
			t.Errorf("Ping = %+v, want driver %s, a version and a latency", res, tdb.Engine)
		}
	})
}

func TestPoolSettingsApplied(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		cfg := tdb.Config
		cfg.ConnectionPool.MaxOpenConns = 3
		cfg.ConnectionPool.MaxIdleConns = 1
		db, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(dbtest.Logger()))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		sqlDB, _ := db.GormDB().DB()
		// Hold three connections at once, then release them: one stays idle.
		var wg sync.WaitGroup
		conns := make(chan func(), 3)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := sqlDB.Conn(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				conns <- func() { c.Close() }
			}()
		}
		wg.Wait()
		close(conns)
		if got := sqlDB.Stats(); got.MaxOpenConnections != 3 || got.InUse != 3 {
			t.Errorf("stats while held = %+v, want MaxOpenConnections 3 and InUse 3", got)
		}
		for release := range conns {
			release()
		}
		if got := sqlDB.Stats(); got.Idle != 1 || got.InUse != 0 {
			t.Errorf("stats after release = %+v, want Idle 1 (max_idle_conns) and InUse 0", got)
		}
	})
}

func TestSQLiteSettings(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": fmt.Sprint(tdb.Config.SQLite.BusyTimeout.Milliseconds()),
	} {
		var got string
		if err := tdb.DB.Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

// TestSQLiteConcurrentWriters runs read-then-write transactions from many
// goroutines. With deferred transactions two readers that both try to write
// deadlock and one fails at once with "database is locked"; with BEGIN
// IMMEDIATE they queue on the busy timeout and all succeed.
func TestSQLiteConcurrentWriters(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	db := tdb.DB
	if err := db.Exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO counter (id, n) VALUES (1, 0)").Error; err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				errs <- db.Transaction(func(tx *gorm.DB) error {
					var n int
					if err := tx.Raw("SELECT n FROM counter WHERE id = 1").Scan(&n).Error; err != nil {
						return err
					}
					return tx.Exec("UPDATE counter SET n = n + 1 WHERE id = 1").Error
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	var failed []error
	for err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d transactions failed, first: %v", len(failed), workers*perWorker, failed[0])
	}
	var n int
	if err := db.Raw("SELECT n FROM counter WHERE id = 1").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != workers*perWorker {
		t.Errorf("counter = %d, want %d", n, workers*perWorker)
	}
}

func TestSQLiteMissingDirectoryFailsAtOnce(t *testing.T) {
	cfg := database.DefaultConfig()
	cfg.SQLite.Path = filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")
	start := time.Now()
	_, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(dbtest.Logger()))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("err = %v, want one saying the directory does not exist", err)
	}
	if time.Since(start) > cfg.ConnectRetry.InitialBackoff {
		t.Errorf("took %s: a missing directory is not worth retrying", time.Since(start))
	}
}
