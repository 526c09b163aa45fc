package migration_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/migration"
)

// kinds returns "kind version" for every problem Validate finds.
func kinds(t *testing.T, m *migration.MigrationManager) []string {
	t.Helper()
	problems, err := m.Validate(ctx)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	out := []string{}
	for _, p := range problems {
		out = append(out, string(p.Kind)+" "+p.Version)
	}
	return out
}

func TestValidateFindsEachProblem(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		a, b, c, d := createTable("1", "a"), createTable("2", "b"), createTable("3", "c"), createTable("4", "d")
		if got := kinds(t, manager(tdb.DB, []migration.Migration{a, b})); len(got) != 0 {
			t.Errorf("a clean set before any run: problems %v", got)
		}
		// Apply 1, 3 and 4 with a binary that does not know 2 yet.
		if _, err := manager(tdb.DB, []migration.Migration{a, c, d}).Up(ctx); err != nil {
			t.Fatal(err)
		}

		modified := c
		modified.Checksum = "edited after release"
		noDown := b
		noDown.Down = nil
		duplicate := createTable("1", "a_again")
		// The binary knows 1 (twice), 2 (new, older than 4, no Down), 3
		// (edited) and 5, but no longer 4.
		m := manager(tdb.DB, []migration.Migration{a, duplicate, noDown, modified, createTable("5", "e")})
		want := []string{"duplicate 1", "no-down 2", "out-of-order 2", "modified 3", "missing 4"}
		if diff := cmp.Diff(kinds(t, m), want); diff != "" {
			t.Errorf("problems (-got +want):\n%s", diff)
		}
		wantStates := map[string]migration.State{
			"1": migration.StateApplied, "2": migration.StatePending, "3": migration.StateModified,
			"4": migration.StateMissing, "5": migration.StatePending,
		}
		if diff := cmp.Diff(states(t, m), wantStates); diff != "" {
			t.Errorf("states (-got +want):\n%s", diff)
		}
		if _, err := m.Up(ctx); !errors.Is(err, migration.ErrInvalid) {
			t.Errorf("Up with problems: err = %v, want ErrInvalid", err)
		}
		if hasTable(tdb.DB, "e") {
			t.Error("Up ran despite the problems")
		}
		if _, err := manager(tdb.DB, []migration.Migration{a, b, c}).Down(ctx, 1); !errors.Is(err, migration.ErrUnknownVersion) {
			t.Errorf("Down of a migration unknown to the binary: err = %v, want ErrUnknownVersion", err)
		}
	})
}

func TestValidateFailedState(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		m := manager(tdb.DB, []migration.Migration{failingAfter("1", "a", true)})
		if _, err := m.Up(ctx); err == nil {
			t.Fatal("Up succeeded")
		}
		if diff := cmp.Diff(kinds(t, m), []string{"failed 1"}); diff != "" {
			t.Errorf("problems (-got +want):\n%s", diff)
		}
		if got := states(t, m)["1"]; got != migration.StateFailed {
			t.Errorf("state = %s, want failed", got)
		}
	})
}

func TestOutOfOrderAllowedByOption(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		a, b, c := createTable("1", "a"), createTable("2", "b"), createTable("3", "c")
		if _, err := manager(tdb.DB, []migration.Migration{a, c}).Up(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := manager(tdb.DB, []migration.Migration{a, b, c}, migration.WithOutOfOrder()).Up(ctx); err != nil {
			t.Fatalf("Up with WithOutOfOrder: %v", err)
		}
		if !hasTable(tdb.DB, "b") {
			t.Error("2 not applied")
		}
	})
}

func TestCheckCurrent(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		a, b := createTable("1", "a"), createTable("2", "b")
		m := manager(tdb.DB, []migration.Migration{a, b})
		if err := m.CheckCurrent(ctx); !errors.Is(err, migration.ErrNotCurrent) {
			t.Errorf("before up: err = %v, want ErrNotCurrent", err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.CheckCurrent(ctx); err != nil {
			t.Errorf("after up: %v", err)
		}
		b.Checksum = "changed"
		if err := manager(tdb.DB, []migration.Migration{a, b}).CheckCurrent(ctx); !errors.Is(err, migration.ErrNotCurrent) {
			t.Errorf("modified: err = %v, want ErrNotCurrent", err)
		}
	})
}

func TestMigrationMetrics(t *testing.T) {
	each(t, func(t *testing.T, tdb *dbtest.TestDB) {
		reg := prometheus.NewRegistry()
		m := manager(tdb.DB, []migration.Migration{createTable("1", "a"), createTable("2", "b")},
			migration.WithMetrics(database.NewMetrics(reg)))
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Down(ctx, 1); err != nil {
			t.Fatal(err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() == "db_migrations_applied_total" {
				for _, s := range mf.GetMetric() {
					got[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
				}
			}
		}
		if got["up"] != 2 || got["down"] != 1 {
			t.Errorf("db_migrations_applied_total = %v, want up 2 and down 1", got)
		}
	})
}
