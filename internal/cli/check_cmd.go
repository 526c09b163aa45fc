package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) dbCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Verify the money invariants; exit non-zero on any violation",
		Long: `Verify, over the whole database: for every user balance = initial_balance +
sum(ledger) and balance >= -maximum_debt_allowed; market aggregates and
positions equal the sums over their bets; each bet's ledger charges its
stake and its fee (one BET row with the fee as a part, or a BET and a
BET_FEE row as bets placed before migration 007 have them); one first-bet
fee per user and market, by the bets and by the ledger; no bet after its market's resolution; N/A markets refund their
volume; at most one payout set per market, and only for resolved markets.
Prints each violation; exits non-zero if any.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, d, _, err := a.openServices(cmd.Context())
			if err != nil {
				return err
			}
			defer d.Close()
			violations, err := svc.Checker.Check(cmd.Context())
			if err != nil {
				return err
			}
			for _, v := range violations {
				fmt.Fprintln(cmd.OutOrStdout(), v)
			}
			if len(violations) > 0 {
				return fmt.Errorf("%d invariant violations", len(violations))
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok: every invariant holds")
			return nil
		},
	}
}
