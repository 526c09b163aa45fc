package models

import "time"

// MarketStatus is where a market is in its life.
type MarketStatus string

// The market statuses. A market past its ClosesAt is closed for betting
// whatever its status says; CLOSED records an explicit early close.
const (
	// MarketOpen takes bets until ClosesAt.
	MarketOpen MarketStatus = "OPEN"
	// MarketClosed takes no bets and awaits resolution.
	MarketClosed MarketStatus = "CLOSED"
	// MarketResolved has a result and has paid out.
	MarketResolved MarketStatus = "RESOLVED"
)

// Resolution is the result of a resolved market.
type Resolution string

// The results.
const (
	// ResolutionYes pays the YES side.
	ResolutionYes Resolution = "YES"
	// ResolutionNo pays the NO side.
	ResolutionNo Resolution = "NO"
	// ResolutionNA refunds every stake.
	ResolutionNA Resolution = "N/A"
)

// Market is a binary question. Its aggregates (stakes, volume, bet count,
// probability) are updated in the same transaction as each bet.
type Market struct {
	ID            int64 `gorm:"primaryKey"`
	CreatorID     int64
	QuestionTitle string
	Description   string
	YesLabel      string
	NoLabel       string
	ClosesAt      time.Time
	Status        MarketStatus
	// ResolutionResult and ResolvedAt are set exactly when Status is RESOLVED.
	ResolutionResult *Resolution
	ResolvedAt       *time.Time
	// YesStake and NoStake are the sums of the bets on each side; Volume is
	// their sum.
	YesStake int64
	NoStake  int64
	Volume   int64
	BetCount int64
	// Probability is the current WPAM probability of YES.
	Probability float64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName is the markets table.
func (Market) TableName() string { return "markets" }
