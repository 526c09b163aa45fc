package dbpm_test

import (
	"socialpredict/models/wpam"
	"socialpredict/service/dbpm"
)

// placed is a bet as a user places it, before the market computes its
// probability.
type placed struct {
	user    int64
	name    string
	outcome dbpm.Outcome
	amount  int64
}

// replay places the bets in order on a fresh market with the default seeds,
// as the real system does, and returns them with the probability right after
// each (WPAM) and the final probability R (the seeds' P0 with no bets).
func replay(bets ...placed) ([]dbpm.Bet, float64) {
	seeds := wpam.DefaultSeeds()
	out := make([]dbpm.Bet, len(bets))
	var yes, no int64
	r := wpam.Probability(seeds, 0, 0)
	for i, b := range bets {
		if b.outcome == dbpm.Yes {
			yes += b.amount
		} else {
			no += b.amount
		}
		r = wpam.Probability(seeds, yes, no)
		out[i] = dbpm.Bet{UserID: b.user, Username: b.name, Outcome: b.outcome, Amount: b.amount, ProbabilityAfter: r}
	}
	return out, r
}

// probabilities returns the ProbabilityAfter of each bet.
func probabilities(bets []dbpm.Bet) []float64 {
	ps := make([]float64, len(bets))
	for i, b := range bets {
		ps[i] = b.ProbabilityAfter
	}
	return ps
}

// volume returns S, the sum of the bet amounts.
func volume(bets []dbpm.Bet) int64 {
	var s int64
	for _, b := range bets {
		s += b.Amount
	}
	return s
}
