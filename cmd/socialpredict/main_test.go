package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitStatus runs the real binary: success exits 0, failure exits
// non-zero with the error on standard error.
func TestExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "socialpredict")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}

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
