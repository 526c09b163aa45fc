package repository_test

import (
	"context"
	"errors"
	"testing"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

// TestPlaceStatementWithoutPreparedStatements: with prepared_statements
// false (behind PgBouncer in transaction mode) the one-statement bet places,
// repeats, refuses and joins a caller's transaction as with them.
func TestPlaceStatementWithoutPreparedStatements(t *testing.T) {
	t.Parallel()
	_, tdb := daltest.New(t, dbtest.Postgres)
	cfg := tdb.Config
	cfg.PreparedStatements = false
	ctx := context.Background()
	d, err := dal.Open(ctx, cfg, dbtest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	u := daltest.User(t, d, func(u *models.User) { u.Balance = 100 })
	m := daltest.Market(t, d, u.ID)
	p := repository.BetPlacement{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeNo, Amount: 20, Key: "k",
		Now: daltest.Now, FirstFee: 1, MaxDebt: 0, P0: 0.5, I0: 10}

	first, err := d.Bets().Place(ctx, p)
	if err != nil || first.Bet == nil {
		t.Fatalf("first bet: %+v, %v", first, err)
	}
	if b := first.Bet; b.Fee != 1 || b.ProbabilityAfter != 5.0/30 {
		t.Errorf("first bet: fee %d, probability %v; want 1 and 1/6", b.Fee, b.ProbabilityAfter)
	}
	again, err := d.Bets().Place(ctx, p)
	if err != nil || again.DuplicateID != first.Bet.ID {
		t.Errorf("repeated key: %+v, %v; want duplicate of %d", again, err, first.Bet.ID)
	}
	broke := p
	broke.Key, broke.Amount = "", 1000
	if res, err := d.Bets().Place(ctx, broke); err != nil || res.Bet != nil || !res.Found {
		t.Errorf("bet beyond the balance: %+v, %v; want a refusal", res, err)
	}
	err = d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
		bad := p
		bad.Key = "a\x00b"
		if _, err := tx.Bets().Place(ctx, bad); !errors.Is(err, errs.ErrInvalidInput) {
			t.Errorf("NUL in the key: %v, want ErrInvalidInput", err)
		}
		next := p
		next.Key = ""
		res, err := tx.Bets().Place(ctx, next)
		if err == nil && (res.Bet == nil || res.Bet.Fee != 0) {
			t.Errorf("second bet in the caller's transaction: %+v", res)
		}
		return err
	})
	if err != nil {
		t.Fatalf("caller's transaction: %v", err)
	}
	if n, err := d.Bets().Count(ctx, repository.BetFilters{MarketID: m.ID}); err != nil || n != 2 {
		t.Errorf("%d bets (%v), want 2", n, err)
	}
	got, err := d.Users().GetByID(ctx, u.ID)
	if err != nil || got.Balance != 100-21-20 {
		t.Errorf("balance %+v, %v; want %d", got, err, 100-21-20)
	}
}
