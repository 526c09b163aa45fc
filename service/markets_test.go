package service_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/service"
)

func TestCreateMarket(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator := e.user(t, "creator")
		m, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: "Q", ClosesAt: now.Add(time.Hour)})
		if err != nil {
			t.Fatalf("closing exactly minimum_future_hours ahead: %v", err)
		}
		if m.YesLabel != "YES" || m.NoLabel != "NO" || m.Probability != 0.5 || m.Status != models.MarketOpen {
			t.Errorf("market %+v", m)
		}
		u, _ := e.Users.Get(ctx, creator.ID)
		if u.Balance != -10 {
			t.Errorf("creator balance %d, want -10 (create_market_cost)", u.Balance)
		}
		tests := []struct {
			name  string
			in    service.NewMarket
			field string
		}{
			{"empty title", service.NewMarket{QuestionTitle: " ", ClosesAt: now.Add(2 * time.Hour)}, "question_title"},
			{"long title", service.NewMarket{QuestionTitle: strings.Repeat("q", 161), ClosesAt: now.Add(2 * time.Hour)}, "question_title"},
			{"long description", service.NewMarket{QuestionTitle: "Q", Description: strings.Repeat("d", 2001), ClosesAt: now.Add(2 * time.Hour)}, "description"},
			{"long label", service.NewMarket{QuestionTitle: "Q", YesLabel: strings.Repeat("y", 21), ClosesAt: now.Add(2 * time.Hour)}, "yes_label"},
			{"closes too soon", service.NewMarket{QuestionTitle: "Q", ClosesAt: now.Add(59 * time.Minute)}, "closes_at"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.state(t)
				_, err := e.Markets.Create(ctx, creator.ID, tt.in)
				var ie *errs.InputError
				if !errors.As(err, &ie) || ie.Field != tt.field {
					t.Fatalf("err = %v, want an InputError for %s", err, tt.field)
				}
				if diff := cmp.Diff(e.state(t), before); diff != "" {
					t.Errorf("rejected market wrote something:\n%s", diff)
				}
			})
		}
		// The creation cost obeys the debt floor: 49 more markets reach -500, the next fails.
		for i := range 49 {
			if _, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: "Q", ClosesAt: now.Add(2 * time.Hour)}); err != nil {
				t.Fatalf("market %d: %v", i+2, err)
			}
		}
		if _, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: "Q", ClosesAt: now.Add(2 * time.Hour)}); !errors.Is(err, errs.ErrInsufficientCredits) {
			t.Errorf("market past the floor: err = %v, want ErrInsufficientCredits", err)
		}
		if _, err := e.Markets.Create(ctx, 9999, service.NewMarket{QuestionTitle: "Q", ClosesAt: now.Add(2 * time.Hour)}); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("unknown creator: err = %v, want ErrNotFound", err)
		}
	})
}

func TestResolve(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, bettor, m := e.fixture(t)
		other := e.user(t, "other")
		admin, _, err := e.Users.Create(ctx, service.NewUser{Username: "admin", DisplayName: "Admin", Email: "admin@example.com", UserType: models.UserTypeAdmin})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []struct {
			u       *models.User
			outcome models.Outcome
			amount  int64
		}{{bettor, models.OutcomeYes, 10}, {other, models.OutcomeNo, 20}, {bettor, models.OutcomeNo, 5}} {
			if _, err := e.Bets.PlaceBet(ctx, b.u.ID, m.ID, b.outcome, b.amount, ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Markets.Resolve(ctx, other.ID, m.ID, models.ResolutionYes); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("resolve by a bettor: err = %v, want ErrForbidden", err)
		}
		if _, err := e.Markets.Resolve(ctx, creator.ID, m.ID, "MAYBE"); !errors.Is(err, errs.ErrInvalidInput) {
			t.Errorf("unknown result: err = %v, want ErrInvalidInput", err)
		}
		res, err := e.Markets.Resolve(ctx, admin.ID, m.ID, models.ResolutionNo)
		if err != nil {
			t.Fatalf("resolve by an admin: %v", err)
		}
		if res.Paid != 35 || res.CreatorReward != 2 {
			t.Errorf("paid %d reward %d, want the volume 35 and 2 bettors × 1", res.Paid, res.CreatorReward)
		}
		if _, err := e.Markets.Resolve(ctx, creator.ID, m.ID, models.ResolutionYes); !errors.Is(err, errs.ErrAlreadyResolved) {
			t.Errorf("second resolve: err = %v, want ErrAlreadyResolved", err)
		}
	})
}

func TestResolveNARefundsStakes(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, bettor, m := e.fixture(t)
		for _, amount := range []int64{10, 7} {
			if _, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, amount, ""); err != nil {
				t.Fatal(err)
			}
		}
		before, _ := e.Users.Get(ctx, bettor.ID)
		res, err := e.Markets.Resolve(ctx, creator.ID, m.ID, models.ResolutionNA)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := e.Users.Get(ctx, bettor.ID)
		if after.Balance-before.Balance != 17 || res.Paid != 17 {
			t.Errorf("refund %d (paid %d), want the stakes 17 (fees are not refunded)", after.Balance-before.Balance, res.Paid)
		}
	})
}
