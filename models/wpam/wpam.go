package wpam

// Seeds are the configured market seeds (the economics section of the
// configuration). Valid seeds have P0 in [0, 1] and I0, Y0, N0 >= 0 (the
// configuration's validation enforces this); Probability does not check them.
type Seeds struct {
	// P0 is initial_market_probability: the probability of a market with no
	// bets and no seed stakes (default 0.5).
	P0 float64
	// I0 is initial_market_subsidization: virtual credits that damp the
	// effect of the first bets (credits, default 10).
	I0 int64
	// Y0 is initial_market_yes: the virtual YES stake of a new market
	// (credits, default 0).
	Y0 int64
	// N0 is initial_market_no: the virtual NO stake of a new market
	// (credits, default 0).
	N0 int64
}

// DefaultSeeds returns the domain defaults: P0 = 0.5, I0 = 10, Y0 = N0 = 0.
func DefaultSeeds() Seeds {
	return Seeds{P0: 0.5, I0: 10}
}

// Probability returns P = (P0·I0 + Y) / (I0 + Y + N), where Y = Y0 + yesStake
// and N = N0 + noStake are the cumulative stakes with the seeds included.
// It has no error: if I0 + Y + N is not positive (no subsidy and no stake at
// all, or negative inputs), it returns P0. For valid seeds and non-negative
// stakes the result lies in [0, 1], rounding included.
func Probability(s Seeds, yesStake, noStake int64) float64 {
	// Sums in float64: exact below 2^53 credits and free of int64 overflow.
	y := float64(s.Y0) + float64(yesStake)
	n := float64(s.N0) + float64(noStake)
	i := float64(s.I0)
	den := i + y + n
	if !(den > 0) {
		return s.P0
	}
	// For 0 <= P0 <= 1, fl(P0·I0 + Y) <= fl(I0 + Y) <= fl(I0 + Y + N) because
	// rounding is monotone, so the quotient never exceeds 1.
	return (s.P0*i + y) / den
}
