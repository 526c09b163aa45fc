package main

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"socialpredict/database/dbtest"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
)

// dbEnv is the environment that points the binary at a test database.
func dbEnv(tdb *dbtest.TestDB) []string {
	if tdb.Engine == dbtest.SQLite {
		return []string{"SOCIALPREDICT_DATABASE_DRIVER=sqlite", "SOCIALPREDICT_DATABASE_SQLITE_PATH=" + tdb.Config.SQLite.Path}
	}
	return []string{"DATABASE_URL=" + tdb.Config.URL}
}

// TestMigrateUpFromConcurrentProcesses starts four `migrate up` processes at
// once: each migration is applied exactly once, and every process succeeds.
func TestMigrateUpFromConcurrentProcesses(t *testing.T) {
	bin := build(t)
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		const processes = 4
		var wg sync.WaitGroup
		outs := make([]string, processes)
		errs := make([]error, processes)
		for i := range processes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "migrate", "up")
				cmd.Dir = t.TempDir()
				cmd.Env = dbEnv(tdb)
				out, err := cmd.CombinedOutput()
				outs[i], errs[i] = string(out), err
			}()
		}
		wg.Wait()
		for i := range processes {
			if errs[i] != nil {
				t.Errorf("process %d: %v\n%s", i, errs[i], outs[i])
			}
		}
		m := migration.NewMigrationManager(tdb.DB, migrations.All())
		entries, err := m.Log(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ups := map[string]int{}
		for _, e := range entries {
			if e.Direction == migration.DirectionUp && e.Success {
				ups[e.Version]++
			}
		}
		for _, mig := range migrations.All() {
			if ups[mig.Version] != 1 {
				t.Errorf("%s applied %d times, want once; outputs:\n%s", mig, ups[mig.Version], strings.Join(outs, "\n---\n"))
			}
		}
	})
}

// TestMigrateCommands drives the migrate subcommands end to end.
func TestMigrateCommands(t *testing.T) {
	bin := build(t)
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		run := func(wantOK bool, args ...string) string {
			t.Helper()
			cmd := exec.Command(bin, args...)
			cmd.Dir = t.TempDir()
			cmd.Env = dbEnv(tdb)
			out, err := cmd.CombinedOutput()
			if (err == nil) != wantOK {
				t.Fatalf("%v: err %v, want success %v\n%s", args, err, wantOK, out)
			}
			return string(out)
		}
		if out := run(true, "migrate", "up", "--dry-run"); !strings.Contains(out, "CREATE TABLE users") {
			t.Errorf("dry run output:\n%s", out)
		}
		n := len(migrations.All())
		if out := run(true, "migrate", "status"); strings.Count(out, "pending") != n {
			t.Errorf("status after a dry run should show every migration pending:\n%s", out)
		}
		run(true, "migrate", "to", "002")
		if out := run(true, "migrate", "status"); strings.Count(out, "applied") != 2 || strings.Count(out, "pending") != n-2 {
			t.Errorf("status after to 002:\n%s", out)
		}
		run(true, "migrate", "up")
		run(true, "migrate", "redo")
		run(false, "migrate", "down", strconv.Itoa(n))
		run(true, "migrate", "down", "2")
		run(false, "migrate", "to", "0")
		run(true, "migrate", "to", "0", "--all")
		// 2 up (to 002), n-2 up, 2 (redo), 2 down, n-2 down (to 0); the refused commands logged nothing.
		if out := run(true, "migrate", "history"); strings.Count(out, " ok ") != 2*n+2 || strings.Contains(out, "FAILED") {
			t.Errorf("history should list 8 successful steps:\n%s", out)
		}
		run(true, "migrate", "validate")
	})
}
