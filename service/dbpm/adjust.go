package dbpm

import (
	"cmp"
	"slices"
	"strings"
)

// Holding is one user's rounded value entering the adjustment of step 6.
type Holding struct {
	// UserID identifies the user; it breaks ties left by the other keys.
	UserID int64
	// Username breaks ties between equal values and equal FirstBet.
	Username string
	// FirstBet ranks the user's first bet in (placed_at, id) order: smaller
	// is earlier. Resolve uses the bet's index.
	FirstBet int
	// Value is the rounded value in credits; only holdings with Value > 0
	// take part in the adjustment.
	Value int64
}

// AdjustToVolume sorts holdings into the adjustment order — Value
// descending, then FirstBet ascending, then Username, then UserID — and
// adjusts in place the values of the holdings with Value > 0 so that they sum
// to volume: it hands out (or takes back) 1 credit at a time, round robin in
// that order. Taking back never takes a value below 0: holdings at 0 are
// skipped, and when all are at 0 it stops short of volume. Holdings with
// Value <= 0 are left unchanged; if there are none with Value > 0, nothing
// changes. It has no error; the sum of the positive values must fit in an
// int64. It runs in O(m log m) for m holdings, whatever the difference.
func AdjustToVolume(holdings []Holding, volume int64) {
	slices.SortFunc(holdings, func(a, b Holding) int {
		return cmp.Or(
			cmp.Compare(b.Value, a.Value),
			cmp.Compare(a.FirstBet, b.FirstBet),
			strings.Compare(a.Username, b.Username),
			cmp.Compare(a.UserID, b.UserID),
		)
	})
	var sum int64
	k := 0 // holdings[:k] have Value > 0
	for k < len(holdings) && holdings[k].Value > 0 {
		sum += holdings[k].Value
		k++
	}
	if k == 0 || sum == volume {
		return
	}
	active := holdings[:k]
	if d := volume - sum; d > 0 {
		giveBack(active, d)
		return
	}
	takeBack(active, sum-volume)
}

// giveBack hands out d > 0 credits round robin over h.
func giveBack(h []Holding, d int64) {
	m := int64(len(h))
	q, r := d/m, d%m
	for i := range h {
		h[i].Value += q
		if int64(i) < r {
			h[i].Value++
		}
	}
}

// takeBack takes back t > 0 credits round robin over h, sorted by Value
// descending, skipping values at 0. It does whole rounds in bulk: every
// round takes 1 from each holding still above 0, and since the values
// decrease together the ones reaching 0 are always at the end.
func takeBack(h []Holding, t int64) {
	var taken int64 // whole rounds done
	k := len(h)     // h[:k] are still above 0 after those rounds
	partial := 0    // the first partial holdings give 1 more
	for t > 0 && k > 0 {
		rounds := min(t/int64(k), h[k-1].Value-taken)
		if rounds == 0 { // t < k: a last, partial round
			partial = int(t)
			break
		}
		taken += rounds
		t -= rounds * int64(k)
		for k > 0 && h[k-1].Value <= taken {
			k--
		}
	}
	for i := range h {
		h[i].Value = max(h[i].Value-taken, 0)
		if i < partial {
			h[i].Value--
		}
	}
}
