package repository_test

import (
	"context"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/repository"
)

func TestSmoke(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		ctx := context.Background()
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		var bets []*models.Bet
		for i := range 1000 {
			bets = append(bets, &models.Bet{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeNo, Amount: int64(i%7 + 1), ProbabilityAfter: 0.4, PlacedAt: daltest.Now.Add(time.Duration(i) * time.Second)})
		}
		if err := d.Bets().CreateBatch(ctx, bets); err != nil {
			t.Fatal(err)
		}
		if bets[999].ID == 0 {
			t.Fatal("ids not set")
		}
		n, err := d.Bets().Count(ctx, repository.BetFilters{MarketID: m.ID})
		if err != nil || n != 1000 {
			t.Fatalf("count %d %v", n, err)
		}
		seen := 0
		req := repository.PageRequest{Limit: 300}
		for {
			p, err := d.Bets().ListByMarket(ctx, m.ID, req)
			if err != nil {
				t.Fatal(err)
			}
			seen += len(p.Items)
			if p.NextCursor == "" {
				break
			}
			req.Cursor = p.NextCursor
		}
		if seen != 1000 {
			t.Fatalf("seen %d", seen)
		}
		if _, err := d.Users().AddToBalance(ctx, u.ID, -600, -500); err == nil {
			t.Fatal("debit below floor")
		}
		err = d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
			_, err := tx.Users().AddToBalance(ctx, u.ID, -100, -500)
			if err != nil {
				return err
			}
			return tx.Users().AdjustBalances(ctx, []repository.BalanceDelta{{UserID: u.ID, Delta: 30}})
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := d.Users().GetByID(ctx, u.ID)
		if got.Balance != -70 {
			t.Fatalf("balance %d", got.Balance)
		}
		p, err := d.Positions().AddStake(ctx, u.ID, m.ID, models.OutcomeYes, 5, daltest.Now)
		if err != nil || p.BetCount != 1 {
			t.Fatal(p, err)
		}
		p, err = d.Positions().AddStake(ctx, u.ID, m.ID, models.OutcomeNo, 7, daltest.Now)
		if err != nil || p.BetCount != 2 || p.NoStake != 7 || p.YesStake != 5 {
			t.Fatal(p, err)
		}
	})
}
