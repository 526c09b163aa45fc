package service

import (
	"context"
	"time"

	"socialpredict/models"
	"socialpredict/service/dbpm"
)

// PositionService values users' positions.
type PositionService struct{ *base }

// Position is one user's stake and shares in one market.
type Position struct {
	UserID     int64     `json:"user_id"`
	Username   string    `json:"username"`
	MarketID   int64     `json:"market_id"`
	YesStake   int64     `json:"yes_stake"`
	NoStake    int64     `json:"no_stake"`
	BetCount   int64     `json:"bet_count"`
	FirstBetAt time.Time `json:"first_bet_at"`
	// YesShares and NoShares are the net DBPM shares (at most one is
	// non-zero), computed with the market's current probability, or its
	// final one once resolved.
	YesShares int64 `json:"yes_shares"`
	NoShares  int64 `json:"no_shares"`
	// Value is what the shares are worth: shares × P for YES and × (1−P) for
	// NO while the market is open; 1 per winning share once resolved YES or
	// NO (before the final adjustment of the payouts).
	Value int64 `json:"value"`
}

// MarketPositions returns every bettor's position in a market, ordered by
// first bet, with two queries (the market, and its bets streamed once)
// whatever the number of bets or users. errs.ErrNotFound for an
// unknown market.
func (s *PositionService) MarketPositions(ctx context.Context, marketID int64) ([]Position, error) {
	m, err := s.dal.Markets().GetByID(ctx, marketID)
	if err != nil {
		return nil, err
	}
	all, err := s.positions(ctx, []*models.Market{m})
	if err != nil {
		return nil, err
	}
	return all[marketID], nil
}

// Portfolio returns a user's positions in every market they bet on, with
// three queries (the user's markets, their bets streamed once, and the
// user) whatever the number of markets or bets. errs.ErrNotFound for
// an unknown user.
func (s *PositionService) Portfolio(ctx context.Context, userID int64) ([]Position, error) {
	if _, err := s.dal.Users().GetByID(ctx, userID); err != nil {
		return nil, err
	}
	markets, err := s.dal.Markets().ListByBettor(ctx, userID)
	if err != nil {
		return nil, err
	}
	all, err := s.positions(ctx, markets)
	if err != nil {
		return nil, err
	}
	var out []Position
	for _, m := range markets {
		for _, p := range all[m.ID] {
			if p.UserID == userID {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// positions computes the positions in markets from one streamed read of
// their bets.
func (s *PositionService) positions(ctx context.Context, markets []*models.Market) (map[int64][]Position, error) {
	ids := make([]int64, len(markets))
	byID := make(map[int64]*models.Market, len(markets))
	for i, m := range markets {
		ids[i], byID[m.ID] = m.ID, m
	}
	out := map[int64][]Position{}
	var (
		current int64
		bets    []dbpm.Bet
		stakes  map[int64]*Position
		order   []int64
	)
	flush := func() error {
		if current == 0 {
			return nil
		}
		m := byID[current]
		shares, err := dbpm.Shares(bets, m.Probability)
		if err != nil {
			return err
		}
		p := valuationProbability(m)
		for _, uid := range order {
			pos := stakes[uid]
			sh := shares[uid]
			pos.YesShares, pos.NoShares, pos.Value = sh.Yes, sh.No, sh.Value(p)
			out[current] = append(out[current], *pos)
		}
		return nil
	}
	err := s.dal.Bets().ScanMarkets(ctx, ids, func(b *models.Bet, username string) error {
		if b.MarketID != current {
			if err := flush(); err != nil {
				return err
			}
			current, bets, stakes, order = b.MarketID, bets[:0], map[int64]*Position{}, nil
		}
		bets = append(bets, dbpm.Bet{UserID: b.UserID, Username: username, Outcome: dbpm.Outcome(b.Outcome),
			Amount: b.Amount, ProbabilityAfter: b.ProbabilityAfter})
		pos, ok := stakes[b.UserID]
		if !ok {
			pos = &Position{UserID: b.UserID, Username: username, MarketID: b.MarketID, FirstBetAt: b.PlacedAt}
			stakes[b.UserID] = pos
			order = append(order, b.UserID)
		}
		if b.Outcome == models.OutcomeYes {
			pos.YesStake += b.Amount
		} else {
			pos.NoStake += b.Amount
		}
		pos.BetCount++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, flush()
}

// valuationProbability is the price of a YES share: the current probability
// of an open market, 1 or 0 for a market resolved YES or NO.
func valuationProbability(m *models.Market) float64 {
	if m.ResolutionResult != nil {
		switch *m.ResolutionResult {
		case models.ResolutionYes:
			return 1
		case models.ResolutionNo:
			return 0
		}
	}
	return m.Probability
}
