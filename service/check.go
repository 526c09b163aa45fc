package service

import (
	"context"

	"socialpredict/repository"
)

// Checker verifies the money invariants over the whole database.
type Checker struct{ *base }

// Violation is one broken invariant (see repository.Violation).
type Violation = repository.Violation

// Check runs every invariant and returns the violations (none: an empty
// slice): for every user balance = initial_balance + sum(ledger) and
// balance >= -maximum_debt_allowed; market aggregates and positions equal
// the sums over the bets; each bet's ledger rows charge its stake and its
// fee (either shape: one BET row carrying the fee, or BET and BET_FEE rows);
// one first-bet fee per user and market, by the bets and by the ledger; no bet
// after its market's resolution; N/A markets refund their volume; at most
// one payout set per market, only for resolved markets. Each check is one
// query. The error is for failed queries.
func (c *Checker) Check(ctx context.Context) ([]Violation, error) {
	return c.dal.Invariants().Check(ctx, repository.InvariantRules{MaximumDebtAllowed: c.econ.MaximumDebtAllowed,
		BuySharesFee: c.econ.BuySharesFee, InitialBetFee: c.econ.InitialBetFee})
}
