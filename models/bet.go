package models

import "time"

// Outcome is the side of a bet: YES or NO.
type Outcome string

// The outcomes.
const (
	// OutcomeYes bets that the answer is yes.
	OutcomeYes Outcome = "YES"
	// OutcomeNo bets that the answer is no.
	OutcomeNo Outcome = "NO"
)

// Bet is one purchase of shares. Bets of a market are totally ordered by
// (PlacedAt, ID).
type Bet struct {
	ID       int64 `gorm:"primaryKey"`
	UserID   int64
	MarketID int64
	Outcome  Outcome
	// Amount is the stake in credits (> 0); Fee is what was charged on top.
	Amount int64
	Fee    int64
	// ProbabilityAfter is the market's probability right after this bet.
	ProbabilityAfter float64
	PlacedAt         time.Time
	// IdempotencyKey, when the client sent one, is unique per user: the same
	// key never places a second bet.
	IdempotencyKey *string
}

// TableName is the bets table.
func (Bet) TableName() string { return "bets" }

// Position aggregates one user's bets in one market.
type Position struct {
	UserID     int64 `gorm:"primaryKey"`
	MarketID   int64 `gorm:"primaryKey"`
	YesStake   int64
	NoStake    int64
	BetCount   int64
	FirstBetAt time.Time
	UpdatedAt  time.Time
}

// TableName is the positions table.
func (Position) TableName() string { return "positions" }
