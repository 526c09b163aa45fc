package migration_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
)

// slow is a migration that takes long enough for other runners to queue.
func slow(version string) migration.Migration {
	m := createTable(version, "slow_"+version)
	up := m.Up
	m.Up = func(db *gorm.DB) error {
		time.Sleep(200 * time.Millisecond)
		return up(db)
	}
	return m
}

func TestConcurrentRunnersApplyEachMigrationOnce(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		migs := append(migrations.All(), slow("900"))
		const runners = 4
		var wg sync.WaitGroup
		steps := make([]int, runners)
		errs := make([]error, runners)
		for i := range runners {
			// Each runner has its own pool, like a separate deploy.
			db, err := database.NewDatabase(ctx, tdb.Config, database.WithLogger(quiet))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := manager(db.GormDB(), migs).Up(ctx)
				errs[i] = err
				if res != nil {
					steps[i] = len(res.Steps)
				}
			}()
		}
		wg.Wait()
		total := 0
		for i := range runners {
			if errs[i] != nil {
				t.Errorf("runner %d: %v", i, errs[i])
			}
			total += steps[i]
		}
		if total != len(migs) {
			t.Errorf("runners applied %d migrations in all (%v), want %d", total, steps, len(migs))
		}
		counts := map[string]int{}
		for _, line := range logLines(t, manager(tdb.DB, migs)) {
			counts[line]++
		}
		for _, mig := range migs {
			if got := counts[mig.Version+" up ok"]; got != 1 {
				t.Errorf("%s applied %d times, want once", mig, got)
			}
		}
	})
}

func TestSecondRunnerTimesOutWhileLocked(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		started, release := make(chan struct{}), make(chan struct{})
		blocking := createTable("1", "a")
		up := blocking.Up
		blocking.Up = func(db *gorm.DB) error {
			close(started)
			<-release
			return up(db)
		}
		done := make(chan error, 1)
		go func() {
			_, err := manager(tdb.DB, []migration.Migration{blocking}).Up(ctx)
			done <- err
		}()
		<-started
		other, err := database.NewDatabase(ctx, tdb.Config, database.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		_, err = manager(other.GormDB(), []migration.Migration{createTable("1", "a")}, migration.WithLockTimeout(300*time.Millisecond)).Up(ctx)
		if !errors.Is(err, migration.ErrLockTimeout) {
			t.Errorf("second runner: err = %v, want ErrLockTimeout", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("first runner: %v", err)
		}
		res, err := manager(other.GormDB(), []migration.Migration{createTable("1", "a")}).Up(ctx)
		if err != nil || len(res.Steps) != 0 {
			t.Errorf("runner after release = %+v, %v; want nothing to do", res, err)
		}
	})
}

// TestCreateIndexConcurrently shows the lock is session-level: a
// transaction-level lock would keep a transaction open, and CREATE INDEX
// CONCURRENTLY would wait for it forever.
func TestCreateIndexConcurrently(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	cic := migration.FromSQL("2", "index concurrently",
		migration.Same("CREATE INDEX CONCURRENTLY a_id_idx ON a (id)"),
		migration.Same("DROP INDEX CONCURRENTLY a_id_idx"))
	cic.NoTransaction = true
	m := manager(tdb.DB, []migration.Migration{createTable("1", "a"), cic})
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := m.Up(tctx); err != nil {
		t.Fatalf("Up: %v", err)
	}
	if _, err := m.Down(tctx, 1); err != nil {
		t.Fatalf("Down: %v", err)
	}
	if got := states(t, m)["2"]; got != migration.StatePending {
		t.Errorf("state = %s, want pending", got)
	}
}
