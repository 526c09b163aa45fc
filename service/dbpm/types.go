package dbpm

// Outcome is the side of a bet or the result of a market: Yes or No.
type Outcome string

const (
	// Yes is the YES side of a bet or a YES resolution.
	Yes Outcome = "YES"
	// No is the NO side of a bet or a NO resolution.
	No Outcome = "NO"
)

// MaxVolume is the largest total volume (sum of bet amounts) that Resolve
// and Shares accept: 2^53, up to which float64 represents every integer
// exactly, so the pools S·R and S·(1−R) are computed without loss.
const MaxVolume = 1 << 53

// Bet is one bet of the market. Resolve and Shares take the bets of one
// market in (placed_at, id) order: the order decides which bets absorb the
// rounding remainder (step 4) and breaks ties between users (step 6).
type Bet struct {
	// UserID identifies the bettor.
	UserID int64
	// Username is the bettor's username; it breaks the last ties of step 6.
	// The username of a user's first bet is the one used.
	Username string
	// Outcome is the side bet on: Yes or No.
	Outcome Outcome
	// Amount is the stake in credits; it must be positive.
	Amount int64
	// ProbabilityAfter is the market probability right after the bet (p_i),
	// in [0, 1].
	ProbabilityAfter float64
}

// Payout is what one user receives at resolution, in credits.
type Payout struct {
	// UserID identifies the user paid.
	UserID int64
	// Amount is the payout in credits; Resolve never returns one <= 0.
	Amount int64
}
