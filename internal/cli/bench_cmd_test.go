package cli_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"socialpredict/internal/bench"
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
