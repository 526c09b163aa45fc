package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"socialpredict/database/dbtest"
	"socialpredict/database/diagnostics"
	"socialpredict/internal/dbreport"
	"socialpredict/migration/migrations"
)

// runDoctorCmd runs the command newCmd builds on a fresh app pointed at tdb,
// with args, and returns its standard output and error.
func runDoctorCmd(t *testing.T, tdb *dbtest.TestDB, newCmd func(*app) *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	e := Env{Stdout: &out, Stderr: &errOut}
	if tdb.Engine == dbtest.Postgres {
		e.Environ = []string{"DATABASE_URL=" + tdb.Config.URL}
	} else {
		e.Environ = []string{"SOCIALPREDICT_DATABASE_SQLITE_PATH=" + tdb.Config.SQLite.Path}
	}
	cmd := newCmd(&app{env: e})
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	if errOut.Len() > 0 {
		t.Logf("stderr:\n%s", errOut.String())
	}
	return out.String(), err
}

func explainCmd(a *app) *cobra.Command { return a.dbExplainCommand() }
func doctorCmd(a *app) *cobra.Command  { return a.dbDoctorCommand() }

func TestDBExplain(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		if err := tdb.DB.Exec("CREATE TABLE items (id integer PRIMARY KEY, name text)").Error; err != nil {
			t.Fatal(err)
		}
		if err := tdb.DB.Exec("INSERT INTO items VALUES (1, 'a'), (2, 'b')").Error; err != nil {
			t.Fatal(err)
		}
		t.Run("text", func(t *testing.T) {
			out, err := runDoctorCmd(t, tdb, explainCmd, "SELECT * FROM items WHERE name = 'a';")
			if err != nil || !strings.Contains(out, "items") || !strings.Contains(out, "note: ") {
				t.Errorf("explain = %q, %v", out, err)
			}
		})
		t.Run("json", func(t *testing.T) {
			out, err := runDoctorCmd(t, tdb, explainCmd, "--json", "SELECT name FROM items")
			var plan diagnostics.Plan
			if err != nil || json.Unmarshal([]byte(out), &plan) != nil || plan.Driver != string(tdb.Engine) || plan.Text == "" {
				t.Errorf("explain --json = %q, %v", out, err)
			}
		})
		t.Run("refuses two statements", func(t *testing.T) {
			out, err := runDoctorCmd(t, tdb, explainCmd, "SELECT 1; DROP TABLE items")
			if !errors.Is(err, diagnostics.ErrMultipleStatements) {
				t.Errorf("explain = %q, %v; want ErrMultipleStatements", out, err)
			}
			doctorCountItems(t, tdb, 2)
		})
		t.Run("analyze", func(t *testing.T) {
			out, err := runDoctorCmd(t, tdb, explainCmd, "--analyze", "DELETE FROM items")
			switch tdb.Engine {
			case dbtest.SQLite:
				if !errors.Is(err, errors.ErrUnsupported) {
					t.Errorf("explain --analyze on sqlite = %q, %v; want errors.ErrUnsupported", out, err)
				}
			case dbtest.Postgres:
				if err != nil || !strings.Contains(out, "Delete on items") || !strings.Contains(out, "actual time=") {
					t.Errorf("explain --analyze = %q, %v", out, err)
				}
			}
			doctorCountItems(t, tdb, 2)
		})
		t.Run("needs a query", func(t *testing.T) {
			if _, err := runDoctorCmd(t, tdb, explainCmd); err == nil {
				t.Error("explain without a query succeeded")
			}
		})
	})
}

func doctorCountItems(t *testing.T, tdb *dbtest.TestDB, want int64) {
	t.Helper()
	var n int64
	if err := tdb.DB.Raw("SELECT count(*) FROM items").Scan(&n).Error; err != nil || n != want {
		t.Errorf("items has %d rows (%v), want %d", n, err, want)
	}
}

// doctorFixture creates, on PostgreSQL, a 20,000-row table read by 12
// sequential scans with the deliberately unused index big_note_idx, and
// flushes the session's statistics.
func doctorFixture(t *testing.T, tdb *dbtest.TestDB) {
	t.Helper()
	ctx := context.Background()
	sqlDB, err := tdb.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx) // one session: it flushes its own statistics
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stmts := []string{
		"CREATE TABLE big (id integer PRIMARY KEY, val integer NOT NULL, note text NOT NULL)",
		"INSERT INTO big SELECT g, g % 100, 'note ' || g FROM generate_series(1, 20000) g",
		"CREATE INDEX big_note_idx ON big (note)",
		"SELECT pg_stat_force_next_flush()",
		"ANALYZE big",
	}
	for i := range 12 {
		stmts = append(stmts, fmt.Sprintf("SELECT count(*) FROM big WHERE val = %d", i))
	}
	for _, q := range append(stmts, "SELECT pg_stat_force_next_flush()") {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestDBDoctorFlagsProblems(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	doctorFixture(t, tdb)

	out, err := runDoctorCmd(t, tdb, doctorCmd)
	t.Logf("db doctor:\n%s", out)
	if !errors.Is(err, errDoctorFailed) {
		t.Errorf("doctor err = %v, want errDoctorFailed", err)
	}
	for _, want := range []string{
		"FAIL     unused_indexes: unused index big_note_idx on public.big",
		"FAIL     missing_indexes: missing index? table public.big (20000 rows",
		"ok       duplicate_indexes:", "ok       invalid_indexes:",
		"pg_stat_statements", "locks:", "2 checks failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}

	out, err = runDoctorCmd(t, tdb, doctorCmd, "--json")
	if !errors.Is(err, errDoctorFailed) {
		t.Errorf("doctor --json err = %v, want errDoctorFailed", err)
	}
	var r dbreport.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if a := r.Indexes.Analysis; r.Problems != 2 || a == nil || len(a.UnusedIndexes) != 1 || len(a.MissingIndexCandidates) != 1 || r.Health == nil {
		t.Errorf("doctor --json = %+v", r)
	}
}

func TestDBDoctorHealthy(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		if err := tdb.DB.Exec("CREATE TABLE t (id integer PRIMARY KEY, code text UNIQUE)").Error; err != nil {
			t.Fatal(err)
		}
		out, err := runDoctorCmd(t, tdb, doctorCmd)
		if err != nil {
			t.Fatalf("doctor: %v\n%s", err, out)
		}
		wants := []string{"ok: no problem found", "query:", fmt.Sprintf("migrations: %d migrations pending", len(migrations.All()))}
		if tdb.Engine == dbtest.SQLite {
			wants = append(wants, "ok       integrity_check: integrity_check: ok", "skipped  query_plans:")
		} else {
			wants = append(wants, "ok       unused_indexes:", "info     unused_unique_indexes:", "t_code_key")
		}
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("doctor output lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestDBDoctorRejectsBadThreshold(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	if _, err := runDoctorCmd(t, tdb, doctorCmd, "--threshold", "0s"); err == nil || !strings.Contains(err.Error(), "--threshold") {
		t.Errorf("err = %v, want a --threshold error", err)
	}
}
