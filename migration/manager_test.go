package migration_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"socialpredict/database/dbtest"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
)

func TestUpDownUpLeavesIdenticalSchema(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		m := manager(tdb.DB, migrations.All())
		empty := snapshot(t, tdb.DB)
		res, err := m.Up(ctx)
		if err != nil {
			t.Fatalf("Up: %v", err)
		}
		if len(res.Steps) != len(migrations.All()) {
			t.Errorf("Up took %d steps, want %d", len(res.Steps), len(migrations.All()))
		}
		full := snapshot(t, tdb.DB)
		if len(full) < 20 {
			t.Fatalf("schema after Up has only %d objects:\n%s", len(full), strings.Join(full, "\n"))
		}
		if _, err := m.DownTo(ctx, "0"); err != nil {
			t.Fatalf("DownTo 0: %v", err)
		}
		sameSchema(t, "after down to zero", snapshot(t, tdb.DB), empty)
		if _, err := m.Up(ctx); err != nil {
			t.Fatalf("Up again: %v", err)
		}
		sameSchema(t, "after up again", snapshot(t, tdb.DB), full)
	})
}

func TestEveryDownReversesItsUp(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		m := manager(tdb.DB, migrations.All())
		for _, mig := range migrations.All() {
			before := snapshot(t, tdb.DB)
			if _, err := m.UpTo(ctx, mig.Version); err != nil {
				t.Fatalf("UpTo %s: %v", mig.Version, err)
			}
			after := snapshot(t, tdb.DB)
			if cmp.Equal(before, after) && !(postgresOnly[mig.Version] && tdb.Engine != dbtest.Postgres) {
				t.Errorf("%s changed nothing", mig)
			}
			if _, err := m.Down(ctx, 1); err != nil {
				t.Fatalf("Down after %s: %v", mig.Version, err)
			}
			sameSchema(t, "down of "+mig.String(), snapshot(t, tdb.DB), before)
			if _, err := m.UpTo(ctx, mig.Version); err != nil {
				t.Fatalf("UpTo %s again: %v", mig.Version, err)
			}
			sameSchema(t, "up of "+mig.String()+" again", snapshot(t, tdb.DB), after)
		}
	})
}

func TestFailedTransactionalMigrationLeavesNothing(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		m := manager(tdb.DB, []migration.Migration{createTable("1", "first"), failingAfter("2", "second", false)})
		_, err := m.Up(ctx)
		var merr *migration.MigrationError
		if !errors.As(err, &merr) || merr.Version != "2" || merr.NoTransaction {
			t.Fatalf("Up error = %v, want a *MigrationError for 2", err)
		}
		if !hasTable(tdb.DB, "first") || hasTable(tdb.DB, "second") {
			t.Errorf("want table first kept and second rolled back")
		}
		if got := states(t, m); got["1"] != migration.StateApplied || got["2"] != migration.StatePending {
			t.Errorf("states = %v, want 1 applied and 2 pending (no history row)", got)
		}
		want := []string{"1 up ok", "2 up failed"}
		if diff := cmp.Diff(logLines(t, m), want); diff != "" {
			t.Errorf("log (-got +want):\n%s", diff)
		}
	})
}

func TestFailedNonTransactionalMigrationBlocksUntilRepair(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		migs := []migration.Migration{createTable("1", "first"), failingAfter("2", "second", true), createTable("3", "third")}
		m := manager(tdb.DB, migs)
		_, err := m.Up(ctx)
		var merr *migration.MigrationError
		if !errors.As(err, &merr) || !merr.NoTransaction || !strings.Contains(err.Error(), "migrate repair") {
			t.Fatalf("Up error = %v, want a non-transactional *MigrationError pointing at repair", err)
		}
		if !hasTable(tdb.DB, "second") {
			t.Errorf("a non-transactional migration is not rolled back: table second should exist")
		}
		if got := states(t, m)["2"]; got != migration.StateFailed {
			t.Errorf("state of 2 = %s, want failed", got)
		}
		_, err = m.Up(ctx)
		if !errors.Is(err, migration.ErrFailedState) || !strings.Contains(err.Error(), "repair") {
			t.Fatalf("second Up error = %v, want ErrFailedState pointing at repair", err)
		}
		if hasTable(tdb.DB, "third") {
			t.Error("a refused Up ran migration 3")
		}
		if _, err := m.Down(ctx, 1); !errors.Is(err, migration.ErrFailedState) {
			t.Errorf("Down in a failed state: err = %v, want ErrFailedState", err)
		}

		// The manual fix: drop what the failed run left; the migration is fixed.
		if err := tdb.DB.Exec("DROP TABLE second").Error; err != nil {
			t.Fatal(err)
		}
		migs[1] = createTable("2", "second")
		migs[1].NoTransaction = true
		m = manager(tdb.DB, migs)
		res, err := m.Repair(ctx, false)
		if err != nil || len(res.Steps) != 1 {
			t.Fatalf("Repair = %+v, %v; want one step", res, err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatalf("Up after repair: %v", err)
		}
		if got := states(t, m); got["2"] != migration.StateApplied || got["3"] != migration.StateApplied {
			t.Errorf("states after repair and up = %v", got)
		}
		want := []string{"1 up ok", "2 up failed", "2 repair ok", "2 up ok", "3 up ok"}
		if diff := cmp.Diff(logLines(t, m), want); diff != "" {
			t.Errorf("log (-got +want):\n%s", diff)
		}
	})
}

func TestRepairMarkApplied(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		migs := []migration.Migration{failingAfter("1", "only", true)}
		if _, err := manager(tdb.DB, migs).Up(ctx); err == nil {
			t.Fatal("Up succeeded")
		}
		// The manual fix completed the migration: mark it applied.
		migs[0] = createTable("1", "only")
		m := manager(tdb.DB, migs)
		if _, err := m.Repair(ctx, true); err != nil {
			t.Fatal(err)
		}
		if got := states(t, m)["1"]; got != migration.StateApplied {
			t.Errorf("state = %s, want applied", got)
		}
	})
}

func TestUpToDownToRedo(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		migs := []migration.Migration{createTable("1", "a"), createTable("2", "b"), createTable("10", "c")}
		m := manager(tdb.DB, migs)
		if _, err := m.UpTo(ctx, "2"); err != nil {
			t.Fatal(err)
		}
		if !hasTable(tdb.DB, "b") || hasTable(tdb.DB, "c") {
			t.Error("UpTo 2 should apply 1 and 2 only")
		}
		if _, err := m.UpTo(ctx, "7"); !errors.Is(err, migration.ErrUnknownVersion) {
			t.Errorf("UpTo unknown: err = %v, want ErrUnknownVersion", err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := m.Redo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := []string{res.Steps[0].Version + " " + res.Steps[0].Direction, res.Steps[1].Version + " " + res.Steps[1].Direction}; !cmp.Equal(got, []string{"10 down", "10 up"}) {
			t.Errorf("Redo steps = %v, want 10 down then 10 up (10 sorts after 2)", got)
		}
		if _, err := m.DownTo(ctx, "1"); err != nil {
			t.Fatal(err)
		}
		if !hasTable(tdb.DB, "a") || hasTable(tdb.DB, "b") || hasTable(tdb.DB, "c") {
			t.Error("DownTo 1 should keep only a")
		}
		res, err = m.Down(ctx, 5)
		if err != nil || len(res.Steps) != 1 || hasTable(tdb.DB, "a") {
			t.Errorf("Down 5 with one applied = %+v, %v; want one step", res, err)
		}
	})
}

func TestDownIrreversible(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		oneWay := createTable("1", "a")
		oneWay.Down = nil
		m := manager(tdb.DB, []migration.Migration{oneWay})
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Down(ctx, 1); !errors.Is(err, migration.ErrIrreversible) {
			t.Errorf("err = %v, want ErrIrreversible", err)
		}
		if !hasTable(tdb.DB, "a") {
			t.Error("table dropped")
		}
	})
}

func TestDryRunChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		var out bytes.Buffer
		dry := manager(tdb.DB, migrations.All(), migration.WithDryRun(&out))
		res, err := dry.Up(ctx)
		if err != nil || !res.DryRun || len(res.Steps) != len(migrations.All()) {
			t.Fatalf("dry Up = %+v, %v", res, err)
		}
		for _, want := range []string{"-- up 001: initial tables", "CREATE TABLE users", "CREATE UNIQUE INDEX users_username_key"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("dry run output lacks %q:\n%s", want, out.String())
			}
		}
		if got := snapshot(t, tdb.DB); len(got) != 0 || hasTable(tdb.DB, migration.HistoryTable) {
			t.Errorf("dry run changed the database: %v", got)
		}

		if _, err := manager(tdb.DB, migrations.All()).Up(ctx); err != nil {
			t.Fatal(err)
		}
		full := snapshot(t, tdb.DB)
		out.Reset()
		if _, err := dry.Down(ctx, len(migrations.All())); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "DROP TABLE users") || !strings.Contains(out.String(), "-- down 003") {
			t.Errorf("dry down output:\n%s", out.String())
		}
		sameSchema(t, "after dry down", snapshot(t, tdb.DB), full)
		if _, err := dry.Repair(ctx, false); err == nil {
			t.Error("Repair in dry-run mode should be refused")
		}
	})
}

func TestBaseline(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		all := migrations.All()
		// A database whose first two migrations were applied by hand.
		for _, mig := range all[:2] {
			if err := mig.Up(tdb.DB); err != nil {
				t.Fatal(err)
			}
		}
		m := manager(tdb.DB, all)
		if _, err := m.Baseline(ctx, "002"); err != nil {
			t.Fatalf("Baseline: %v", err)
		}
		if got := states(t, m); got["001"] != migration.StateApplied || got["002"] != migration.StateApplied || got["003"] != migration.StatePending {
			t.Errorf("states after baseline = %v", got)
		}
		if res, err := m.Up(ctx); err != nil || len(res.Steps) != len(all)-2 || res.Steps[0].Version != "003" {
			t.Fatalf("Up after baseline = %+v, %v; want 003 onwards", res, err)
		}
		if _, err := m.Baseline(ctx, "001"); !errors.Is(err, migration.ErrNotEmpty) {
			t.Errorf("second Baseline: err = %v, want ErrNotEmpty", err)
		}
	})
}

func TestCancelledRunStillUnlocksAndLogs(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		cancelling := createTable("2", "b")
		cancelling.Up = func(db *gorm.DB) error {
			cancel()
			return db.Exec("CREATE TABLE b (id INTEGER PRIMARY KEY)").Error
		}
		m := manager(tdb.DB, []migration.Migration{createTable("1", "a"), cancelling},
			migration.WithLockTimeout(2e9))
		if _, err := m.Up(cctx); err == nil {
			t.Fatal("Up with a cancelled context succeeded")
		}
		// The failure was logged despite the cancelled context, and the lock
		// is free: a new run proceeds at once.
		if diff := cmp.Diff(logLines(t, m), []string{"1 up ok", "2 up failed"}); diff != "" {
			t.Errorf("log (-got +want):\n%s", diff)
		}
		migs := []migration.Migration{createTable("1", "a"), createTable("2", "b")}
		if _, err := manager(tdb.DB, migs, migration.WithLockTimeout(2e9)).Up(ctx); err != nil {
			t.Fatalf("Up after a cancelled run: %v", err)
		}
	})
}
