package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"socialpredict/database/dbtest"
)

// served is a running `socialpredict serve` process.
type served struct {
	cmd      *exec.Cmd
	api, ops string // base URLs
	done     chan error

	mu  sync.Mutex
	out strings.Builder // its standard output so far
}

// output returns the standard output so far.
func (s *served) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

var addrLine = regexp.MustCompile(`(serving the API|ops endpoints) on (http://[0-9.:]+)`)

// startServe runs `serve` on free ports in dir with env, and waits until it
// prints both addresses (or exits).
func startServe(t *testing.T, dir string, env []string, args ...string) *served {
	t.Helper()
	bin := build(t)
	s := &served{done: make(chan error, 1)}
	s.cmd = exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0"}, args...)...)
	s.cmd.Dir = dir
	s.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.out.WriteString(line + "\n")
			s.mu.Unlock()
			if m := addrLine.FindStringSubmatch(line); m != nil {
				if m[1] == "serving the API" {
					s.api = m[2]
				} else {
					s.ops = m[2]
					close(found)
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		s.done <- s.cmd.Wait()
	}()
	select {
	case <-found:
	case err := <-s.done:
		t.Fatalf("serve exited before listening: %v\nstdout:\n%s\nstderr:\n%s", err, s.output(), stderr.String())
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Fatalf("serve did not listen within 60s\nstderr:\n%s", stderr.String())
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
		}
	})
	return s
}

// stop sends SIGTERM and returns the exit error (nil for status 0).
func (s *served) stop(t *testing.T) error {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop within 60s of SIGTERM")
		return nil
	}
}

// get returns the status of GET url with an optional API key.
func get(t *testing.T, url, key string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeWithNoConfiguration: with no configuration at all, serve runs on
// ./socialpredict.db, writes the admin key with mode 0600, answers with it,
// and exits 0 on SIGTERM; a second start finds the admin and writes nothing.
func TestServeWithNoConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServe(t, dir, nil)
	keyFile := filepath.Join(dir, "socialpredict-admin.key")
	if !strings.Contains(s.output(), keyFile) {
		t.Errorf("the output does not say where the admin key is (%s):\n%s", keyFile, s.output())
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("admin key file mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "socialpredict.db")); err != nil {
		t.Errorf("no ./socialpredict.db: %v", err)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(b))
	if got := get(t, s.api+"/v1/me", key); got != http.StatusOK {
		t.Errorf("GET /v1/me with the admin key: %d", got)
	}
	if got := get(t, s.ops+"/readyz", ""); got != http.StatusOK {
		t.Errorf("GET /readyz: %d", got)
	}
	if got := get(t, s.api+"/metrics", ""); got != http.StatusNotFound {
		t.Errorf("GET /metrics on the public listener: %d, want 404", got)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if !strings.Contains(s.output(), "socialpredict: stopped") {
		t.Errorf("no clean stop in the output:\n%s", s.output())
	}

	again := startServe(t, dir, nil)
	if !strings.Contains(again.output(), `admin user "admin" exists`) {
		t.Errorf("second start:\n%s", again.output())
	}
	b2, _ := os.ReadFile(keyFile)
	if string(b2) != string(b) {
		t.Error("the second start rewrote the admin key file")
	}
	if err := again.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestServeOnPostgresNeedsCurrentSchema: on PostgreSQL serve refuses an
// unmigrated schema, naming `socialpredict migrate up`; --migrate migrates
// and serves; SOCIALPREDICT_ADMIN_KEY is the admin's key and no file is
// written.
func TestServeOnPostgresNeedsCurrentSchema(t *testing.T) {
	bin := build(t)
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		if tdb.Engine != dbtest.Postgres {
			t.Skip("SQLite always migrates")
		}
		dir := t.TempDir()
		refused := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--ops-listen", "off")
		refused.Dir, refused.Env = dir, append(dbEnv(tdb), "PATH="+os.Getenv("PATH"))
		out, err := refused.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "socialpredict migrate up") || !strings.Contains(string(out), "--migrate") {
			t.Fatalf("serve on an empty schema: err %v, output:\n%s", err, out)
		}

		const adminKey = "sp_test_admin_key_0123456789"
		s := startServe(t, dir, append(dbEnv(tdb), "SOCIALPREDICT_ADMIN_KEY="+adminKey), "--migrate")
		if got := get(t, s.api+"/v1/me", adminKey); got != http.StatusOK {
			t.Errorf("GET /v1/me with $SOCIALPREDICT_ADMIN_KEY: %d", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "socialpredict-admin.key")); !os.IsNotExist(err) {
			t.Errorf("an admin key file was written although the key came from the environment: %v", err)
		}
		if strings.Contains(s.output(), adminKey) {
			t.Error("the output shows the admin key")
		}
		if err := s.stop(t); err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	})
}
