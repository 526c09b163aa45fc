package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"socialpredict/internal/bench"
	"socialpredict/internal/cli"
	"socialpredict/internal/pgcluster"
)

// TestBenchHTTPOnSQLite runs bench --http on SQLite through the command
// line, as JSON and as text: the scratch files go in a directory beside
// sqlite.path that is removed afterwards, the configured database is never
// created, and the HTTP rows stand next to PlaceBet at the same
// concurrency, measured for the row when --workers lacks it.
// (TestHTTPBetsReachTheDatabase in internal/bench checks the bets.)
func TestBenchHTTPOnSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	env := map[string]string{"SOCIALPREDICT_DATABASE_SQLITE_PATH": path}
	args := []string{"bench", "--http", "--workers", "1", "--http-concurrency", "2", "--duration", "300ms",
		"--users", "20", "--markets", "5", "--resolve-bets", "0"}
	out, stderr, err := run(t, env, append(args, "--json")...)
	if err != nil {
		t.Fatalf("bench --json: %v\n%s", err, stderr)
	}
	var res bench.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("the output is not a Result: %v\n%s", err, out)
	}
	if res.Engine != "sqlite" || len(res.Rows) != 1 || len(res.Extra) != 1 || len(res.HTTP) != 1 || res.Violations == nil || len(res.Violations) != 0 {
		t.Fatalf("result: %+v", res)
	}
	h := res.HTTP[0]
	if h.Concurrency != 2 || h.Requests == 0 || res.Extra[0].Workers != 2 || h.ServiceTPS != res.Extra[0].BetTPS || h.ServiceTPS <= 0 {
		t.Errorf("HTTP row %+v, want concurrency 2, requests, and PlaceBet measured at 2 workers (extra row %+v)", h, res.Extra[0])
	}
	for _, key := range []string{`"bets_per_second"`, `"p50_ns"`, `"p99_ns"`, `"service_bets_per_second"`, `"ratio"`, `"concurrency"`} {
		if !strings.Contains(out, key) {
			t.Errorf("the JSON lacks %s:\n%s", key, out)
		}
	}
	out, stderr, err = run(t, env, args...)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	for _, want := range []string{"PlaceBet on sqlite", "HTTP bets/s", "service bets/s", "HTTP/service", "every invariant holds"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bench created the configured database %s (stat: %v)", path, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("bench left %d entries beside sqlite.path, e.g. %s", len(left), left[0].Name())
	}
}

// TestBenchAllThrowawayClusterOnCtrlC runs bench --all with no PostgreSQL
// configured: it starts a throwaway cluster (a real one), and when the
// command is cancelled as Ctrl-C cancels it (main's signal context), it
// returns the cancellation having stopped and deleted the cluster. The
// whole suite on a throwaway cluster is TestSuiteQuickWritesEveryPart in
// internal/bench.
func TestBenchAllThrowawayClusterOnCtrlC(t *testing.T) {
	t.Parallel()
	if _, err := pgcluster.FindBinDir(); err != nil || bench.FindPgBench() == "" {
		if os.Getenv("SOCIALPREDICT_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("server binaries: %v; pgbench %q", err, bench.FindPgBench())
		}
		t.Skipf("server binaries: %v; pgbench %q", err, bench.FindPgBench())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnLine{want: "started a throwaway PostgreSQL cluster", cancel: cancel}
	dir := t.TempDir()
	e := cli.Env{Stdout: io.Discard, Stderr: w, Environ: []string{"SOCIALPREDICT_DATABASE_SQLITE_PATH=" + filepath.Join(dir, "app.db"),
		"SOCIALPREDICT_LOG_FORMAT=json"}}
	err := cli.Execute(ctx, e, []string{"bench", "--all", "--quick", "--run", "100ms", "--out", filepath.Join(dir, "performance.md")})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("bench --all cancelled: %v, want context.Canceled", err)
	}
	var line struct{ Dir, Addr string }
	if err := json.Unmarshal([]byte(w.line()), &line); err != nil || line.Dir == "" || line.Addr == "" {
		t.Fatalf("no log line on the throwaway cluster (%v): %q", err, w.line())
	}
	if _, err := os.Stat(line.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the throwaway cluster's directory %s is still there (stat: %v)", line.Dir, err)
	}
	if c, err := net.DialTimeout("tcp", line.Addr, time.Second); err == nil {
		c.Close()
		t.Errorf("the throwaway cluster still accepts connections on %s", line.Addr)
	}
	if _, err := os.Stat(filepath.Join(dir, "performance.md")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cancelled run wrote its report (stat: %v)", err)
	}
}

// cancelOnLine is a log writer that calls cancel when a line holds want,
// and keeps that line.
type cancelOnLine struct {
	want   string
	cancel func()
	mu     sync.Mutex
	buf    []byte
	found  string
}

func (w *cancelOnLine) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if w.found == "" && strings.Contains(line, w.want) {
			w.found = line
			w.cancel()
		}
	}
}

func (w *cancelOnLine) line() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.found
}
