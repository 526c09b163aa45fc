package cli

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"socialpredict/internal/chaos"
)

func (a *app) chaosCommand() *cobra.Command {
	var short, verbose, noNetwork, noPool bool
	var fast, immediate, bettors int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Restart PostgreSQL and break the network under concurrent bettors; check nothing is lost",
		Long: `Start a throwaway PostgreSQL cluster (initdb and pg_ctl from the installed
server binaries, on a free port in a temporary directory, as the postgres OS
user when run as root: never the configured database, which is not used), the
real HTTP server in this process behind a fault proxy, and concurrent bettors
placing bets through the API with an Idempotency-Key, retrying on 503 as
Retry-After says. Meanwhile restart PostgreSQL with pg_ctl restart -m fast and
-m immediate at random moments, then inject a latency spike longer than the
request deadline, reset connections, a black hole and a pool exhaustion.

Afterwards check: every acknowledged bet is in the database exactly once and
nothing else is; db check passes; only 503 with Retry-After while the
database was away (no other 5xx, no answer past the request deadline); the
first bet after each fault was acknowledged within 5s; /readyz went degraded
then unhealthy under the network faults and showed the exhausted pool; the
server's pool holds no broken connection. Prints the faults and a table;
exits non-zero when a check fails. The full run takes about three minutes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := chaos.Full()
			if short {
				o = chaos.Short()
			}
			if cmd.Flags().Changed("fast") {
				o.FastRestarts = fast
			}
			if cmd.Flags().Changed("immediate") {
				o.ImmediateRestarts = immediate
			}
			if fast < 0 || immediate < 0 || bettors < 1 || bettors > 200 {
				return flagError(fmt.Errorf("--fast and --immediate must be at least 0, --bettors 1 to 200"))
			}
			o.Network, o.PoolExhaustion, o.Bettors = !noNetwork, !noPool, bettors
			o.RequestTimeout = timeout
			if timeout < 100*time.Millisecond || timeout > time.Minute {
				return flagError(fmt.Errorf("--request-timeout must be between 100ms and 1m"))
			}
			out := cmd.OutOrStdout()
			o.Progress = out
			if verbose {
				o.Log = slog.New(slog.NewTextHandler(a.env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			}
			rep, err := chaos.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintln(out)
			if err := rep.Print(out); err != nil {
				return err
			}
			if rep.Failed() {
				return fmt.Errorf("chaos: %d checks failed", len(rep.Problems))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&short, "short", false, "CI's short run: one restart of each kind, short pauses")
	cmd.Flags().IntVar(&fast, "fast", 5, "restarts with pg_ctl restart -m fast")
	cmd.Flags().IntVar(&immediate, "immediate", 5, "restarts with pg_ctl restart -m immediate")
	cmd.Flags().BoolVar(&noNetwork, "no-network", false, "skip the network faults")
	cmd.Flags().BoolVar(&noPool, "no-pool-exhaustion", false, "skip the pool exhaustion")
	cmd.Flags().IntVar(&bettors, "bettors", 8, "concurrent bettors (1 to 200)")
	cmd.Flags().DurationVar(&timeout, "request-timeout", 2*time.Second, "the server's request deadline (server.request_timeout)")
	cmd.Flags().BoolVar(&verbose, "verbose", false, "print the server's log on standard error")
	return cmd
}
