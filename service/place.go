package service

import (
	"context"
	"errors"
	"fmt"

	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

// place places the validated bet through the bet repository's Place: one
// statement on PostgreSQL (retried on a deadlock or serialization failure
// when not inside a caller's transaction), an interactive transaction on
// SQLite (and with WithInteractiveBets), and reads its result.
func (s *BetService) place(ctx context.Context, r betRequest) (*models.Bet, error) {
	p := repository.BetPlacement{UserID: r.userID, MarketID: r.marketID, Outcome: r.outcome, Amount: r.amount,
		Key: r.key, Now: r.now, BuyFee: s.econ.BuySharesFee, FirstFee: s.econ.InitialBetFee,
		MaxDebt: s.econ.MaximumDebtAllowed, P0: s.econ.InitialMarketProbability,
		I0: s.econ.InitialMarketSubsidization, Y0: s.econ.InitialMarketYes, N0: s.econ.InitialMarketNo,
		Interactive: s.interactiveBets}
	res, err := s.dal.Bets().Place(ctx, p)
	if err != nil {
		return s.afterConflict(ctx, r, err)
	}
	switch {
	case res.DuplicateID != 0:
		// A repeated key: the interactive path returns the first bet in
		// Bet, the one statement only its id. Either way it is replayed
		// only for the same request.
		b := res.Bet
		if b == nil {
			if b, err = s.dal.Bets().GetByID(ctx, res.DuplicateID); err != nil {
				return nil, err
			}
		}
		return replay(b, r)
	case res.Bet != nil:
		return res.Bet, nil
	case !res.Found:
		return nil, s.missing(ctx, r)
	case res.Status != models.MarketOpen || !res.PlacedAt.Before(res.ClosesAt):
		m := &models.Market{ID: r.marketID, Status: res.Status, ClosesAt: res.ClosesAt}
		return nil, openForBets(m, res.PlacedAt)
	default:
		return nil, fmt.Errorf("%w: user %d", errs.ErrInsufficientCredits, r.userID)
	}
}

// afterConflict returns the bet a concurrent request with the same
// idempotency key placed, when err is the conflict its insert caused; err
// otherwise.
func (s *BetService) afterConflict(ctx context.Context, r betRequest, err error) (*models.Bet, error) {
	if errors.Is(err, errs.ErrConflict) && r.key != "" {
		if b, getErr := s.dal.Bets().GetByIdempotencyKey(ctx, r.userID, r.key); getErr == nil {
			return replay(b, r)
		}
	}
	return nil, err
}

// missing returns ErrNotFound naming whichever of the user and the market
// does not exist.
func (s *BetService) missing(ctx context.Context, r betRequest) error {
	if _, err := s.dal.Users().GetByID(ctx, r.userID); err != nil {
		return err
	}
	_, err := s.dal.Markets().GetByID(ctx, r.marketID)
	return err
}

// replay returns b, the bet first placed with r's idempotency key, when r
// asks for the same bet (market, outcome and amount), and
// errs.ErrIdempotencyKeyReused otherwise.
func replay(b *models.Bet, r betRequest) (*models.Bet, error) {
	if b.MarketID != r.marketID || b.Outcome != r.outcome || b.Amount != r.amount {
		return nil, fmt.Errorf("%w: key %q placed bet %d (market %d, %s, %d credits)",
			errs.ErrIdempotencyKeyReused, r.key, b.ID, b.MarketID, b.Outcome, b.Amount)
	}
	return b, nil
}
