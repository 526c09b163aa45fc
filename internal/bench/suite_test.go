package bench_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"socialpredict/database"
	"socialpredict/internal/bench"
	"socialpredict/internal/pgcluster"
)

// TestSuiteQuickWritesEveryPart runs the whole suite (bench --all --quick)
// in seconds the way bench --all does when no PostgreSQL is given: on a
// throwaway cluster it starts (a real one, from the installed binaries),
// and checks the report it writes: every section, a PASS or FAIL line for
// each target, the chart, the machine, the server and its settings, and no
// failed invariant; and that the cluster is gone afterwards. Nothing here
// is timed. (The given-server path differs only in the report's server
// line: TestServerLine.)
func TestSuiteQuickWritesEveryPart(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite takes about a minute even in quick mode")
	}
	pgbench := needThrowaway(t)
	out := filepath.Join(t.TempDir(), "docs", "performance.md")
	rep, err := bench.RunSuite(context.Background(), bench.SuiteOptions{Throwaway: true, SQLiteDir: t.TempDir(),
		PgBench: pgbench, RunLen: 200 * time.Millisecond, Rounds: 3, Quick: true, Out: out})
	if err != nil {
		t.Fatalf("RunSuite: %v", err)
	}
	if !rep.Server.Throwaway || rep.Server.Dir == "" {
		t.Fatalf("the report's server: %+v, want the throwaway cluster", rep.Server)
	}
	if _, err := os.Stat(rep.Server.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the throwaway cluster's directory %s is still there (stat: %v)", rep.Server.Dir, err)
	}
	if rep.Settings["fsync"] != "on" {
		t.Errorf("the throwaway cluster ran with fsync %q, want on", rep.Settings["fsync"])
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
		"shared_buffers", "synchronous_commit", "fsync", "max_connections", "CPUs", "Quick mode", "performance-placebet.svg",
		"- Server: a throwaway cluster", "fsync=on"} {
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

// needThrowaway returns pgbench, or skips (fails under
// SOCIALPREDICT_TEST_REQUIRE_POSTGRES=1) without pgbench or PostgreSQL's
// server binaries to start a throwaway cluster.
func needThrowaway(t *testing.T) string {
	t.Helper()
	require := os.Getenv("SOCIALPREDICT_TEST_REQUIRE_POSTGRES") == "1"
	pgbench := bench.FindPgBench()
	if _, err := pgcluster.FindBinDir(); err != nil || pgbench == "" {
		if require {
			t.Fatalf("pgbench %q, server binaries: %v", pgbench, err)
		}
		t.Skipf("pgbench %q, server binaries: %v", pgbench, err)
	}
	return pgbench
}

// TestSuiteThrowawayGoneWhenCancelled cancels the suite (as Ctrl-C does)
// once its throwaway cluster is up: RunSuite returns the cancellation and
// the cluster is stopped and deleted.
func TestSuiteThrowawayGoneWhenCancelled(t *testing.T) {
	pgbench := needThrowaway(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &cancelOnStart{cancel: cancel}
	_, err := bench.RunSuite(ctx, bench.SuiteOptions{Throwaway: true, SQLiteDir: t.TempDir(), PgBench: pgbench,
		RunLen: 100 * time.Millisecond, Rounds: 3, Quick: true, Out: filepath.Join(t.TempDir(), "performance.md"), Log: slog.New(h)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RunSuite after the cancellation: %v, want context.Canceled", err)
	}
	h.mu.Lock()
	dir, addr := h.dir, h.addr
	h.mu.Unlock()
	if dir == "" {
		t.Fatal("no throwaway cluster was started")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the throwaway cluster's directory %s is still there (stat: %v)", dir, err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("the throwaway cluster still accepts connections on %s", addr)
	}
}

// cancelOnStart is a log handler that cancels when the suite says that it
// started its throwaway cluster, and keeps the cluster's directory and
// address.
type cancelOnStart struct {
	cancel    func()
	mu        sync.Mutex
	dir, addr string
}

func (h *cancelOnStart) Enabled(context.Context, slog.Level) bool { return true }
func (h *cancelOnStart) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *cancelOnStart) WithGroup(string) slog.Handler            { return h }
func (h *cancelOnStart) Handle(_ context.Context, r slog.Record) error {
	if !strings.HasPrefix(r.Message, "started a throwaway PostgreSQL cluster") {
		return nil
	}
	h.mu.Lock()
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "dir":
			h.dir = a.Value.String()
		case "addr":
			h.addr = a.Value.String()
		}
		return true
	})
	h.mu.Unlock()
	h.cancel()
	return nil
}

// TestServerLine checks the report's line on the server: a given URL
// without its password; a throwaway cluster with its binaries and settings.
func TestServerLine(t *testing.T) {
	given := database.DefaultConfig()
	given.Driver, given.URL = database.DriverPostgres, "postgres://bench:s3cret@db.example:5433/postgres?sslmode=disable"
	rep := &bench.Report{Server: bench.GivenServer(given), Settings: map[string]string{}}
	doc := rep.Markdown()
	if strings.Contains(doc, "s3cret") {
		t.Errorf("the report holds the password:\n%s", doc)
	}
	if !strings.Contains(doc, "- Server: given: postgres://bench:xxxxx@db.example:5433/postgres?sslmode=disable\n") {
		t.Errorf("the report lacks the given server's line:\n%s", doc)
	}
	rep.Server = bench.Server{Throwaway: true, BinDir: "/usr/lib/postgresql/15/bin", Settings: []string{"max_connections=100", "fsync=on"}, Dir: "/tmp/x"}
	doc = rep.Markdown()
	for _, want := range []string{"- Server: a throwaway cluster", "/usr/lib/postgresql/15/bin", "max_connections=100 fsync=on"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the report lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "/tmp/x") {
		t.Errorf("the report names the deleted temporary directory:\n%s", doc)
	}
}
