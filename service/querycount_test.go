package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/service"
)

// addBets inserts n bets by users in market m through the bulk API.
func (e *env) addBets(t *testing.T, m *models.Market, users []*models.User, n int) {
	t.Helper()
	bets := make([]*models.Bet, n)
	for i := range bets {
		outcome := models.OutcomeYes
		if i%3 == 0 {
			outcome = models.OutcomeNo
		}
		bets[i] = &models.Bet{UserID: users[i%len(users)].ID, MarketID: m.ID, Outcome: outcome, Amount: int64(i%20 + 1),
			ProbabilityAfter: 0.3 + float64(i%40)/100, PlacedAt: now.Add(time.Duration(i) * time.Millisecond)}
	}
	if err := e.dal.Bets().CreateBatch(ctx, bets); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := e.dal.Positions().AddStake(ctx, u.ID, m.ID, models.OutcomeYes, 1, now); err != nil {
			t.Fatal(err)
		}
	}
}

// users creates n users.
func (e *env) users(t *testing.T, prefix string, n int) []*models.User {
	t.Helper()
	out := make([]*models.User, n)
	for i := range out {
		out[i] = e.user(t, fmt.Sprintf("%s_%d", prefix, i))
	}
	return out
}

// runCounted runs fn on both engines; the bulk fixtures do not keep the
// aggregates, so invariants are not checked.
func runCounted(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		fn(t, newEnv(t, engine, service.DefaultEconomics()))
	})
}

// statements returns how many statements fn issued, as the query monitor
// counts them (GORM's, and those sent straight through pgx, such as the
// pipelined bet).
func statements(t *testing.T, fn func(ctx context.Context) error) int {
	t.Helper()
	sctx, scope := database.WithQueryScope(ctx)
	if err := fn(sctx); err != nil {
		t.Fatal(err)
	}
	return scope.Queries()
}

func TestStatementCountsDoNotGrow(t *testing.T) {
	runCounted(t, func(t *testing.T, e *env) {
		creator := e.user(t, "creator")
		small, large := e.users(t, "s", 3), e.users(t, "l", 50)
		newMarket := func(title string) *models.Market {
			m, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: title, ClosesAt: now.Add(48 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		m10, m10k := newMarket("ten bets"), newMarket("ten thousand bets")
		e.addBets(t, m10, small, 10)
		e.addBets(t, m10k, large, 10_000)

		bet := func(m *models.Market, u *models.User) func(context.Context) error {
			return func(ctx context.Context) error {
				_, err := e.Bets.PlaceBet(ctx, u.ID, m.ID, models.OutcomeYes, 5, "")
				return err
			}
		}
		betSmall := statements(t, bet(m10, small[0]))
		betLarge := statements(t, bet(m10k, large[0]))
		if betSmall == 0 {
			t.Fatal("PlaceBet counted no statement")
		}
		if betSmall != betLarge {
			t.Errorf("PlaceBet: %d statements in a market of 10 bets, %d in one of 10,000", betSmall, betLarge)
		}
		t.Logf("PlaceBet: %d statements", betLarge)

		// A portfolio of 1 market and one of 2 markets with 10,000 bets.
		portfolio := func(u *models.User) func(context.Context) error {
			return func(ctx context.Context) error { _, err := e.Positions.Portfolio(ctx, u.ID); return err }
		}
		pSmall := statements(t, portfolio(small[1]))
		for _, m := range []*models.Market{newMarket("more"), newMarket("and more")} {
			e.addBets(t, m, large, 100)
		}
		pLarge := statements(t, portfolio(large[1]))
		if pSmall != pLarge {
			t.Errorf("Portfolio: %d statements for 1 market, %d for 3 markets", pSmall, pLarge)
		}
		t.Logf("Portfolio: %d statements", pLarge)

		resolve := func(m *models.Market) func(context.Context) error {
			return func(ctx context.Context) error {
				_, err := e.Markets.Resolve(ctx, creator.ID, m.ID, models.ResolutionYes)
				return err
			}
		}
		rSmall := statements(t, resolve(m10))
		rLarge := statements(t, resolve(m10k))
		if rSmall != rLarge {
			t.Errorf("Resolve: %d statements for 10 bets, %d for 10,000", rSmall, rLarge)
		}
		t.Logf("Resolve: %d statements", rLarge)
	})
}
