package wpam_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"socialpredict/models/wpam"
)

func TestDefaultSeeds(t *testing.T) {
	got := wpam.DefaultSeeds()
	want := wpam.Seeds{P0: 0.5, I0: 10, Y0: 0, N0: 0}
	if got != want {
		t.Errorf("DefaultSeeds() = %+v, want %+v", got, want)
	}
}

func TestProbability(t *testing.T) {
	def := wpam.DefaultSeeds()
	tests := []struct {
		name    string
		seeds   wpam.Seeds
		yes, no int64
		want    float64
	}{
		// The domain's checks.
		{name: "no bets", seeds: def, want: 0.5},                            // (5+0)/(10+0+0)
		{name: "one NO bet of 20", seeds: def, no: 20, want: 5.0 / 30},      // (5+0)/(10+0+20)
		{name: "one YES bet of 10", seeds: def, yes: 10, want: 0.75},        // (5+10)/(10+10+0) = 15/20
		{name: "YES 10 then NO 10", seeds: def, yes: 10, no: 10, want: 0.5}, // 15/30
		// Other seeds.
		{name: "P0 0.2 I0 20 no bets", seeds: wpam.Seeds{P0: 0.2, I0: 20}, want: 0.2},                                    // 4/20
		{name: "P0 0.2 I0 20 YES 4", seeds: wpam.Seeds{P0: 0.2, I0: 20}, yes: 4, want: 1.0 / 3},                          // (4+4)/(20+4) = 8/24
		{name: "seed stakes", seeds: wpam.Seeds{P0: 0.5, I0: 10, Y0: 5, N0: 15}, want: 1.0 / 3},                          // (5+5)/(10+5+15) = 10/30
		{name: "seed stakes and bets", seeds: wpam.Seeds{P0: 0.5, I0: 10, Y0: 5, N0: 15}, yes: 10, no: 5, want: 4.0 / 9}, // Y=5+10, N=15+5: (5+15)/(10+15+20) = 20/45
		{name: "no subsidy YES only", seeds: wpam.Seeds{P0: 0.5}, yes: 7, want: 1},                                       // (0+7)/(0+7+0)
		{name: "no subsidy NO only", seeds: wpam.Seeds{P0: 0.5}, no: 7, want: 0},                                         // (0+0)/(0+0+7)
		{name: "P0 1 keeps 1", seeds: wpam.Seeds{P0: 1, I0: 10}, yes: 3, want: 1},                                        // (10+3)/(10+3)
		// Undefined quotient: I0 + Y + N == 0 returns P0.
		{name: "all zero returns P0", seeds: wpam.Seeds{P0: 0.3}, want: 0.3},
		{name: "negative total returns P0", seeds: wpam.Seeds{P0: 0.3, I0: 1}, no: -2, want: 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wpam.Probability(tt.seeds, tt.yes, tt.no)
			if math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Probability(%+v, %d, %d) = %v, want %v", tt.seeds, tt.yes, tt.no, got, tt.want)
			}
		})
	}
}

// validSeeds draws seeds that pass the configuration's validation.
func validSeeds(r *rand.Rand) wpam.Seeds {
	return wpam.Seeds{P0: r.Float64(), I0: r.Int64N(1000), Y0: r.Int64N(1000), N0: r.Int64N(1000)}
}

func TestProbabilityInUnitInterval(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	extremes := []int64{0, 1, 1 << 40, 1 << 53, 1<<62 - 1}
	for i := range 100_000 {
		s := validSeeds(r)
		yes, no := r.Int64N(1_000_000), r.Int64N(1_000_000)
		if i%10 == 0 {
			s.P0 = float64(r.IntN(2)) // exactly 0 or 1
			yes, no = extremes[r.IntN(len(extremes))], extremes[r.IntN(len(extremes))]
		}
		if got := wpam.Probability(s, yes, no); !(got >= 0 && got <= 1) {
			t.Fatalf("Probability(%+v, %d, %d) = %v, want a value in [0, 1]", s, yes, no, got)
		}
	}
}

func FuzzProbability(f *testing.F) {
	f.Add(0.5, int64(10), int64(0), int64(0), int64(0), int64(0))
	f.Add(1.0, int64(0), int64(0), int64(0), int64(1), int64(0))
	f.Add(0.0, int64(0), int64(0), int64(0), int64(0), int64(1<<62))
	f.Fuzz(func(t *testing.T, p0 float64, i0, y0, n0, yes, no int64) {
		s := wpam.Seeds{P0: p0, I0: i0, Y0: y0, N0: n0}
		got := wpam.Probability(s, yes, no)
		valid := p0 >= 0 && p0 <= 1 && i0 >= 0 && y0 >= 0 && n0 >= 0 && yes >= 0 && no >= 0
		if valid && !(got >= 0 && got <= 1) {
			t.Errorf("Probability(%+v, %d, %d) = %v, want a value in [0, 1]", s, yes, no, got)
		}
	})
}
