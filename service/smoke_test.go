package service_test

import (
	"testing"
	"time"

	"socialpredict/models"
	"socialpredict/service"
)

func TestSmokeMoneyPath(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		alice, key, err := e.Users.Create(ctx, service.NewUser{Username: "alice", DisplayName: "Alice", Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if u, err := e.Users.Authenticate(ctx, key); err != nil || u.ID != alice.ID {
			t.Fatal(u, err)
		}
		bob, _, err := e.Users.Create(ctx, service.NewUser{Username: "bob", DisplayName: "Bob", Email: "bob@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.Markets.Create(ctx, alice.ID, service.NewMarket{QuestionTitle: "Rain?", ClosesAt: now.Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		b1, err := e.Bets.PlaceBet(ctx, bob.ID, m.ID, models.OutcomeYes, 10, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if b1.ProbabilityAfter != 0.75 || b1.Fee != 1 {
			t.Errorf("bet %+v", b1)
		}
		again, err := e.Bets.PlaceBet(ctx, bob.ID, m.ID, models.OutcomeYes, 10, "k1")
		if err != nil || again.ID != b1.ID {
			t.Fatalf("idempotent: %+v %v", again, err)
		}
		if _, err := e.Bets.PlaceBet(ctx, alice.ID, m.ID, models.OutcomeNo, 20, ""); err != nil {
			t.Fatal(err)
		}
		ps, err := e.Positions.MarketPositions(ctx, m.ID)
		if err != nil || len(ps) != 2 {
			t.Fatal(ps, err)
		}
		res, err := e.Markets.Resolve(ctx, alice.ID, m.ID, models.ResolutionYes)
		if err != nil {
			t.Fatal(err)
		}
		if res.Paid != 30 || res.CreatorReward != 2 {
			t.Errorf("resolution %+v", res)
		}
		if _, err := e.Markets.Resolve(ctx, alice.ID, m.ID, models.ResolutionYes); err == nil {
			t.Fatal("second resolve")
		}
		pf, err := e.Positions.Portfolio(ctx, bob.ID)
		if err != nil || len(pf) != 1 {
			t.Fatal(pf, err)
		}
	})
}
