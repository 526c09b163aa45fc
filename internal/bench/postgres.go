package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"socialpredict/database"
	"socialpredict/internal/confkit"
)

// createDatabase creates a scratch database and returns the function that
// drops it.
func createDatabase(ctx context.Context, admin database.Config, name string) (drop func(), err error) {
	db, err := database.NewDatabase(ctx, admin, database.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	if err := db.Exec(`CREATE DATABASE "` + name + `"`).Error; err != nil {
		database.Close(db)
		return nil, fmt.Errorf("create scratch database %s: %w", name, err)
	}
	return func() {
		db.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`)
		database.Close(db)
	}, nil
}

// pgURL is the libpq URL pgbench connects with.
func pgURL(c database.Config) string { return c.ConnString() }

// pgbench drives PostgreSQL's pgbench.
type pgbench struct {
	bin, url string
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
	out, err := exec.CommandContext(ctx, p.bin, "-i", "-q", "-s", strconv.Itoa(scale), p.url).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgbench -i: %v\n%s", err, confkit.RedactURL(string(out)))
	}
	return nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// run runs the tpcb-like script with prepared statements for d (in whole
// seconds, at least one: pgbench's -T) and returns its tps.
func (p *pgbench) run(ctx context.Context, clients int, d time.Duration) (float64, error) {
	threads := min(clients, 4)
	out, err := exec.CommandContext(ctx, p.bin, "-M", "prepared", "-b", "tpcb-like", "-n",
		"-c", strconv.Itoa(clients), "-j", strconv.Itoa(threads), "-T", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))), p.url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v\n%s", err, strings.TrimSpace(string(out)))
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench: no tps in its output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
