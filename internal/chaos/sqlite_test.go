package chaos_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/internal/chaos"
)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sqliteServer starts the server on a SQLite file at path, with a
// workload of 2 bettors and 1 market, and some bets placed.
func sqliteServer(t *testing.T, path string) (*chaos.Server, *chaos.Workload, *syncBuffer) {
	t.Helper()
	cfg := database.DefaultConfig()
	cfg.Driver = database.DriverSQLite
	cfg.SQLite.Path = path
	cfg.SQLite.BusyTimeout = time.Second
	cfg.Monitoring.LogLevel = "silent"
	cfg.HealthCheck.Interval = 200 * time.Millisecond
	logs := &syncBuffer{}
	srv, err := chaos.StartServer(context.Background(), chaos.ServerOptions{Database: cfg, Economics: chaos.Economics(),
		Log: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	w, err := chaos.NewWorkload(context.Background(), srv, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	return srv, w, logs
}

// bet places one bet as bettor 0 with key and returns the status, the
// Retry-After header and the body of an error.
func bet(w *chaos.Workload, key string) (int, string, string) {
	a := w.Bet(context.Background(), 0, key)
	return a.Status, a.RetryAfter, a.Err
}

// chattr sets or clears the immutable flag of the files that exist
// (root only: even root cannot write an immutable file, through a
// descriptor opened before too).
func chattr(t *testing.T, flag string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if out, err := exec.Command("chattr", flag, p).CombinedOutput(); err != nil {
			t.Fatalf("chattr %s %s: %v: %s", flag, p, err, out)
		}
	}
}

// TestSQLiteReadOnlyFile: the SQLite file (and its WAL and shared-memory
// files) turn read-only under a running server: bets (and reads: WAL
// readers write the -shm file) are refused with 503 and Retry-After, never
// 500, with a log line saying why; the process stays up; nothing of a
// refused bet is written; and once the files are writable again bets go
// through and db check passes.
func TestSQLiteReadOnlyFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: chattr +i makes the file read-only even to the open descriptors of the server")
	}
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Skip("chattr (e2fsprogs) not installed")
	}
	dbtest.SkipViaPgBouncer(t, "SQLite only")
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sp.db")
	srv, w, logs := sqliteServer(t, path)
	for i := range 3 {
		if st, _, body := bet(w, fmt.Sprintf("before-%d", i)); st != http.StatusCreated {
			t.Fatalf("bet before: %d %s", st, body)
		}
	}
	files := []string{path, path + "-wal", path + "-shm"}
	chattr(t, "+i", files...)
	defer chattr(t, "-i", files...)

	for i := range 3 {
		st, retryAfter, body := bet(w, fmt.Sprintf("readonly-%d", i))
		if st != http.StatusServiceUnavailable || retryAfter == "" {
			t.Errorf("bet on a read-only file: %d (Retry-After %q) %s; want 503 with Retry-After", st, retryAfter, body)
		}
	}
	// WAL readers write the -shm file too: reads fail as well, with 503.
	for url, want := range map[string]int{srv.Ops + "/healthz": http.StatusOK, srv.API + "/v1/leaderboard": http.StatusServiceUnavailable} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("the server is not up: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s with a read-only file: %s, want %d", url, resp.Status, want)
		}
	}
	if !strings.Contains(logs.String(), "read-only") && !strings.Contains(logs.String(), "readonly") {
		t.Errorf("no log line says the database is read-only:\n%s", logs.String())
	}

	chattr(t, "-i", files...)
	if st, _, body := bet(w, "after"); st != http.StatusCreated {
		t.Errorf("bet after the file is writable again: %d %s", st, body)
	}
	rep := chaos.Verify(context.Background(), srv.DB, srv, w, chaos.Economics(), nil)
	stored := rep.Acknowledged + rep.CommittedUnacked
	if rep.Acknowledged != 4 || stored != 4 || len(rep.Violations) > 0 || len(rep.PoolErrors) > 0 {
		var sb strings.Builder
		_ = rep.Print(&sb)
		t.Errorf("after the read-only spell: %d acknowledged, %d stored, want 4 and 4:\n%s", rep.Acknowledged, stored, sb.String())
	}
}

// TestSQLiteDiskFull: the file system of the SQLite file fills up under a
// running server (a small tmpfs, filled by another file): bets are refused
// with 503 and Retry-After, never 500, the process stays up, nothing of a
// refused bet is written, and once space is freed bets go through and db
// check passes.
func TestSQLiteDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a small tmpfs")
	}
	dbtest.SkipViaPgBouncer(t, "SQLite only")
	t.Parallel()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	srv, w, logs := sqliteServer(t, filepath.Join(dir, "sp.db"))
	for i := range 3 {
		if st, _, body := bet(w, fmt.Sprintf("before-%d", i)); st != http.StatusCreated {
			t.Fatalf("bet before: %d %s", st, body)
		}
	}
	// Fill the file system to the last byte.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for _, err = f.Write(chunk); err == nil; _, err = f.Write(chunk) {
	}
	for _, err = f.Write(chunk[:512]); err == nil; _, err = f.Write(chunk[:512]) {
	}
	f.Close()

	refused := 0
	for i := range 40 { // until the WAL's free pages are used up
		st, retryAfter, body := bet(w, fmt.Sprintf("full-%d", i))
		switch {
		case st == http.StatusServiceUnavailable && retryAfter != "":
			refused++
		case st != http.StatusCreated:
			t.Errorf("bet on a full disk: %d (Retry-After %q) %s; want 201 or 503 with Retry-After", st, retryAfter, body)
		}
	}
	if refused == 0 {
		t.Fatal("no bet was refused on a full disk")
	}
	if resp, err := http.Get(srv.Ops + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the server is not up: %v", err)
	}
	if !strings.Contains(logs.String(), "the disk is full") && !strings.Contains(logs.String(), "full file system") {
		t.Errorf("no log line says the disk is full:\n%s", logs.String())
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if st, _, body := bet(w, "after"); st != http.StatusCreated {
		t.Errorf("bet after space was freed: %d %s", st, body)
	}
	rep := chaos.Verify(context.Background(), srv.DB, srv, w, chaos.Economics(), nil)
	if rep.Lost+rep.Duplicated+rep.Unknown+rep.CommittedUnacked > 0 || len(rep.Violations) > 0 || len(rep.PoolErrors) > 0 {
		var sb strings.Builder
		_ = rep.Print(&sb)
		t.Errorf("after the full disk (%d bets refused):\n%s", refused, sb.String())
	}
}
