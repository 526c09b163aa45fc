package service

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"socialpredict/errs"
	"socialpredict/models"
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
	return s.place(ctx, betRequest{userID: userID, marketID: marketID, outcome: outcome, amount: amount,
		key: idempotencyKey, now: s.clock()})
}

// betRequest is a validated bet.
type betRequest struct {
	userID, marketID int64
	outcome          models.Outcome
	amount           int64
	key              string
	now              time.Time
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
