package dbpm_test

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"socialpredict/service/dbpm"
)

// referenceResolve is steps 1–6 transcribed literally from the domain text,
// with no care for speed (O(n·m) for n bets and m users), to check Resolve
// against. Its input must be valid.
func referenceResolve(bets []dbpm.Bet, result dbpm.Outcome, r float64) []dbpm.Payout {
	// Step 1.
	var s, yesStake, noStake int64
	for _, b := range bets {
		s += b.Amount
		if b.Outcome == dbpm.Yes {
			yesStake += b.Amount
		} else {
			noStake += b.Amount
		}
	}
	sYes, sNo := int64(math.Round(float64(s)*r)), int64(math.Round(float64(s)*(1-r)))
	if s == 1 {
		sYes, sNo = 0, 0
		if yesStake > noStake {
			sYes = 1
		} else if noStake > yesStake {
			sNo = 1
		}
	}
	// Step 2.
	c := make([]float64, len(bets))
	var sumYes, sumNo float64
	for i, b := range bets {
		c[i] = math.Abs(r-b.ProbabilityAfter) * float64(b.Amount)
		if b.Outcome == dbpm.Yes {
			sumYes += c[i]
		} else {
			sumNo += c[i]
		}
	}
	// Step 3.
	var fYes, fNo float64
	if sumYes != 0 {
		fYes = float64(sYes) / sumYes
	}
	if sumNo != 0 {
		fNo = float64(sNo) / sumNo
	}
	scaled := make([]int64, len(bets))
	var total int64
	for i, b := range bets {
		f := fYes
		if b.Outcome == dbpm.No {
			f = fNo
		}
		scaled[i] = int64(math.Round(c[i] * f))
		total += scaled[i]
	}
	// Step 4.
	n := int64(len(bets))
	if excess := total - s; excess > 0 {
		for i := range scaled {
			scaled[i] -= excess / n
		}
		for i := range excess % n {
			scaled[n-1-i]--
		}
	} else if excess < 0 {
		for i := range scaled {
			scaled[i] += -excess / n
		}
		for i := range -excess % n {
			scaled[i]++
		}
	}
	// Step 5.
	var users []int64
	for _, b := range bets {
		if !slices.Contains(users, b.UserID) {
			users = append(users, b.UserID)
		}
	}
	var holdings []dbpm.Holding
	for _, u := range users {
		var yes, no int64
		first := -1
		for i, b := range bets {
			if b.UserID != u {
				continue
			}
			if first < 0 {
				first = i
			}
			if b.Outcome == dbpm.Yes {
				yes += scaled[i]
			} else {
				no += scaled[i]
			}
		}
		yes, no = max(yes, 0), max(no, 0)
		yes, no = max(yes-no, 0), max(no-yes, 0)
		// Step 6.
		value := yes
		if result == dbpm.No {
			value = no
		}
		holdings = append(holdings, dbpm.Holding{UserID: u, Username: bets[first].Username, FirstBet: first, Value: value})
	}
	slices.SortFunc(holdings, func(a, b dbpm.Holding) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), cmp.Compare(a.FirstBet, b.FirstBet), strings.Compare(a.Username, b.Username))
	})
	adjustOneByOne(holdings, s)
	payouts := []dbpm.Payout{}
	for _, h := range holdings {
		if h.Value > 0 {
			payouts = append(payouts, dbpm.Payout{UserID: h.UserID, Amount: h.Value})
		}
	}
	slices.SortFunc(payouts, func(a, b dbpm.Payout) int { return cmp.Compare(a.UserID, b.UserID) })
	return payouts
}
