package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"socialpredict/service"
)

func (a *app) seedCommand() *cobra.Command {
	o := service.SeedOptions{}
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fill the database with realistic users, markets and bets",
		Long: `Create users, markets (their creation cost paid) and bets placed by the market
rules in time order, with positions, ledger rows and market aggregates, through
the bulk APIs and in one transaction: "socialpredict db check" passes afterwards.
Bets the rules reject (a user at the debt floor) are skipped and counted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Before the database is opened (SQLite would create its file).
			if err := o.Validate(); err != nil {
				return flagError(err)
			}
			svc, d, _, err := a.openServices(cmd.Context())
			if err != nil {
				return err
			}
			defer d.Close()
			start := time.Now()
			res, err := svc.Seed(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "seeded %d users, %d markets, %d bets (%d rejected by the rules), %d ledger rows in %s\n",
				res.Users, res.Markets, res.Bets, res.Rejected, res.LedgerRows, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Users, "users", 100, fmt.Sprintf("users to create (1 to %d)", service.MaxSeedUsers))
	cmd.Flags().IntVar(&o.Markets, "markets", 10, fmt.Sprintf("markets to create (0 to %d)", service.MaxSeedMarkets))
	cmd.Flags().IntVar(&o.Bets, "bets", 1000, fmt.Sprintf("bets to try to place (0 to %d; bets need --markets of at least 1)", service.MaxSeedBets))
	cmd.Flags().Int64Var(&o.InitialBalance, "initial-balance", 1000, fmt.Sprintf("initial balance of each seeded user (credits, 0 to %d)", int64(service.MaxCredits)))
	cmd.Flags().Uint64Var(&o.RandomSeed, "random-seed", 1, "random seed, for repeatable data")
	cmd.Flags().StringVar(&o.Prefix, "prefix", service.DefaultSeedPrefix,
		"username prefix: usernames are PREFIX_0, PREFIX_1, ..., each 3-30 lower-case letters, digits or underscores (seeding again needs another prefix)")
	return cmd
}
