package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"socialpredict/config"
	"socialpredict/internal/confkit"
)

// TestLoadRefusesOversizedFile: a configuration file larger than
// confkit.MaxFileSize is refused with an error naming the file and the
// limit (issue 9, item 13: a 10 MB file took 7 s and 1 GB).
func TestLoadRefusesOversizedFile(t *testing.T) {
	line := "# " + strings.Repeat("x", 61) + "\n" // 64 bytes
	body := strings.Repeat(line, confkit.MaxFileSize/len(line))
	ok := filepath.Join(t.TempDir(), "limit.yaml")
	if err := os.WriteFile(ok, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(ok, envMap()); err != nil {
		t.Fatalf("a file of exactly %d bytes: %v", len(body), err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte(body+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(big, envMap())
	if !errors.Is(err, confkit.ErrFileTooLarge) {
		t.Fatalf("err = %v, want ErrFileTooLarge", err)
	}
	for _, want := range []string{big, "1 MiB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if _, err := config.Parse("mem.yaml", []byte(body+"\n"), envMap()); !errors.Is(err, confkit.ErrFileTooLarge) || !strings.Contains(err.Error(), "mem.yaml") {
		t.Errorf("Parse of %d bytes: err = %v, want ErrFileTooLarge naming mem.yaml", len(body)+1, err)
	}
}

// TestLoadRefusesEndlessFile: a file whose size Stat does not tell (a
// device, a pipe) is read no further than the limit.
func TestLoadRefusesEndlessFile(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	if _, err := config.Load("/dev/zero", envMap()); !errors.Is(err, confkit.ErrFileTooLarge) {
		t.Errorf("err = %v, want ErrFileTooLarge", err)
	}
}

// TestLoadReportsAtMostTwentyProblems: the message lists the first
// confkit.MaxReported problems and counts the others (issue 9, item 13: a
// file of unknown keys printed 72 MB); errors.As still sees them all.
func TestLoadReportsAtMostTwentyProblems(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "unknown_%d: 1\n", i)
	}
	_, err := config.Load(writeFile(t, b.String()), envMap())
	if got := problemKeys(t, err); len(got) != 100 {
		t.Errorf("%d problems, want 100", len(got))
	}
	msg := err.Error()
	if n := strings.Count(msg, "\n  - "); n != confkit.MaxReported {
		t.Errorf("message lists %d problems, want %d:\n%s", n, confkit.MaxReported, msg)
	}
	if !strings.Contains(msg, "unknown_19") || strings.Contains(msg, "unknown_20:") || !strings.HasSuffix(msg, "… and 80 more problems") {
		t.Errorf("message:\n%s", msg)
	}
}
