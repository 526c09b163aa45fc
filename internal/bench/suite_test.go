package bench_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/internal/bench"
)

// TestSuiteQuickWritesEveryPart runs the whole suite (bench --all --quick)
// in seconds against the test PostgreSQL server and checks the report it
// writes: every section, a PASS or FAIL line for each target, the chart, the
// machine and settings, and no failed invariant. Nothing here is timed.
func TestSuiteQuickWritesEveryPart(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite takes about a minute even in quick mode")
	}
	admin := database.DefaultConfig()
	admin.Driver, admin.URL = database.DriverPostgres, dbtest.PostgresURL(t)
	pgbench := bench.FindPgBench()
	if pgbench == "" {
		t.Skip("pgbench not installed")
	}
	out := filepath.Join(t.TempDir(), "docs", "performance.md")
	rep, err := bench.RunSuite(context.Background(), bench.SuiteOptions{Admin: admin, SQLiteDir: t.TempDir(),
		PgBench: pgbench, RunLen: 200 * time.Millisecond, Rounds: 3, Quick: true, Out: out})
	if err != nil {
		t.Fatalf("RunSuite: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{"# Performance", "## Targets (issue 13)", "## PlaceBet against pgbench and the raw-pgx limit",
		"## Scaling with the pool", "## SQLite", "## Reads", "## Bulk inserts", "## Resolution", "## Invariant checks",
		"pgbench tpcb-like -M prepared, 8 clients", "limit: place_bet on raw pgx, 8 workers", "monitoring off",
		"prepared_statements false", "HTTP POST", "pool 32, 64 workers, all on one market", "PlaceBet on SQLite, 8 workers",
		"keyset page at depth", "OFFSET", "pgx CopyFrom", "row by row", "resolve a market of about",
		"shared_buffers", "synchronous_commit", "fsync", "max_connections", "CPUs", "Quick mode", "performance-placebet.svg"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	verdicts := 0
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "- PASS: ") || strings.HasPrefix(line, "- FAIL: ") {
			verdicts++
		}
	}
	if verdicts != len(rep.Targets) || verdicts < 11 {
		t.Errorf("%d PASS/FAIL lines for %d targets, want at least 11", verdicts, len(rep.Targets))
	}
	for _, m := range rep.Measures {
		if len(m.Runs) < 3 && m.Fail == "" {
			t.Errorf("%s: %d runs, want at least 3", m.Name, len(m.Runs))
		}
	}
	for _, c := range rep.Checks {
		if len(c.Violations) > 0 {
			t.Errorf("invariants broken after %s: %v", c.After, c.Violations)
		}
	}
	svg, err := os.ReadFile(filepath.Join(filepath.Dir(out), "performance-placebet.svg"))
	if err != nil || !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), "<rect") {
		t.Errorf("chart: %v, %.60q", err, svg)
	}
}
