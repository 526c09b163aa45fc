package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"socialpredict/database"
	"socialpredict/internal/bench"
	"socialpredict/service"
)

func (a *app) benchCommand() *cobra.Command {
	o := bench.Options{}
	var noPgBench bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure PlaceBet against pgbench, and a large resolution, on PostgreSQL",
		Long: `Measure PlaceBet throughput and p50/p99 latency at each worker count over the
seeded users and markets, next to pgbench's built-in tpcb-like script with -M
prepared at the same client counts on the same server, in one run; then time
the resolution of one market with --resolve-bets bets. The configured
database must be PostgreSQL, reached as a role that may create databases: each
run creates scratch databases and drops them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return flagError(err)
			}
			cfg, err := a.load()
			if err != nil {
				return err
			}
			if cfg.Database.Driver != database.DriverPostgres {
				return errors.New("bench needs PostgreSQL: set DATABASE_URL or database.driver: postgres")
			}
			o.Admin, o.Log = cfg.Database, a.logger(cfg)
			if !noPgBench {
				if o.PgBench = bench.FindPgBench(); o.PgBench == "" {
					return errors.New("pgbench not found (install PostgreSQL's client tools, or pass --no-pgbench)")
				}
			}
			res, err := bench.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "PlaceBet over %d users and %d markets, %s per measurement\n", o.Users, o.Markets, o.Duration)
			res.Print(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().IntSliceVar(&o.Workers, "workers", []int{1, 8, 32}, fmt.Sprintf("concurrent workers (and pgbench clients), each 1 to %d", bench.MaxWorkers))
	cmd.Flags().DurationVar(&o.Duration, "duration", 10*time.Second, fmt.Sprintf("duration of each measurement (greater than 0, at most %s)", bench.MaxDuration))
	cmd.Flags().IntVar(&o.Users, "users", 10_000, fmt.Sprintf("users to seed (1 to %d)", service.MaxSeedUsers))
	cmd.Flags().IntVar(&o.Markets, "markets", 100, fmt.Sprintf("markets to seed (1 to %d)", service.MaxSeedMarkets))
	cmd.Flags().IntVar(&o.ResolveBets, "resolve-bets", 100_000, fmt.Sprintf("bets in the market resolved at the end (0: skip; at most %d)", service.MaxSeedBets))
	cmd.Flags().IntVar(&o.PgBenchScale, "pgbench-scale", 10, fmt.Sprintf("pgbench -s (scale factor, 1 to %d)", bench.MaxPgBenchScale))
	cmd.Flags().BoolVar(&o.Interactive, "interactive", true, "also measure PlaceBet as an interactive transaction")
	cmd.Flags().BoolVar(&noPgBench, "no-pgbench", false, "skip the pgbench comparison")
	return cmd
}
