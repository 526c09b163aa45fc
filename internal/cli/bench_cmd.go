package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"socialpredict/database"
	"socialpredict/internal/bench"
	"socialpredict/internal/pgcluster"
	"socialpredict/service"
)

func (a *app) benchCommand() *cobra.Command {
	o := bench.Options{}
	var noPgBench, asJSON bool
	so := bench.SuiteOptions{}
	var all bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure PlaceBet (directly and over HTTP) against pgbench, and a large resolution",
		Long: `Measure PlaceBet throughput and p50/p99 latency at each worker count over the
seeded users and markets, next to pgbench's built-in tpcb-like script with -M
prepared at the same client counts on the same server, in one run; then time
the resolution of one market with --resolve-bets bets.

With --http, also start the real API server in this process on 127.0.0.1 (rate
limit off, log lines below warn dropped), give the first 1000 seeded users (at
least twice the largest concurrency) an API key each, and drive POST /v1/markets/{id}/bets with the vegeta load generator as fast as
the server answers, at each --http-concurrency (requests in flight, one
keep-alive connection each): each request from the next user in turn, on a
random market, outcome and amount as the direct measurement picks them. At a
concurrency that is also a worker count, PlaceBet called directly and the HTTP
path are measured in alternating slices of about 2s (up to 10), so that both
see the same machine; each HTTP figure stands next to the direct one, with the
ratio HTTP/direct. A concurrency --workers lacks gets a direct measurement of
its own, made the same way.

Afterwards the money invariants (as ` + "`socialpredict db check`" + `) are checked over
the benchmark's database; a violation fails the command.

On PostgreSQL the configured database must be reached as a role that may create
databases: each run creates scratch databases and drops them. On SQLite each run
works in scratch files in a new directory beside sqlite.path, removed
afterwards; there is no pgbench comparison and no interactive measurement
(PlaceBet is always an interactive transaction on SQLite).

With --all, run the whole performance suite instead (about 6 minutes with the
defaults) against the configured PostgreSQL, or, when none is configured, a
throwaway cluster started from the installed server binaries (initdb, pg_ctl;
run as the postgres OS user when root) on a free port in a temporary
directory, with fsync on, stopped and deleted afterwards (on an error or
Ctrl-C too; the report says which server it was), and write
docs/performance.md (--out) with its chart: pgbench as the anchor, PlaceBet
through the service (monitoring on and off, prepared statements off), the same
place_bet call on raw pgx as the limit, HTTP, pool scaling, SQLite, reads,
bulk inserts and resolution, each the median of --rounds interleaved runs, and
a PASS/FAIL line for each target of issue 13.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all {
				return a.benchAll(cmd, so)
			}
			if err := o.Validate(); err != nil {
				return flagError(err)
			}
			cfg, err := a.load()
			if err != nil {
				return err
			}
			o.Admin, o.Log = cfg.Database, a.logger(cfg)
			if cfg.Database.Driver != database.DriverSQLite && !noPgBench {
				if o.PgBench = bench.FindPgBench(); o.PgBench == "" {
					return errors.New("pgbench not found (install PostgreSQL's client tools, or pass --no-pgbench)")
				}
			}
			res, err := bench.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "PlaceBet on %s over %d users and %d markets, %s per measurement\n", res.Engine, o.Users, o.Markets, o.Duration)
				res.Print(out)
			}
			if n := len(res.Violations); n > 0 {
				return fmt.Errorf("%d invariant violations after the benchmark", n)
			}
			return nil
		},
	}
	cmd.Flags().IntSliceVar(&o.Workers, "workers", []int{1, 8, 32}, fmt.Sprintf("concurrent workers (and pgbench clients), each 1 to %d", bench.MaxWorkers))
	cmd.Flags().DurationVar(&o.Duration, "duration", 10*time.Second, fmt.Sprintf("duration of each measurement (greater than 0, at most %s)", bench.MaxDuration))
	cmd.Flags().IntVar(&o.Users, "users", 10_000, fmt.Sprintf("users to seed (1 to %d)", service.MaxSeedUsers))
	cmd.Flags().IntVar(&o.Markets, "markets", 100, fmt.Sprintf("markets to seed (1 to %d)", service.MaxSeedMarkets))
	cmd.Flags().IntVar(&o.ResolveBets, "resolve-bets", 100_000, fmt.Sprintf("bets in the market resolved at the end (0: skip; at most %d)", service.MaxSeedBets))
	cmd.Flags().IntVar(&o.PgBenchScale, "pgbench-scale", 10, fmt.Sprintf("pgbench -s (scale factor, 1 to %d)", bench.MaxPgBenchScale))
	cmd.Flags().BoolVar(&o.Interactive, "interactive", true, "also measure PlaceBet as an interactive transaction (PostgreSQL)")
	cmd.Flags().BoolVar(&noPgBench, "no-pgbench", false, "skip the pgbench comparison (always skipped on SQLite)")
	cmd.Flags().BoolVar(&o.HTTP, "http", false, "also measure POST /v1/markets/{id}/bets through the API server in this process")
	cmd.Flags().IntSliceVar(&o.HTTPConcurrency, "http-concurrency", []int{8, 32}, fmt.Sprintf("requests in flight for --http, each 1 to %d", bench.MaxWorkers))
	cmd.Flags().StringVar(&o.HTTPProfile, "http-cpuprofile", "", "write a CPU profile of this process (server and load generator) during the --http measurements to this file")
	cmd.Flags().BoolVar(&all, "all", false, "run the whole performance suite against PostgreSQL (a throwaway cluster when none is configured) and write --out (see docs/performance.md); the other measurement flags are ignored")
	cmd.Flags().BoolVar(&so.Quick, "quick", false, "with --all: tiny sizes, for testing the suite (the figures mean nothing)")
	cmd.Flags().StringVar(&so.Out, "out", "docs/performance.md", "with --all: the report to write (the SVG chart goes beside it)")
	cmd.Flags().DurationVar(&so.RunLen, "run", 3*time.Second, "with --all: length of one timed run")
	cmd.Flags().IntVar(&so.Rounds, "rounds", 3, "with --all: interleaved runs of every measurement (at least 3)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON (durations in nanoseconds)")
	return cmd
}

// benchAll runs the performance suite (bench --all).
func (a *app) benchAll(cmd *cobra.Command, so bench.SuiteOptions) error {
	cfg, err := a.load()
	if err != nil {
		return err
	}
	// No PostgreSQL configured (the SQLite default): a throwaway cluster.
	so.Admin, so.Throwaway, so.Log = cfg.Database, cfg.Database.Driver == database.DriverSQLite, a.logger(cfg)
	if so.PgBench = bench.FindPgBench(); so.PgBench == "" {
		return errors.New("pgbench not found (install PostgreSQL's client tools)")
	}
	rep, err := bench.RunSuite(cmd.Context(), so)
	if errors.Is(err, pgcluster.ErrNoBinaries) {
		return fmt.Errorf("bench --all needs PostgreSQL: none is configured (database.url, DATABASE_URL) and %w", err)
	}
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "wrote %s in %s against %s\n", so.Out, rep.Finished.Sub(rep.Started).Round(time.Second), rep.Server)
	for _, t := range rep.Targets {
		v := "FAIL"
		if t.Pass {
			v = "PASS"
		}
		fmt.Fprintf(out, "%s  %s: %s\n", v, t.Text, t.Figure)
	}
	for _, c := range rep.Checks {
		if len(c.Violations) > 0 {
			return fmt.Errorf("invariant violations after %s", c.After)
		}
	}
	return nil
}
