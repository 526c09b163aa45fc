package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"socialpredict/database"
)

// createDatabase creates a scratch database and returns the function that
// drops it.
func createDatabase(ctx context.Context, admin database.Config, name string) (drop func(), err error) {
	db, err := database.NewDatabase(ctx, admin, database.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	if err := db.GormDB().Exec(`CREATE DATABASE "` + name + `"`).Error; err != nil {
		db.Close()
		return nil, fmt.Errorf("create scratch database %s: %w", name, err)
	}
	return func() {
		db.GormDB().Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`)
		db.Close()
	}, nil
}

// pgbench drives PostgreSQL's pgbench.
type pgbench struct {
	bin string
	// conn is the connection URL without a password; password is passed
	// in PGPASSWORD.
	conn, password string
}

// newPgBench returns the driver of the pgbench binary bin for the database c.
func newPgBench(bin string, c database.Config) *pgbench {
	conn, password := c.LibpqConn()
	return &pgbench{bin: bin, conn: conn, password: password}
}

// command returns the pgbench command with args, followed by the
// connection. Every local user can read a command line (ps,
// /proc/PID/cmdline): the password is never in it, but in the PGPASSWORD
// environment variable, which only the same user can read.
func (p *pgbench) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.bin, append(args, p.conn)...)
	cmd.Env = pgbenchEnv(os.Environ(), p.password)
	return cmd
}

// pgbenchEnv returns environ with PGPASSWORD set to password, replacing an
// inherited one; environ as it is when password is "".
func pgbenchEnv(environ []string, password string) []string {
	if password == "" {
		return environ
	}
	env := slices.DeleteFunc(slices.Clone(environ), func(kv string) bool { return strings.HasPrefix(kv, "PGPASSWORD=") })
	return append(env, "PGPASSWORD="+password)
}

// FindPgBench returns the pgbench binary on PATH or in the newest
// PostgreSQL install, or "".
func FindPgBench() string {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(matches) == 0 {
		return ""
	}
	return matches[len(matches)-1]
}

func (p *pgbench) init(ctx context.Context, scale int) error {
	out, err := p.command(ctx, "-i", "-q", "-s", strconv.Itoa(scale)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgbench -i: %v\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// run runs the tpcb-like script with prepared statements for d (in whole
// seconds, at least one: pgbench's -T) and returns its tps.
func (p *pgbench) run(ctx context.Context, clients int, d time.Duration) (float64, error) {
	threads := min(clients, 4)
	out, err := p.command(ctx, "-M", "prepared", "-b", "tpcb-like", "-n",
		"-c", strconv.Itoa(clients), "-j", strconv.Itoa(threads), "-T", strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v\n%s", err, strings.TrimSpace(string(out)))
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench: no tps in its output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
