package dbpm_test

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"socialpredict/service/dbpm"
)

func TestAdjustToVolume(t *testing.T) {
	h := func(id int64, name string, first int, value int64) dbpm.Holding {
		return dbpm.Holding{UserID: id, Username: name, FirstBet: first, Value: value}
	}
	tests := []struct {
		name     string
		holdings []dbpm.Holding
		volume   int64
		want     []dbpm.Holding // in adjustment order
	}{
		{
			name:     "already sums to volume",
			holdings: []dbpm.Holding{h(1, "a", 0, 3), h(2, "b", 1, 7)},
			volume:   10,
			want:     []dbpm.Holding{h(2, "b", 1, 7), h(1, "a", 0, 3)},
		},
		{
			// d = 7 = 2·3 + 1: 3 each, the extra credit to the larger value.
			name:     "hand out by value descending",
			holdings: []dbpm.Holding{h(1, "a", 0, 2), h(2, "b", 1, 5)},
			volume:   14,
			want:     []dbpm.Holding{h(2, "b", 1, 9), h(1, "a", 0, 5)},
		},
		{
			// Equal values: the extra credit goes to the earliest first bet.
			name:     "tie broken by earliest bet",
			holdings: []dbpm.Holding{h(1, "a", 5, 4), h(2, "b", 3, 4)},
			volume:   9,
			want:     []dbpm.Holding{h(2, "b", 3, 5), h(1, "a", 5, 4)},
		},
		{
			// Equal values and first bets (possible when FirstBet ranks
			// placed_at rather than indexes bets): by username, not UserID.
			name:     "tie broken by username",
			holdings: []dbpm.Holding{h(1, "bob", 0, 5), h(2, "amy", 0, 5)},
			volume:   11,
			want:     []dbpm.Holding{h(2, "amy", 0, 6), h(1, "bob", 0, 5)},
		},
		{
			name:     "last tie broken by UserID",
			holdings: []dbpm.Holding{h(7, "x", 0, 5), h(3, "x", 0, 5)},
			volume:   11,
			want:     []dbpm.Holding{h(3, "x", 0, 6), h(7, "x", 0, 5)},
		},
		{
			// Values 5, 3, 1 sum to 9, volume 4: take back 5.
			// Round 1 takes 1 from each: 4, 2, 0 (2 left). Round 2 skips the
			// one at 0: 3, 1, 0.
			name:     "take back skips users at 0",
			holdings: []dbpm.Holding{h(1, "a", 0, 1), h(2, "b", 1, 3), h(3, "c", 2, 5)},
			volume:   4,
			want:     []dbpm.Holding{h(3, "c", 2, 3), h(2, "b", 1, 1), h(1, "a", 0, 0)},
		},
		{
			// Take back 2 from 4, 4, 4: a partial round, in order.
			name:     "take back partial round",
			holdings: []dbpm.Holding{h(3, "c", 2, 4), h(1, "a", 0, 4), h(2, "b", 1, 4)},
			volume:   10,
			want:     []dbpm.Holding{h(1, "a", 0, 3), h(2, "b", 1, 3), h(3, "c", 2, 4)},
		},
		{
			// Taking back stops when everybody is at 0.
			name:     "take back stops at 0",
			holdings: []dbpm.Holding{h(1, "a", 0, 2), h(2, "b", 1, 1)},
			volume:   -5,
			want:     []dbpm.Holding{h(1, "a", 0, 0), h(2, "b", 1, 0)},
		},
		{
			// Holdings at 0 or below take no part and keep their value.
			name:     "non-positive values untouched",
			holdings: []dbpm.Holding{h(1, "a", 0, 0), h(2, "b", 1, 2), h(3, "c", 2, -1)},
			volume:   5,
			want:     []dbpm.Holding{h(2, "b", 1, 5), h(1, "a", 0, 0), h(3, "c", 2, -1)},
		},
		{
			name:     "nobody above 0",
			holdings: []dbpm.Holding{h(1, "a", 0, 0)},
			volume:   5,
			want:     []dbpm.Holding{h(1, "a", 0, 0)},
		},
		{
			name:     "empty",
			holdings: []dbpm.Holding{},
			volume:   5,
			want:     []dbpm.Holding{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(tt.holdings)
			dbpm.AdjustToVolume(got, tt.volume)
			if diff := gocmp.Diff(got, tt.want); diff != "" {
				t.Errorf("AdjustToVolume mismatch (-got +want):\n%s", diff)
			}
		})
	}
}

// adjustOneByOne is the adjustment as the domain text words it: 1 credit at
// a time, round robin. holdings must already be in adjustment order.
func adjustOneByOne(holdings []dbpm.Holding, volume int64) {
	var sum int64
	var active []int
	for i, h := range holdings {
		if h.Value > 0 {
			sum += h.Value
			active = append(active, i)
		}
	}
	if len(active) == 0 {
		return
	}
	for i := 0; sum < volume; i = (i + 1) % len(active) {
		holdings[active[i]].Value++
		sum++
	}
	for i, skipped := 0, 0; sum > volume && skipped < len(active); i = (i + 1) % len(active) {
		if holdings[active[i]].Value == 0 {
			skipped++
			continue
		}
		skipped = 0
		holdings[active[i]].Value--
		sum--
	}
}

func TestAdjustToVolumeMatchesOneByOne(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 20_000 {
		m := r.IntN(8)
		holdings := make([]dbpm.Holding, m)
		var sum int64
		for i := range holdings {
			holdings[i] = dbpm.Holding{
				UserID:   int64(m - i), // unique, against the other keys' order
				Username: string(rune('a' + r.IntN(3))),
				FirstBet: r.IntN(4),
				Value:    int64(r.IntN(12)) - 1,
			}
			sum += max(holdings[i].Value, 0)
		}
		volume := sum + int64(r.IntN(41)) - 20

		got := slices.Clone(holdings)
		dbpm.AdjustToVolume(got, volume)
		want := slices.Clone(holdings)
		slices.SortFunc(want, func(a, b dbpm.Holding) int {
			return cmp.Or(
				cmp.Compare(b.Value, a.Value), // value descending
				cmp.Compare(a.FirstBet, b.FirstBet),
				strings.Compare(a.Username, b.Username),
				cmp.Compare(a.UserID, b.UserID),
			)
		})
		adjustOneByOne(want, volume)
		if diff := gocmp.Diff(got, want); diff != "" {
			t.Fatalf("AdjustToVolume(volume %d) differs from 1-by-1 round robin (-got +want):\n%s", volume, diff)
		}
	}
}
