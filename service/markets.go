package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"socialpredict/dal"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/models/wpam"
	"socialpredict/repository"
)

// MarketService creates, lists and resolves markets.
type MarketService struct{ *base }

// NewMarket is what it takes to create a market.
type NewMarket struct {
	QuestionTitle string
	Description   string
	// YesLabel and NoLabel default to YES and NO.
	YesLabel, NoLabel string
	ClosesAt          time.Time
}

func (s *MarketService) validate(n *NewMarket, now time.Time) error {
	if n.YesLabel == "" {
		n.YesLabel = "YES"
	}
	if n.NoLabel == "" {
		n.NoLabel = "NO"
	}
	for _, f := range []struct{ name, value string }{{"question_title", n.QuestionTitle},
		{"description", n.Description}, {"yes_label", n.YesLabel}, {"no_label", n.NoLabel}} {
		if err := checkText(f.name, f.value); err != nil {
			return err
		}
	}
	if p := models.TimeProblem(n.ClosesAt); p != "" {
		return invalid("closes_at", "%s", p)
	}
	title := strings.TrimSpace(n.QuestionTitle)
	minClose := now.Add(s.econ.minimumFuture())
	switch {
	case utf8.RuneCountInString(title) < 1 || utf8.RuneCountInString(n.QuestionTitle) > 160:
		return invalid("question_title", "must be 1-160 characters")
	case utf8.RuneCountInString(n.Description) > 2000:
		return invalid("description", "must be at most 2000 characters")
	case utf8.RuneCountInString(n.YesLabel) > 20:
		return invalid("yes_label", "must be 1-20 characters")
	case utf8.RuneCountInString(n.NoLabel) > 20:
		return invalid("no_label", "must be 1-20 characters")
	case n.ClosesAt.Before(minClose):
		return invalid("closes_at", "must be at least %g hours from now (at or after %s)", s.econ.MinimumFutureHours, minClose.Format(time.RFC3339))
	}
	return nil
}

// Create creates a market for creatorID: the creation cost is debited
// (guarded by the debt limit), the market inserted and the ledger written,
// in one transaction. Errors: *errs.InputError for a bad field;
// errs.ErrNotFound for an unknown creator;
// errs.ErrInsufficientCredits.
func (s *MarketService) Create(ctx context.Context, creatorID int64, n NewMarket) (*models.Market, error) {
	now := s.clock()
	if err := s.validate(&n, now); err != nil {
		return nil, err
	}
	m := &models.Market{CreatorID: creatorID, QuestionTitle: n.QuestionTitle, Description: n.Description,
		YesLabel: n.YesLabel, NoLabel: n.NoLabel, ClosesAt: n.ClosesAt, Status: models.MarketOpen,
		Probability: wpam.Probability(s.seeds(), 0, 0), CreatedAt: now, UpdatedAt: now}
	err := s.dal.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
		balance, err := tx.Users().AddToBalance(ctx, creatorID, -s.econ.CreateMarketCost, -s.econ.MaximumDebtAllowed)
		if err != nil {
			return err
		}
		if err := tx.Markets().Create(ctx, m); err != nil {
			return err
		}
		if s.econ.CreateMarketCost == 0 {
			return nil
		}
		return tx.Ledger().Append(ctx, &models.LedgerEntry{UserID: creatorID, MarketID: &m.ID,
			Kind: models.LedgerMarketCreation, Amount: -s.econ.CreateMarketCost, BalanceAfter: balance, CreatedAt: now})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Get returns the market with its current probability, volume and bet
// count, or errs.ErrNotFound.
func (s *MarketService) Get(ctx context.Context, id int64) (*models.Market, error) {
	return s.dal.Markets().GetByID(ctx, id)
}

// List returns a page of markets (see repository.MarketRepository.List).
func (s *MarketService) List(ctx context.Context, f repository.MarketFilters) (repository.Page[*models.Market], error) {
	return s.dal.Markets().List(ctx, f)
}

// errAlreadyResolved converts the repository's conflict of a second resolve.
func errAlreadyResolved(err error, marketID int64) error {
	if errors.Is(err, errs.ErrConflict) {
		return fmt.Errorf("%w: market %d", errs.ErrAlreadyResolved, marketID)
	}
	return err
}
