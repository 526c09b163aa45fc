package dbpm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"socialpredict/service/dbpm"
)

// randomMarket returns 1–50 bets from 1–10 users, amounts 1–100, random
// sides, with their WPAM probabilities, R, and a random result.
func randomMarket(r *rand.Rand) ([]dbpm.Bet, float64, dbpm.Outcome) {
	users := 1 + r.IntN(10)
	placements := make([]placed, 1+r.IntN(50))
	for i := range placements {
		u := int64(1 + r.IntN(users))
		placements[i] = placed{user: u, name: fmt.Sprintf("user%02d", u), outcome: side(r), amount: 1 + r.Int64N(100)}
	}
	bets, final := replay(placements...)
	return bets, final, side(r)
}

func side(r *rand.Rand) dbpm.Outcome {
	if r.IntN(2) == 0 {
		return dbpm.Yes
	}
	return dbpm.No
}

// arbitraryMarket is randomMarket with probabilities and R drawn at random
// instead of replayed: not what WPAM produces, but Resolve must keep its
// properties for any valid input, and such markets reach the take-back
// branch of step 6 that WPAM markets rarely do.
func arbitraryMarket(r *rand.Rand) ([]dbpm.Bet, float64, dbpm.Outcome) {
	bets, _, result := randomMarket(r)
	for i := range bets {
		bets[i].ProbabilityAfter = r.Float64()
		if r.IntN(4) == 0 {
			bets[i].Amount = 1 + r.Int64N(3)
		}
	}
	return bets, r.Float64(), result
}

func TestResolveProperties(t *testing.T) {
	for _, gen := range []struct {
		name   string
		market func(*rand.Rand) ([]dbpm.Bet, float64, dbpm.Outcome)
	}{{"WPAM replay", randomMarket}, {"arbitrary probabilities", arbitraryMarket}} {
		t.Run(gen.name, func(t *testing.T) { checkProperties(t, gen.market) })
	}
}

func checkProperties(t *testing.T, market func(*rand.Rand) ([]dbpm.Bet, float64, dbpm.Outcome)) {
	r := rand.New(rand.NewPCG(2024, 6))
	var handedOut, takenBack, exact, nobody int
	for i := range 5000 {
		bets, final, result := market(r)
		s := volume(bets)

		got, err := dbpm.Resolve(bets, result, final)
		if err != nil {
			t.Fatalf("market %d: Resolve: %v", i, err)
		}
		again, _ := dbpm.Resolve(bets, result, final)
		if diff := cmp.Diff(got, again); diff != "" {
			t.Fatalf("market %d: Resolve is not deterministic (-first +second):\n%s", i, diff)
		}
		if diff := cmp.Diff(got, referenceResolve(bets, result, final)); diff != "" {
			t.Fatalf("market %d: Resolve differs from the literal steps (-got +want):\n%s", i, diff)
		}

		shares, err := dbpm.Shares(bets, final)
		if err != nil {
			t.Fatalf("market %d: Shares: %v", i, err)
		}
		var winners, sharesSum int64
		for id, sh := range shares {
			if sh.Yes < 0 || sh.No < 0 || (sh.Yes > 0 && sh.No > 0) {
				t.Fatalf("market %d: user %d has shares %+v, want net non-negative shares", i, id, sh)
			}
			if v := sh.Value(winProbability(result)); v > 0 {
				winners++
				sharesSum += v
			}
		}

		var sum int64
		for j, p := range got {
			if p.Amount <= 0 {
				t.Fatalf("market %d: payout %+v is not positive", i, p)
			}
			if j > 0 && got[j-1].UserID >= p.UserID {
				t.Fatalf("market %d: payouts %v not in strictly increasing UserID order", i, got)
			}
			if sh := shares[p.UserID]; sh.Value(winProbability(result)) <= 0 {
				t.Fatalf("market %d: user %d paid %d without winning shares", i, p.UserID, p.Amount)
			}
			sum += p.Amount
		}
		switch {
		case winners == 0:
			nobody++
			if len(got) != 0 {
				t.Fatalf("market %d: nobody holds winning shares but payouts are %v", i, got)
			}
		case sum != s:
			t.Fatalf("market %d: payouts sum to %d, want the volume %d", i, sum, s)
		case sharesSum < s:
			handedOut++
		case sharesSum > s:
			takenBack++
		default:
			exact++
		}
	}
	t.Logf("markets: %d handed out, %d taken back, %d exact, %d without winners", handedOut, takenBack, exact, nobody)
}

// winProbability is the probability of YES once the market resolved result.
func winProbability(result dbpm.Outcome) float64 {
	if result == dbpm.Yes {
		return 1
	}
	return 0
}
