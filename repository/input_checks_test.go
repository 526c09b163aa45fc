package repository_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

// TestUnstorableInputRefused: text with a NUL byte or invalid UTF-8, filters
// longer than the limit and times outside what both engines read back are
// refused as ErrInvalidInput naming the field, the same on both engines, and
// nothing unreadable is written: every list still reads afterwards.
func TestUnstorableInputRefused(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		creator := daltest.User(t, d)
		far := time.Date(99999, 1, 1, 0, 0, 0, 0, time.UTC)
		long := strings.Repeat("a", 1<<20)
		market := func(change func(*models.Market)) *models.Market {
			m := &models.Market{CreatorID: creator.ID, QuestionTitle: "Q", YesLabel: "YES", NoLabel: "NO",
				ClosesAt: daltest.Now.Add(time.Hour), Status: models.MarketOpen, Probability: 0.5}
			change(m)
			return m
		}
		tests := []struct {
			name, field string
			call        func() error
		}{
			{"market closing in year 99999", "closes_at", func() error {
				return d.Markets().Create(ctx, market(func(m *models.Market) { m.ClosesAt = far }))
			}},
			{"market batch closing in year 99999", "closes_at", func() error {
				return d.Markets().CreateBatch(ctx, []*models.Market{market(func(m *models.Market) { m.ClosesAt = far })})
			}},
			{"title with NUL", "question_title", func() error {
				return d.Markets().Create(ctx, market(func(m *models.Market) { m.QuestionTitle = "a\x00b" }))
			}},
			{"description not UTF-8", "description", func() error {
				return d.Markets().Create(ctx, market(func(m *models.Market) { m.Description = "\xff" }))
			}},
			{"market search of 1 MB", "search", func() error {
				_, err := d.Markets().List(ctx, repository.MarketFilters{Search: long})
				return err
			}},
			{"market search with NUL", "search", func() error {
				_, err := d.Markets().List(ctx, repository.MarketFilters{Search: "\x00"})
				return err
			}},
			{"closes_before in year 99999", "closes_before", func() error {
				_, err := d.Markets().List(ctx, repository.MarketFilters{ClosesBefore: &far})
				return err
			}},
			{"username prefix of 1 MB", "username_prefix", func() error {
				_, err := d.Users().List(ctx, repository.UserFilters{UsernamePrefix: long})
				return err
			}},
			{"user search not UTF-8", "search", func() error {
				_, err := d.Users().List(ctx, repository.UserFilters{Search: "\xfe"})
				return err
			}},
			{"placed_after in year 99999", "placed_after", func() error {
				_, err := d.Bets().List(ctx, repository.BetFilters{PlacedAfter: &far})
				return err
			}},
		}
		for _, tc := range tests {
			err := tc.call()
			if !errors.Is(err, errs.ErrInvalidInput) {
				t.Errorf("%s: %v, want ErrInvalidInput", tc.name, err)
				continue
			}
			if !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("%s: %q does not name the field %s", tc.name, err, tc.field)
			}
		}
		if _, err := d.Markets().List(ctx, repository.MarketFilters{}); err != nil {
			t.Errorf("listing markets after the refusals: %v", err)
		}
		if _, err := d.Markets().List(ctx, repository.MarketFilters{Search: strings.Repeat("é", 200)}); err != nil {
			t.Errorf("a search of 200 characters (400 bytes): %v", err)
		}
	})
}

// TestPlaceStatementRefusalKeepsTransaction: a bet the database refuses
// inside a caller's transaction rolls back to its savepoint, so the caller's
// next statements work (PostgreSQL; SQLite has no one-statement bet).
func TestPlaceStatementRefusalKeepsTransaction(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d, func(u *models.User) { u.Balance = 1000 })
		m := daltest.Market(t, d, u.ID)
		p := repository.BetPlacement{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeYes, Amount: 10,
			Now: daltest.Now, MaxDebt: 0, P0: 0.5, I0: 10}
		if tdb.Engine != dbtest.Postgres {
			if _, err := d.Bets().PlaceStatement(ctx, p); !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("PlaceStatement on %s: %v, want errors.ErrUnsupported", tdb.Engine, err)
			}
			return
		}
		err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
			bad := p
			bad.Key = "a\x00b" // refused by the server: not valid text
			if _, err := tx.Bets().PlaceStatement(ctx, bad); !errors.Is(err, errs.ErrInvalidInput) {
				t.Errorf("PlaceStatement with a NUL in the key: %v, want ErrInvalidInput", err)
			}
			placed, err := tx.Bets().PlaceStatement(context.Background(), p)
			if err != nil {
				return err
			}
			if placed.Bet == nil {
				t.Errorf("the bet after the refused one was not placed: %+v", placed)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("caller's transaction: %v", err)
		}
		if n, err := d.Bets().Count(ctx, repository.BetFilters{MarketID: m.ID}); err != nil || n != 1 {
			t.Errorf("%d bets (%v), want 1", n, err)
		}
	})
}
