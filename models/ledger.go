package models

import "time"

// LedgerKind says why a balance changed.
type LedgerKind string

// The ledger kinds.
const (
	// LedgerBet is the stake of a bet (negative).
	LedgerBet LedgerKind = "BET"
	// LedgerBetFee is the fee of a bet (negative).
	LedgerBetFee LedgerKind = "BET_FEE"
	// LedgerMarketCreation is the cost of creating a market (negative).
	LedgerMarketCreation LedgerKind = "MARKET_CREATION"
	// LedgerPayout is a resolution payout (positive), at most one per user and market.
	LedgerPayout LedgerKind = "PAYOUT"
	// LedgerRefund returns stakes of an N/A market (positive).
	LedgerRefund LedgerKind = "REFUND"
	// LedgerCreatorReward rewards a market's creator at resolution (positive).
	LedgerCreatorReward LedgerKind = "CREATOR_REWARD"
	// LedgerAdjustment is an administrator's correction (either sign).
	LedgerAdjustment LedgerKind = "ADJUSTMENT"
)

// LedgerEntry is one append-only record of a balance change: for every
// user, balance = initial_balance + sum(amount).
type LedgerEntry struct {
	ID     int64 `gorm:"primaryKey"`
	UserID int64
	// MarketID is set for every kind but ADJUSTMENT; BetID for bet rows.
	MarketID *int64
	BetID    *int64
	Kind     LedgerKind
	// Amount is signed and never zero.
	Amount int64
	// BalanceAfter is the user's balance right after this change.
	BalanceAfter int64
	CreatedAt    time.Time
}

// TableName is the ledger_entries table.
func (LedgerEntry) TableName() string { return "ledger_entries" }
