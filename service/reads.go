package service

import (
	"context"
	"time"

	"socialpredict/models"
	"socialpredict/repository"
)

// ListByMarket returns a page of a market's bets (see
// repository.BetRepository.ListByMarket); errs.ErrNotFound for an unknown
// market.
func (s *BetService) ListByMarket(ctx context.Context, marketID int64, page repository.PageRequest) (repository.Page[*models.Bet], error) {
	if _, err := s.dal.Markets().GetByID(ctx, marketID); err != nil {
		return repository.Page[*models.Bet]{}, err
	}
	return s.dal.Bets().ListByMarket(ctx, marketID, page)
}

// ListByUser returns a page of a user's bets; errs.ErrNotFound for an
// unknown user.
func (s *BetService) ListByUser(ctx context.Context, userID int64, page repository.PageRequest) (repository.Page[*models.Bet], error) {
	if _, err := s.dal.Users().GetByID(ctx, userID); err != nil {
		return repository.Page[*models.Bet]{}, err
	}
	return s.dal.Bets().ListByUser(ctx, userID, page)
}

// ListByUser returns a page of a user's positions (stakes, by market id),
// without valuation (see Portfolio for that); errs.ErrNotFound for an
// unknown user.
func (s *PositionService) ListByUser(ctx context.Context, userID int64, page repository.PageRequest) (repository.Page[*models.Position], error) {
	if _, err := s.dal.Users().GetByID(ctx, userID); err != nil {
		return repository.Page[*models.Position]{}, err
	}
	return s.dal.Positions().ListByUser(ctx, userID, page)
}

// Ledger returns a page of a user's ledger entries, oldest first by
// default; errs.ErrNotFound for an unknown user.
func (s *UserService) Ledger(ctx context.Context, userID int64, page repository.PageRequest) (repository.Page[*models.LedgerEntry], error) {
	if _, err := s.dal.Users().GetByID(ctx, userID); err != nil {
		return repository.Page[*models.LedgerEntry]{}, err
	}
	return s.dal.Ledger().ListByUser(ctx, userID, page)
}

// ProbabilityPoint is a market's probability from a moment on.
type ProbabilityPoint struct {
	At          time.Time `json:"at"`
	Probability float64   `json:"probability"`
	// BetID is the bet that moved it (0 for the market's creation).
	BetID int64 `json:"bet_id,omitempty"`
}

// ProbabilityHistory returns a page of a market's probability after each
// bet, in bet order; the first page starts with the initial probability at
// the market's creation. errs.ErrNotFound for an unknown market.
func (s *MarketService) ProbabilityHistory(ctx context.Context, marketID int64, page repository.PageRequest) (repository.Page[ProbabilityPoint], error) {
	m, err := s.dal.Markets().GetByID(ctx, marketID)
	if err != nil {
		return repository.Page[ProbabilityPoint]{}, err
	}
	page.Sort, page.Desc = "placed_at", false
	bets, err := s.dal.Bets().ListByMarket(ctx, marketID, page)
	if err != nil {
		return repository.Page[ProbabilityPoint]{}, err
	}
	out := repository.Page[ProbabilityPoint]{NextCursor: bets.NextCursor, Items: make([]ProbabilityPoint, 0, len(bets.Items)+1)}
	if page.Cursor == "" {
		out.Items = append(out.Items, ProbabilityPoint{At: m.CreatedAt, Probability: s.econ.InitialMarketProbability})
	}
	for _, b := range bets.Items {
		out.Items = append(out.Items, ProbabilityPoint{At: b.PlacedAt, Probability: b.ProbabilityAfter, BetID: b.ID})
	}
	return out, nil
}
