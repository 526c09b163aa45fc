package repository_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/models/wpam"
	"socialpredict/repository"
)

// TestPlaceStatementProbabilityIsWPAM: the probability the one-statement
// bet computes in SQL equals models/wpam's, the formula's one source, over
// random seeds and random bets.
func TestPlaceStatementProbabilityIsWPAM(t *testing.T) {
	t.Parallel()
	d, _ := daltest.New(t, dbtest.Postgres)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	u := daltest.User(t, d, func(u *models.User) { u.Balance = models.MaxAmount })
	for market := range 20 {
		s := wpam.Seeds{P0: 0.01 + 0.98*rng.Float64(), I0: rng.Int64N(1000), Y0: rng.Int64N(100), N0: rng.Int64N(100)}
		m := daltest.Market(t, d, u.ID)
		var yes, no int64
		for bet := range 10 {
			outcome, amount := models.OutcomeYes, 1+rng.Int64N(10_000)
			if rng.IntN(2) == 0 {
				outcome = models.OutcomeNo
				no += amount
			} else {
				yes += amount
			}
			res, err := d.Bets().PlaceStatement(ctx, repository.BetPlacement{UserID: u.ID, MarketID: m.ID, Outcome: outcome,
				Amount: amount, Now: daltest.Now, MaxDebt: 0, P0: s.P0, I0: s.I0, Y0: s.Y0, N0: s.N0})
			if err != nil || res.Bet == nil {
				t.Fatalf("market %d bet %d: %+v, %v", market, bet, res, err)
			}
			want := wpam.Probability(s, yes, no)
			if got := res.Bet.ProbabilityAfter; math.Abs(got-want) > 1e-12 {
				t.Fatalf("seeds %+v, stakes yes %d no %d: SQL probability %v, wpam %v", s, yes, no, got, want)
			}
		}
	}
}
