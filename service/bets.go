package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/service/wpam"
)

// BetService places bets.
type BetService struct{ *base }

// maxIdempotencyKey is the longest idempotency key accepted, in characters
// as the schema counts them: a UUID takes 36, and any key of up to 100 bytes
// fits.
const maxIdempotencyKey = 100

// PlaceBet buys amount credits of outcome in a market for a user, as the
// domain rules say, in one transaction: the market must be open (checked
// inside the transaction); the user pays amount + buy_shares_fee, plus
// initial_bet_fee on their first bet in the market, by a guarded delta
// update that keeps the balance at or above -maximum_debt_allowed; the bet is
// stored with the market's probability right after it; the market's
// aggregates and the user's position are updated and the ledger written.
//
// A non-empty idempotencyKey makes the call idempotent per user: a repeated
// key returns the bet first placed with it and charges nothing.
//
// Errors: *errs.InputError (matching errs.ErrInvalidInput) for a bad
// outcome, amount or key; errs.ErrNotFound for an unknown user or
// market; errs.ErrMarketClosed; errs.ErrInsufficientCredits. Nothing is
// written when it fails. On PostgreSQL the whole bet is one statement.
func (s *BetService) PlaceBet(ctx context.Context, userID, marketID int64, outcome models.Outcome, amount int64, idempotencyKey string) (*models.Bet, error) {
	if outcome != models.OutcomeYes && outcome != models.OutcomeNo {
		return nil, invalid("outcome", "must be YES or NO, got %q", outcome)
	}
	if amount < s.econ.MinimumBet || amount > models.MaxAmount {
		return nil, invalid("amount", "must be a whole number of %d to %d credits, got %d", s.econ.MinimumBet, models.MaxAmount, amount)
	}
	if err := checkText("idempotency_key", idempotencyKey); err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(idempotencyKey); n > maxIdempotencyKey {
		return nil, invalid("idempotency_key", "must be at most %d characters (Unicode code points), got %d", maxIdempotencyKey, n)
	}
	req := betRequest{userID: userID, marketID: marketID, outcome: outcome, amount: amount, key: idempotencyKey, now: s.clock()}
	if s.dal.Driver() == database.DriverPostgres && !s.interactiveBets {
		return s.placeOneStatement(ctx, req)
	}
	return s.placeInTransaction(ctx, req)
}

// betRequest is a validated bet.
type betRequest struct {
	userID, marketID int64
	outcome          models.Outcome
	amount           int64
	key              string
	now              time.Time
}

// stakes returns the YES and NO parts of the amount.
func (r betRequest) stakes() (yes, no int64) {
	if r.outcome == models.OutcomeYes {
		return r.amount, 0
	}
	return 0, r.amount
}

// keyPtr returns the idempotency key as stored (NULL when empty).
func (r betRequest) keyPtr() *string {
	if r.key == "" {
		return nil
	}
	return &r.key
}

// placeInTransaction places the bet through the repositories, in one
// interactive transaction: the portable path (SQLite's, where round trips
// are function calls).
func (s *BetService) placeInTransaction(ctx context.Context, r betRequest) (*models.Bet, error) {
	var placed *models.Bet
	err := s.dal.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
		// Locked first: concurrent bets on the market (and its resolution)
		// wait here, so that what is read below is current.
		m, err := tx.Markets().GetForUpdate(ctx, r.marketID)
		if err != nil {
			return err
		}
		if r.key != "" {
			b, err := tx.Bets().GetByIdempotencyKey(ctx, r.userID, r.key)
			if err == nil {
				placed = b
				return nil
			}
			if !errors.Is(err, errs.ErrNotFound) {
				return err
			}
		}
		// The bet's time never precedes the market's latest bet, so that
		// (placed_at, id) follows the order of the market lock.
		if r.now, err = afterLastBet(ctx, tx, r.marketID, r.now); err != nil {
			return err
		}
		if err := openForBets(m, r.now); err != nil {
			return err
		}
		fee := s.econ.BuySharesFee
		if _, err := tx.Positions().Get(ctx, r.userID, r.marketID); errors.Is(err, errs.ErrNotFound) {
			fee += s.econ.InitialBetFee
		} else if err != nil {
			return err
		}
		balance, err := tx.Users().AddToBalance(ctx, r.userID, -(r.amount + fee), -s.econ.MaximumDebtAllowed)
		if err != nil {
			return err
		}
		yes, no := r.stakes()
		p := wpam.Probability(s.seeds(), m.YesStake+yes, m.NoStake+no)
		if err := tx.Markets().AddBet(ctx, r.marketID, r.outcome, r.amount, p); err != nil {
			return err
		}
		bet := &models.Bet{UserID: r.userID, MarketID: r.marketID, Outcome: r.outcome, Amount: r.amount, Fee: fee,
			ProbabilityAfter: p, PlacedAt: r.now, IdempotencyKey: r.keyPtr()}
		if err := tx.Bets().Create(ctx, bet); err != nil {
			return err
		}
		if _, err := tx.Positions().AddStake(ctx, r.userID, r.marketID, r.outcome, r.amount, r.now); err != nil {
			return err
		}
		if err := tx.Ledger().Append(ctx, betLedger(bet, balance)...); err != nil {
			return err
		}
		placed = bet
		return nil
	})
	if err != nil {
		return s.afterConflict(ctx, r, err)
	}
	return placed, nil
}

// afterLastBet returns now, or the time of the market's latest bet when that
// is later: called with the market locked, it makes the times of bets and of
// the resolution follow the order in which they took the lock.
func afterLastBet(ctx context.Context, d *dal.DataAccessLayer, marketID int64, now time.Time) (time.Time, error) {
	last, err := d.Bets().LastPlacedAt(ctx, marketID)
	if err != nil {
		return time.Time{}, err
	}
	if last.After(now) {
		return last, nil
	}
	return now, nil
}

// betLedger returns the ledger rows of a bet: its stake and, if any, its
// fee; balance is the balance after both.
func betLedger(b *models.Bet, balance int64) []*models.LedgerEntry {
	market, bet := b.MarketID, b.ID
	rows := []*models.LedgerEntry{{UserID: b.UserID, MarketID: &market, BetID: &bet, Kind: models.LedgerBet,
		Amount: -b.Amount, BalanceAfter: balance + b.Fee, CreatedAt: b.PlacedAt}}
	if b.Fee > 0 {
		rows = append(rows, &models.LedgerEntry{UserID: b.UserID, MarketID: &market, BetID: &bet, Kind: models.LedgerBetFee,
			Amount: -b.Fee, BalanceAfter: balance, CreatedAt: b.PlacedAt})
	}
	return rows
}

// openForBets returns errs.ErrMarketClosed unless m takes bets at now.
func openForBets(m *models.Market, now time.Time) error {
	switch {
	case m.Status != models.MarketOpen:
		return fmt.Errorf("%w: market %d is %s", errs.ErrMarketClosed, m.ID, strings.ToLower(string(m.Status)))
	case !now.Before(m.ClosesAt):
		return fmt.Errorf("%w: market %d closed at %s", errs.ErrMarketClosed, m.ID, m.ClosesAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// ParseAmount reads a bet amount as people and JSON write it: a whole
// number of credits. "1.5", "-3", "1e3" and "" are *errs.InputError naming field.
func ParseAmount(field, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, invalid(field, "must be a whole number of credits, got %q", s)
	}
	if n <= 0 {
		return 0, invalid(field, "must be positive, got %d", n)
	}
	return n, nil
}
