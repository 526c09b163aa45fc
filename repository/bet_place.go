package repository

import (
	"context"
	"errors"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/models/wpam"
)

// Place places a bet as the domain rules say, in one transaction (in a
// savepoint of the one ctx or the repository is bound to, or its own): on
// PostgreSQL in one statement (PlaceStatement) unless p.Interactive, and
// otherwise as an interactive transaction (placeInteractive), the portable
// path. The result reads the same on both: a placed or repeated bet, or the
// market state that refused it. On PostgreSQL outside a transaction, with
// database.group_commit enabled, the bet goes through the database's group
// commit (placeGrouped): alone when the database is not busy, else in one
// call of place_bets with the bets that waited with it. A repeated idempotency key returns the bet
// first placed with it, also when that bet was committed concurrently by
// another transaction while this one ran (then the interactive path's
// insert fails on the key, its transaction or savepoint rolls back, and the
// original bet is read back), and also inside a caller's transaction, which
// stays usable.
//
// Errors: errs.ErrNotFound for an unknown user or market on the interactive
// path (the one statement reports !Found instead),
// errs.ErrInsufficientCredits from the interactive path's guarded debit,
// errs.ErrConflict for a repeated idempotency key whose original bet cannot
// be read back, and translated driver errors.
func (r *betRepository) Place(ctx context.Context, p BetPlacement) (*Placement, error) {
	var (
		out *Placement
		err error
	)
	switch {
	case r.db.Driver() != database.DriverPostgres || p.Interactive:
		out, err = r.placeInTransaction(ctx, p)
	case r.db.Config().GroupCommit.Enabled && !r.db.InTransaction(ctx):
		out, err = r.placeGrouped(ctx, p)
	default:
		out, err = r.PlaceStatement(ctx, p)
	}
	if err != nil && p.Key != "" && errors.Is(err, errs.ErrConflict) {
		if b, getErr := r.GetByIdempotencyKey(ctx, p.UserID, p.Key); getErr == nil {
			return &Placement{Bet: b, DuplicateID: b.ID, Found: true}, nil
		}
	}
	return out, err
}

// placeInTransaction places p with placeInteractive in a transaction of its
// own, or in a savepoint of the one ctx or the repository is bound to.
func (r *betRepository) placeInTransaction(ctx context.Context, p BetPlacement) (out *Placement, err error) {
	err = r.db.Transactions().Transact(r.db.Context(ctx), func(ctx context.Context) (err error) {
		out, err = r.placeInteractive(ctx, p)
		return err
	})
	return out, err
}

// placeInteractive is the bet as one statement after another, in the
// transaction ctx carries: lock the market, look up the idempotency key,
// date the bet after the market's latest one, gate on the market's state,
// debit the user (guarded), then the market's aggregates and probability,
// the bet, the position and the bet's ledger row.
func (r *betRepository) placeInteractive(ctx context.Context, p BetPlacement) (*Placement, error) {
	markets, users := NewMarketRepository(r.db), NewUserRepository(r.db)
	positions, ledger := NewPositionRepository(r.db), NewLedgerRepository(r.db)
	// Locked first: concurrent bets on the market (and its resolution) wait
	// here, so that what is read below is current.
	m, err := markets.GetForUpdate(ctx, p.MarketID)
	if err != nil {
		return nil, err
	}
	if p.Key != "" {
		b, err := r.GetByIdempotencyKey(ctx, p.UserID, p.Key)
		if err == nil {
			return &Placement{Bet: b, DuplicateID: b.ID, Found: true}, nil
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return nil, err
		}
	}
	// The bet's time never precedes the market's latest bet, so that
	// (placed_at, id) follows the order of the market lock.
	at := p.Now.UTC()
	last, err := r.LastPlacedAt(ctx, p.MarketID)
	if err != nil {
		return nil, err
	}
	if last.After(at) {
		at = last
	}
	refused := &Placement{Found: true, Status: m.Status, ClosesAt: m.ClosesAt.UTC(), PlacedAt: at}
	if m.Status != models.MarketOpen || !at.Before(m.ClosesAt) {
		return refused, nil
	}
	fee := p.BuyFee
	if _, err := positions.Get(ctx, p.UserID, p.MarketID); errors.Is(err, errs.ErrNotFound) {
		fee += p.FirstFee
	} else if err != nil {
		return nil, err
	}
	balance, err := users.AddToBalance(ctx, p.UserID, -(p.Amount + fee), -p.MaxDebt)
	if err != nil {
		return nil, err
	}
	yes, no := p.stakes()
	prob := wpam.Probability(p.seeds(), m.YesStake+yes, m.NoStake+no)
	if err := markets.AddBet(ctx, p.MarketID, p.Outcome, p.Amount, prob); err != nil {
		return nil, err
	}
	bet := &models.Bet{UserID: p.UserID, MarketID: p.MarketID, Outcome: p.Outcome, Amount: p.Amount, Fee: fee,
		ProbabilityAfter: prob, PlacedAt: at, IdempotencyKey: p.keyPtr()}
	if err := r.Create(ctx, bet); err != nil {
		return nil, err
	}
	if _, err := positions.AddStake(ctx, p.UserID, p.MarketID, p.Outcome, p.Amount, at); err != nil {
		return nil, err
	}
	if err := ledger.Append(ctx, betLedger(bet, balance)); err != nil {
		return nil, err
	}
	refused.Bet = bet
	return refused, nil
}

// betLedger returns the ledger row of a bet: one row for its debit, kind
// BET, the stake and the fee together in the amount and the fee also in Fee;
// balance is the balance after it (place_bet, migration 007, writes the same
// row).
func betLedger(b *models.Bet, balance int64) *models.LedgerEntry {
	market, bet := b.MarketID, b.ID
	return &models.LedgerEntry{UserID: b.UserID, MarketID: &market, BetID: &bet, Kind: models.LedgerBet,
		Amount: -(b.Amount + b.Fee), Fee: b.Fee, BalanceAfter: balance, CreatedAt: b.PlacedAt}
}

// stakes returns the YES and NO parts of the amount.
func (p BetPlacement) stakes() (yes, no int64) {
	if p.Outcome == models.OutcomeYes {
		return p.Amount, 0
	}
	return 0, p.Amount
}

// keyPtr returns the idempotency key as stored (nil when empty).
func (p BetPlacement) keyPtr() *string {
	if p.Key == "" {
		return nil
	}
	return &p.Key
}

// seeds returns the WPAM seeds of the placement.
func (p BetPlacement) seeds() wpam.Seeds {
	return wpam.Seeds{P0: p.P0, I0: p.I0, Y0: p.Y0, N0: p.N0}
}
