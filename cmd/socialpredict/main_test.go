package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var binary struct {
	once sync.Once
	path string
	err  error
}

// build compiles the binary once per test run, without cgo.
func build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "socialpredict-bin")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "socialpredict")
		cmd := exec.Command("go", "build", "-o", binary.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("CGO_ENABLED=0 go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.path != "" {
		os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}

// TestExitStatus runs the real binary: success exits 0, failure exits
// non-zero with the error on standard error.
func TestExitStatus(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	ok := exec.Command(bin, "db", "ping")
	ok.Dir = dir
	ok.Env = []string{"PATH=" + os.Getenv("PATH")}
	if out, err := ok.CombinedOutput(); err != nil || !strings.Contains(string(out), "driver:         sqlite") {
		t.Errorf("db ping on the embedded default: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "socialpredict.db")); err != nil {
		t.Errorf("embedded default database not created in the working directory: %v", err)
	}

	bad := exec.Command(bin, "db", "ping")
	bad.Dir = dir
	bad.Env = []string{"SOCIALPREDICT_DATABASE_PORT=0"}
	out, err := bad.CombinedOutput()
	if exit, isExit := err.(*exec.ExitError); !isExit || exit.ExitCode() == 0 {
		t.Fatalf("db ping with an invalid port: err %v, want a non-zero exit", err)
	}
	if !strings.Contains(string(out), "socialpredict: invalid configuration") || !strings.Contains(string(out), "database.port") {
		t.Errorf("stderr lacks the problem:\n%s", out)
	}
}
