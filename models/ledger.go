package models

import "time"

// LedgerKind says why a balance changed.
type LedgerKind string

// The ledger kinds.
const (
	// LedgerBet is a bet's debit (negative): its stake and its fee, the fee
	// part also in Fee. Rows written before migration 007 hold the stake
	// only (Fee 0), the fee being a LedgerBetFee row of its own.
	LedgerBet LedgerKind = "BET"
	// LedgerBetFee is the fee of a bet (negative), a row of its own: written
	// only before migration 007 (one ledger row per bet); still valid.
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
	// Fee is the part of a BET row's debit that is fees (never negative;
	// the stake is -Amount - Fee); 0 on every other row, and on BET rows
	// whose fee is a BET_FEE row of its own (written before migration 007).
	Fee int64
	// BalanceAfter is the user's balance right after this change.
	BalanceAfter int64
	CreatedAt    time.Time
}

// TableName is the ledger_entries table.
func (LedgerEntry) TableName() string { return "ledger_entries" }
