package bench

import (
	"fmt"
	"log/slog"
	"time"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/service"
)

// Options configure a run.
type Options struct {
	// Admin names the engine and where scratch databases go: on PostgreSQL
	// a database on the server, opened as a role with the right to create
	// databases; on SQLite a configuration whose sqlite.path directory
	// receives the scratch files.
	Admin database.Config
	// InPlace, when not nil, is an empty database on Admin's engine where
	// the PlaceBet and HTTP measurements run (it is migrated, seeded and
	// left as the run leaves it) instead of a scratch database; tests use it
	// to inspect the database afterwards. The resolution benchmark and
	// pgbench still use scratch databases.
	InPlace *database.Config
	// Workers are the concurrency levels measured (each 1 to MaxWorkers).
	Workers []int
	// Duration of each measurement (greater than 0, at most MaxDuration).
	Duration time.Duration
	// Users (1 to service.MaxSeedUsers) and Markets (1 to
	// service.MaxSeedMarkets) seed the bet benchmark.
	Users, Markets int
	// ResolveBets sizes the resolution benchmark (0: skip it; at most
	// service.MaxSeedBets).
	ResolveBets int
	// PgBench is the pgbench binary ("" to skip the comparison); PgBenchScale
	// its -s (1 to MaxPgBenchScale).
	PgBench      string
	PgBenchScale int
	// Interactive also measures PlaceBet as an interactive transaction
	// (PostgreSQL only: on SQLite PlaceBet is always one).
	Interactive bool
	// HTTP also measures POST /v1/markets/{id}/bets through the real HTTP
	// server, in process on 127.0.0.1, driven by a load generator at each
	// of HTTPConcurrency (each 1 to MaxWorkers) requests in flight, next to
	// PlaceBet at the same worker count.
	HTTP            bool
	HTTPConcurrency []int
	// HTTPProfile, when not empty, is the file that receives a CPU profile
	// of this process (server and load generator alike) during the HTTP
	// measurements.
	HTTPProfile string
	// Log receives progress.
	Log *slog.Logger
}

// The limits of Options.
const (
	// MaxWorkers caps each worker count (and pgbench client count).
	MaxWorkers = 1024
	// MaxDuration caps the duration of one measurement.
	MaxDuration = time.Hour
	// MaxPgBenchScale caps pgbench's scale factor (scale 1000 is about
	// 15 GB of tables).
	MaxPgBenchScale = 1000
)

// Validate returns the first option outside its range, before anything is
// run, as a *errs.InputError whose Field is the option's flag name in
// snake case: workers, duration, users, markets, resolve_bets,
// pgbench_scale, http_concurrency.
func (o Options) Validate() error {
	if len(o.Workers) == 0 {
		return invalid("workers", "needs at least one worker count")
	}
	for _, w := range o.Workers {
		if err := service.CheckRange("workers", int64(w), 1, MaxWorkers); err != nil {
			return err
		}
	}
	if o.HTTP && len(o.HTTPConcurrency) == 0 {
		return invalid("http_concurrency", "needs at least one concurrency with --http")
	}
	for _, c := range o.HTTPConcurrency {
		if err := service.CheckRange("http_concurrency", int64(c), 1, MaxWorkers); err != nil {
			return err
		}
	}
	switch {
	case o.Duration <= 0:
		return invalid("duration", "must be greater than 0, got %s", o.Duration)
	case o.Duration > MaxDuration:
		return invalid("duration", "must be at most %s, got %s", MaxDuration, o.Duration)
	}
	for _, c := range []struct {
		field   string
		v, l, h int64
	}{
		{"users", int64(o.Users), 1, service.MaxSeedUsers},
		{"markets", int64(o.Markets), 1, service.MaxSeedMarkets},
		{"resolve_bets", int64(o.ResolveBets), 0, service.MaxSeedBets},
		{"pgbench_scale", int64(o.PgBenchScale), 1, MaxPgBenchScale},
	} {
		if err := service.CheckRange(c.field, c.v, c.l, c.h); err != nil {
			return err
		}
	}
	return nil
}

// invalid returns the *errs.InputError for option field.
func invalid(field, format string, args ...any) error {
	return &errs.InputError{Field: field, Problem: fmt.Sprintf(format, args...)}
}
