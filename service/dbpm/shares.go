package dbpm

import (
	"fmt"
	"math"
)

// UserShares is one user's position after steps 1–5: net shares, so at most
// one of Yes and No is non-zero.
type UserShares struct {
	// Yes is the number of net YES shares.
	Yes int64
	// No is the number of net NO shares.
	No int64
	// FirstBet is the index, in the bets given, of the user's first bet.
	FirstBet int
	// Username is the username of the user's first bet.
	Username string
}

// Value returns the value of the shares when YES is worth p and NO 1−p,
// rounded half away from zero: round(Yes·p + No·(1−p)). Use p = 1 for a YES
// resolution, 0 for NO, and the current probability for an open market.
// It has no error; p is expected in [0, 1].
func (s UserShares) Value(p float64) int64 {
	return int64(math.Round(float64(s.Yes)*p + float64(s.No)*(1-p)))
}

// Shares returns each user's net shares, keyed by user ID, after steps 1–5
// for bets given in (placed_at, id) order and the final probability
// finalProbability (R). It returns an error matching ErrInvalidProbability
// if R is outside [0, 1], or ErrInvalidBet for an invalid bet (see Bet) or a
// volume above MaxVolume. With no bets it returns an empty map.
func Shares(bets []Bet, finalProbability float64) (map[int64]UserShares, error) {
	users, _, err := netShares(bets, finalProbability)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]UserShares, len(users))
	for _, u := range users {
		m[u.id] = u.UserShares
	}
	return m, nil
}

// user is a bettor's shares while steps 1–5 run, in first-bet order.
type user struct {
	id int64
	UserShares
}

// netShares runs steps 1–5 and returns the users in first-bet order and the
// volume S.
func netShares(bets []Bet, r float64) ([]user, int64, error) {
	if !(r >= 0 && r <= 1) {
		return nil, 0, fmt.Errorf("%w: %v is outside [0, 1]", ErrInvalidProbability, r)
	}
	var (
		users   []user
		index   = make(map[int64]int32)
		owner   = make([]int32, len(bets)) // owner[i] indexes users for bet i
		volume  int64
		stake   [2]int64   // total stake per side (0 YES, 1 NO)
		sumC    [2]float64 // Σ C_i per side
		outcome int
	)
	for i, b := range bets {
		switch b.Outcome {
		case Yes:
			outcome = 0
		case No:
			outcome = 1
		default:
			return nil, 0, fmt.Errorf("%w: bet %d: unknown outcome %q", ErrInvalidBet, i, b.Outcome)
		}
		if b.Amount <= 0 {
			return nil, 0, fmt.Errorf("%w: bet %d: amount %d is not positive", ErrInvalidBet, i, b.Amount)
		}
		if p := b.ProbabilityAfter; !(p >= 0 && p <= 1) {
			return nil, 0, fmt.Errorf("%w: bet %d: probability %v is outside [0, 1]", ErrInvalidBet, i, p)
		}
		if b.Amount > MaxVolume-volume {
			return nil, 0, fmt.Errorf("%w: bet %d: the volume exceeds %d", ErrInvalidBet, i, int64(MaxVolume))
		}
		volume += b.Amount
		stake[outcome] += b.Amount
		sumC[outcome] += course(b, r) // step 2
		u, ok := index[b.UserID]
		if !ok {
			u = int32(len(users))
			index[b.UserID] = u
			users = append(users, user{id: b.UserID, UserShares: UserShares{FirstBet: i, Username: b.Username}})
		}
		owner[i] = u
	}
	if len(bets) == 0 {
		return users, 0, nil
	}

	// Steps 1 and 3: pools and normalisation factors.
	yes, no := pools(volume, stake[0], stake[1], r)
	sides := [2]side{newSide(yes, sumC[0]), newSide(no, sumC[1])}
	scaled := make([]int64, len(bets))
	var total int64
	for i, b := range bets {
		if b.Outcome == Yes {
			scaled[i] = sides[0].scale(course(b, r))
		} else {
			scaled[i] = sides[1].scale(course(b, r))
		}
		total += scaled[i]
	}

	// Step 4: the excess of the scaled payouts over the volume, spread over
	// all bets, the remainder taken from the newest or given to the oldest.
	excess := total - volume
	n := int64(len(bets))
	q, rem := excess/n, excess%n // truncated: rem has the sign of excess
	for i, b := range bets {
		pay := scaled[i] - q
		switch {
		case excess > 0 && int64(i) >= n-rem:
			pay--
		case excess < 0 && int64(i) < -rem:
			pay++
		}
		// Step 5, first half: sums per user and side.
		if b.Outcome == Yes {
			users[owner[i]].Yes += pay
		} else {
			users[owner[i]].No += pay
		}
	}

	// Step 5, second half: clamp negative sums to 0, then net.
	for i := range users {
		u := &users[i].UserShares
		y, o := max(u.Yes, 0), max(u.No, 0)
		u.Yes, u.No = max(y-o, 0), max(o-y, 0)
	}
	return users, volume, nil
}

// course is the course payout of step 2: C_i = |R − p_i| · amount_i.
func course(b Bet, r float64) float64 {
	return math.Abs(r-b.ProbabilityAfter) * float64(b.Amount)
}

// pools returns the pools of step 1: S_yes = round(S·R), S_no =
// round(S·(1−R)); when S == 1 the one share goes to the side with the larger
// total stake, to neither if the stakes are equal.
func pools(volume, yesStake, noStake int64, r float64) (yes, no int64) {
	if volume == 1 {
		switch {
		case yesStake > noStake:
			return 1, 0
		case noStake > yesStake:
			return 0, 1
		}
		return 0, 0
	}
	s := float64(volume)
	return int64(math.Round(s * r)), int64(math.Round(s * (1 - r)))
}

// side holds the normalisation of step 3 for one side.
type side struct {
	pool   int64   // S_side
	sumC   float64 // Σ C_i of the side's bets
	factor float64 // F_side = S_side / Σ C_i, 0 when Σ C_i is 0
}

func newSide(pool int64, sumC float64) side {
	s := side{pool: pool, sumC: sumC}
	if sumC > 0 {
		s.factor = float64(pool) / sumC
	}
	return s
}

// scale returns the scaled payout round(C_i · F_side) of a course payout c.
func (s side) scale(c float64) int64 {
	if math.IsInf(s.factor, 0) {
		// Σ C_i is so small (subnormal) that F overflows: C_i/ΣC_i ≤ 1
		// keeps the same quantity finite.
		return int64(math.Round(c / s.sumC * float64(s.pool)))
	}
	return int64(math.Round(c * s.factor))
}
