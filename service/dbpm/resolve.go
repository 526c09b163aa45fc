package dbpm

import (
	"cmp"
	"fmt"
	"slices"
)

// Resolve returns each user's payout for a market resolved result (Yes or
// No) whose final probability is finalProbability (R), for bets given in
// (placed_at, id) order: steps 1–5 (see Shares), then step 6 — winning-side
// shares are worth 1 credit, losing-side shares 0, and the values of the
// users with value > 0 are adjusted to sum to the volume (see
// AdjustToVolume). If nobody holds winning-side shares, nobody is paid.
//
// The payouts are sorted by UserID; users receiving 0 are omitted, so the
// slice is empty (not nil) when nobody is paid. Resolve returns an error
// matching ErrInvalidResult for a result other than Yes or No,
// ErrInvalidProbability for R outside [0, 1], or ErrInvalidBet for an
// invalid bet (see Bet) or a volume above MaxVolume. It runs in O(n log n)
// for n bets.
func Resolve(bets []Bet, result Outcome, finalProbability float64) ([]Payout, error) {
	if result != Yes && result != No {
		return nil, fmt.Errorf("%w: %q", ErrInvalidResult, result)
	}
	users, volume, err := netShares(bets, finalProbability)
	if err != nil {
		return nil, err
	}
	holdings := make([]Holding, 0, len(users))
	for _, u := range users {
		v := u.Yes
		if result == No {
			v = u.No
		}
		if v > 0 {
			holdings = append(holdings, Holding{UserID: u.id, Username: u.Username, FirstBet: u.FirstBet, Value: v})
		}
	}
	AdjustToVolume(holdings, volume)
	payouts := make([]Payout, 0, len(holdings))
	for _, h := range holdings {
		if h.Value > 0 {
			payouts = append(payouts, Payout{UserID: h.UserID, Amount: h.Value})
		}
	}
	slices.SortFunc(payouts, func(a, b Payout) int { return cmp.Compare(a.UserID, b.UserID) })
	return payouts, nil
}
