package cli_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/internal/cli"
	"socialpredict/internal/confkit"
)

// run executes the command line with a fake environment and returns its
// standard output, standard error and error.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	e := cli.Env{Stdout: &out, Stderr: &errOut, Environ: []string{}}
	for k, v := range env {
		e.Environ = append(e.Environ, k+"="+v)
	}
	err = cli.Execute(context.Background(), e, args)
	return out.String(), errOut.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := run(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "socialpredict ") {
		t.Errorf("version = %q, %v", out, err)
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		t.Run(c.CommandPath(), func(t *testing.T) {
			if c.Short == "" {
				t.Errorf("%s has no short description", c.CommandPath())
			}
			args := append(strings.Fields(c.CommandPath())[1:], "--help")
			out, _, err := run(t, nil, args...)
			if err != nil || !strings.Contains(out, "Usage:") {
				t.Errorf("%v: output %q, err %v", args, out, err)
			}
		})
		for _, sub := range c.Commands() {
			if sub.Name() != "help" && sub.Name() != "completion" {
				walk(sub)
			}
		}
	}
	walk(cli.NewRootCommand(cli.OSEnv()))
}

func TestConfigShowMasksPassword(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("database:\n  host: db.example.com\n  password: ${PW}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"flag": {"--config", file, "config", "show"},
		"env":  {"config", "show"},
	} {
		t.Run(name, func(t *testing.T) {
			out, _, err := run(t, map[string]string{"PW": "hunter2", "SOCIALPREDICT_CONFIG": file}, args...)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, "hunter2") || !strings.Contains(out, confkit.Masked) || !strings.Contains(out, file) {
				t.Errorf("config show output:\n%s", out)
			}
		})
	}
}

func TestConfigShowInvalid(t *testing.T) {
	_, _, err := run(t, map[string]string{"SOCIALPREDICT_DATABASE_PORT": "0", "SOCIALPREDICT_LOG_LEVEL": "loud"}, "config", "show")
	if !errors.Is(err, confkit.ErrInvalid) || !strings.Contains(err.Error(), "database.port") || !strings.Contains(err.Error(), "log.level") {
		t.Errorf("err = %v, want both problems", err)
	}
}

func TestDBPingSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ping.db")
	out, _, err := run(t, map[string]string{"SOCIALPREDICT_DATABASE_SQLITE_PATH": path}, "db", "ping")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"driver:         sqlite", "server version: 3.", "latency:", path} {
		if !strings.Contains(out, want) {
			t.Errorf("db ping output lacks %q:\n%s", want, out)
		}
	}
}

func TestDBPingUnreachable(t *testing.T) {
	url := "postgres://app:hunter2@127.0.0.1:" + strconv.Itoa(dbtest.ClosedPort(t)) + "/x?sslmode=disable"
	_, stderr, err := run(t, map[string]string{"DATABASE_URL": url, "SOCIALPREDICT_DATABASE_CONNECT_RETRY_ATTEMPTS": "2",
		"SOCIALPREDICT_DATABASE_CONNECT_RETRY_INITIAL_BACKOFF": "10ms"}, "db", "ping")
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error()+stderr, "hunter2") {
		t.Errorf("password leaked:\n%v\n%s", err, stderr)
	}
	if got := strings.Count(stderr, "database connection failed"); got != 2 {
		t.Errorf("logged %d failed attempts, want 2:\n%s", got, stderr)
	}
}
