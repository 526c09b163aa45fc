package cli_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/internal/cli"
)

// wantFlagError fails unless err is a *cli.FlagError for flag that names it
// ("--flag ...") and matches errs.ErrInvalidInput.
func wantFlagError(t *testing.T, err error, flag string) {
	t.Helper()
	var fe *cli.FlagError
	if !errors.As(err, &fe) || fe.Flag != flag {
		t.Fatalf("err = %v, want a FlagError for --%s", err, flag)
	}
	if !strings.HasPrefix(err.Error(), "--"+flag+" ") || !errors.Is(err, errs.ErrInvalidInput) {
		t.Errorf("err = %q, want one starting with --%s and matching ErrInvalidInput", err, flag)
	}
}

// TestSeedRejectsInvalidFlags: seed refuses bad flag values, naming the
// flag, before it opens (and so creates) the database (issue 9, item 12).
func TestSeedRejectsInvalidFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		flag string
		text string
	}{
		{"negative markets", []string{"--markets", "-3"}, "markets", "--markets must be at least 0, got -3"},
		{"markets -1", []string{"--markets", "-1"}, "markets", "--markets must be at least 0, got -1"},
		{"too many markets", []string{"--markets", "100001"}, "markets", "at most 100000"},
		{"bets without markets", []string{"--markets", "0", "--bets", "10"}, "bets", "market"},
		{"negative bets", []string{"--bets", "-1"}, "bets", "at least 0"},
		{"too many bets", []string{"--bets", "1000001"}, "bets", "at most 1000000"},
		{"zero users", []string{"--users", "0"}, "users", "at least 1"},
		{"too many users", []string{"--users", "2000000000"}, "users", "at most 1000000"},
		{"negative balance", []string{"--initial-balance", "-5"}, "initial-balance", "at least 0"},
		{"huge balance", []string{"--initial-balance", "9223372036854775807"}, "initial-balance", "at most 1000000000000000"},
		{"invalid prefix", []string{"--prefix", "Seed!"}, "prefix", "lower-case"},
		{"kilobyte prefix", []string{"--prefix", strings.Repeat("a", 1024)}, "prefix", "1024 characters"},
		{"prefix too long for the users", []string{"--prefix", strings.Repeat("a", 28), "--users", "100"}, "prefix", "30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.db")
			_, _, err := run(t, map[string]string{"SOCIALPREDICT_DATABASE_SQLITE_PATH": path}, append([]string{"seed"}, tt.args...)...)
			wantFlagError(t, err, tt.flag)
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %q, want it to say %q", err, tt.text)
			}
			if strings.Contains(err.Error(), strings.Repeat("a", 100)) {
				t.Errorf("the error quotes the whole prefix")
			}
			if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("the database %s was created (stat: %v)", path, serr)
			}
		})
	}
}

// TestSeedAcceptsTheLongestPrefix: a prefix that makes usernames of exactly
// 30 characters is valid.
func TestSeedAcceptsTheLongestPrefix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.db")
	prefix := strings.Repeat("a", 27) // + "_99": 30 characters
	out, _, err := run(t, map[string]string{"SOCIALPREDICT_DATABASE_SQLITE_PATH": path},
		"seed", "--users", "100", "--markets", "1", "--bets", "5", "--prefix", prefix)
	if err != nil || !strings.Contains(out, "seeded 100 users") {
		t.Fatalf("seed: %v\n%s", err, out)
	}
}

// TestBenchRejectsInvalidFlags: bench refuses bad flag values, naming the
// flag, before it loads anything or connects (the database here is a
// closed port: reaching it would fail with errs.ErrUnavailable).
func TestBenchRejectsInvalidFlags(t *testing.T) {
	url := "postgres://app@127.0.0.1:" + strconv.Itoa(dbtest.ClosedPort(t)) + "/x?sslmode=disable"
	env := map[string]string{"DATABASE_URL": url, "SOCIALPREDICT_DATABASE_CONNECT_RETRY_ATTEMPTS": "1"}
	tests := []struct {
		name string
		args []string
		flag string
		text string
	}{
		{"zero workers", []string{"--workers", "0"}, "workers", "--workers must be at least 1, got 0"},
		{"negative workers", []string{"--workers", "-1"}, "workers", "at least 1"},
		{"too many workers", []string{"--workers", "100000"}, "workers", "at most 1024"},
		{"one bad worker count in a list", []string{"--workers", "1,8,0"}, "workers", "at least 1"},
		{"negative duration", []string{"--duration", "-1s"}, "duration", "greater than 0"},
		{"zero duration", []string{"--duration", "0s"}, "duration", "greater than 0"},
		{"long duration", []string{"--duration", "2h"}, "duration", "at most 1h"},
		{"negative resolve bets", []string{"--resolve-bets", "-5"}, "resolve-bets", "at least 0"},
		{"too many resolve bets", []string{"--resolve-bets", "2000000"}, "resolve-bets", "at most 1000000"},
		{"zero users", []string{"--users", "0"}, "users", "at least 1"},
		{"too many users", []string{"--users", "2000000000"}, "users", "at most 1000000"},
		{"zero markets", []string{"--markets", "0"}, "markets", "at least 1"},
		{"zero pgbench scale", []string{"--pgbench-scale", "0"}, "pgbench-scale", "at least 1"},
		{"huge pgbench scale", []string{"--pgbench-scale", "100000"}, "pgbench-scale", "at most 1000"},
		{"zero http concurrency", []string{"--http", "--http-concurrency", "0"}, "http-concurrency", "--http-concurrency must be at least 1, got 0"},
		{"huge http concurrency", []string{"--http", "--http-concurrency", "8,5000"}, "http-concurrency", "at most 1024"},
		{"bad http concurrency without --http", []string{"--http-concurrency", "-2"}, "http-concurrency", "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := run(t, env, append([]string{"bench", "--no-pgbench"}, tt.args...)...)
			if errors.Is(err, errs.ErrUnavailable) || strings.Contains(stderr, "database connection failed") {
				t.Fatalf("bench tried to connect before checking its flags: %v\n%s", err, stderr)
			}
			wantFlagError(t, err, tt.flag)
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %q, want it to say %q", err, tt.text)
			}
		})
	}
}
