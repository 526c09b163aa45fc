package service_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"socialpredict/dal"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/service"
)

// fixture creates a creator, a bettor and an open market closing in two days.
func (e *env) fixture(t *testing.T) (creator, bettor *models.User, market *models.Market) {
	t.Helper()
	creator = e.user(t, "creator")
	bettor = e.user(t, "bettor")
	m, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: "Will it rain", ClosesAt: now.Add(48 * time.Hour)})
	if err != nil {
		t.Fatalf("create market: %v", err)
	}
	return creator, bettor, m
}

// user creates a user named name.
func (e *env) user(t *testing.T, name string) *models.User {
	t.Helper()
	u, _, err := e.Users.Create(ctx, service.NewUser{Username: name, DisplayName: name, Email: name + "@example.com"})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// state is everything a bet may change, to check that a rejection wrote nothing.
type state struct {
	Bets, Ledger, Positions int64
	Balances                map[int64]int64
	Markets                 map[int64][4]float64
}

func (e *env) state(t *testing.T) state {
	t.Helper()
	db := e.tdb.DB
	s := state{Balances: map[int64]int64{}, Markets: map[int64][4]float64{}}
	db.Table("bets").Count(&s.Bets)
	db.Table("ledger_entries").Count(&s.Ledger)
	db.Table("positions").Count(&s.Positions)
	var users []models.User
	db.Find(&users)
	for _, u := range users {
		s.Balances[u.ID] = u.Balance
	}
	var markets []models.Market
	db.Find(&markets)
	for _, m := range markets {
		s.Markets[m.ID] = [4]float64{float64(m.YesStake), float64(m.NoStake), float64(m.BetCount), m.Probability}
	}
	return s
}

func TestPlaceBetRejections(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, bettor, m := e.fixture(t)
		closed, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: "Closes soon", ClosesAt: now.Add(2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		resolved, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: "Resolved", ClosesAt: now.Add(2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Markets.Resolve(ctx, creator.ID, resolved.ID, models.ResolutionNA); err != nil {
			t.Fatal(err)
		}
		*e.clock = now.Add(3 * time.Hour) // `closed` is now past its closing time
		tests := []struct {
			name      string
			user      int64
			market    int64
			outcome   models.Outcome
			amount    int64
			wantErr   error
			wantField string
		}{
			{"unknown user", 9999, m.ID, models.OutcomeYes, 10, errs.ErrNotFound, ""},
			{"unknown market", bettor.ID, 9999, models.OutcomeYes, 10, errs.ErrNotFound, ""},
			{"market closed by time", bettor.ID, closed.ID, models.OutcomeYes, 10, errs.ErrMarketClosed, ""},
			{"market resolved", bettor.ID, resolved.ID, models.OutcomeYes, 10, errs.ErrMarketClosed, ""},
			{"amount below minimum", bettor.ID, m.ID, models.OutcomeYes, 0, errs.ErrInvalidInput, "amount"},
			{"negative amount", bettor.ID, m.ID, models.OutcomeNo, -5, errs.ErrInvalidInput, "amount"},
			{"invalid outcome", bettor.ID, m.ID, "MAYBE", 10, errs.ErrInvalidInput, "outcome"},
			{"lower-case outcome", bettor.ID, m.ID, "yes", 10, errs.ErrInvalidInput, "outcome"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.state(t)
				_, err := e.Bets.PlaceBet(ctx, tt.user, tt.market, tt.outcome, tt.amount, "")
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var ie *errs.InputError
				if tt.wantField != "" && (!errors.As(err, &ie) || ie.Field != tt.wantField) {
					t.Errorf("err %v does not name the field %q", err, tt.wantField)
				}
				if diff := cmp.Diff(e.state(t), before); diff != "" {
					t.Errorf("a rejected bet wrote something (-after +before):\n%s", diff)
				}
			})
		}
	})
}

func TestParseAmount(t *testing.T) {
	for _, in := range []string{"1.5", "-3", "0", "1e3", "", "ten", "9223372036854775808"} {
		if _, err := service.ParseAmount("amount", in); !errors.Is(err, errs.ErrInvalidInput) {
			t.Errorf("ParseAmount(%q) err = %v, want ErrInvalidInput", in, err)
		}
	}
	if got, err := service.ParseAmount("amount", " 42 "); err != nil || got != 42 {
		t.Errorf("ParseAmount(42) = %d, %v", got, err)
	}
}

// TestDebtFloorBoundary: a bet whose cost takes the balance exactly to
// -maximum_debt_allowed succeeds; one more credit fails and writes nothing.
func TestDebtFloorBoundary(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		_, bettor, m := e.fixture(t)
		other := e.user(t, "other")
		// Balance 0, debt limit 500, first-bet fee 1: a bet of 499 costs 500.
		b, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 499, "")
		if err != nil {
			t.Fatalf("bet reaching the floor exactly: %v", err)
		}
		if got, _ := e.Users.Get(ctx, bettor.ID); got.Balance != -500 || b.Fee != 1 {
			t.Errorf("balance %d fee %d, want -500 and 1", got.Balance, b.Fee)
		}
		before := e.state(t)
		if _, err := e.Bets.PlaceBet(ctx, other.ID, m.ID, models.OutcomeNo, 500, ""); !errors.Is(err, errs.ErrInsufficientCredits) {
			t.Fatalf("bet one credit past the floor: err = %v, want ErrInsufficientCredits", err)
		}
		if _, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeNo, 1, ""); !errors.Is(err, errs.ErrInsufficientCredits) {
			t.Fatalf("any bet at the floor: err = %v, want ErrInsufficientCredits", err)
		}
		if diff := cmp.Diff(e.state(t), before); diff != "" {
			t.Errorf("rejected bets wrote something (-after +before):\n%s", diff)
		}
	})
}

func TestPlaceBetFeesAndProbability(t *testing.T) {
	econ := service.DefaultEconomics()
	econ.BuySharesFee = 2
	runWith(t, econ, func(t *testing.T, e *env) {
		_, bettor, m := e.fixture(t)
		// Domain checks: one YES bet of 10 → 15/20 = 0.75.
		first, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if first.ProbabilityAfter != 0.75 || first.Fee != 3 {
			t.Errorf("first bet: p %v fee %d, want 0.75 and 3 (buy fee 2 + first-bet fee 1)", first.ProbabilityAfter, first.Fee)
		}
		second, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeNo, 20, "")
		if err != nil {
			t.Fatal(err)
		}
		// (0.5·10 + 10) / (10 + 10 + 20) = 15/40.
		if second.ProbabilityAfter != 15.0/40 || second.Fee != 2 {
			t.Errorf("second bet: p %v fee %d, want 0.375 and 2", second.ProbabilityAfter, second.Fee)
		}
		got, _ := e.Markets.Get(ctx, m.ID)
		if got.YesStake != 10 || got.NoStake != 20 || got.Volume != 30 || got.BetCount != 2 || got.Probability != 15.0/40 {
			t.Errorf("market aggregates %+v", got)
		}
		u, _ := e.Users.Get(ctx, bettor.ID)
		if u.Balance != -35 {
			t.Errorf("balance %d, want -35 (10+3 + 20+2)", u.Balance)
		}
	})
}

func TestNoBetProbability(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		_, bettor, m := e.fixture(t)
		if m.Probability != 0.5 {
			t.Errorf("new market probability %v, want 0.5", m.Probability)
		}
		b, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeNo, 20, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := 5.0 / 30; b.ProbabilityAfter != want {
			t.Errorf("one NO bet of 20: p %v, want 5/30", b.ProbabilityAfter)
		}
	})
}

// TestIdempotencyKey: a repeated key returns the first bet and charges
// nothing; the key with another market, outcome or amount is
// ErrIdempotencyKeyReused and writes nothing; on both paths (the one
// statement and the interactive transaction).
func TestIdempotencyKey(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, bettor, m := e.fixture(t)
		m2, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: "Another", ClosesAt: now.Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		for _, interactive := range []bool{false, true} {
			svc := e.Services
			if interactive {
				svc = service.New(e.dal, service.DefaultEconomics(), service.WithInteractiveBets())
			}
			key := fmt.Sprintf("req-%v", interactive)
			first, err := svc.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 10, key)
			if err != nil {
				t.Fatal(err)
			}
			before := e.state(t)
			again, err := svc.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 10, key)
			if err != nil || again.ID != first.ID {
				t.Fatalf("interactive=%v: repeat = %+v, %v; want the first bet", interactive, again, err)
			}
			for _, c := range []struct {
				market  int64
				outcome models.Outcome
				amount  int64
			}{{m.ID, models.OutcomeNo, 10}, {m.ID, models.OutcomeYes, 99}, {m2.ID, models.OutcomeYes, 10}} {
				b, err := svc.Bets.PlaceBet(ctx, bettor.ID, c.market, c.outcome, c.amount, key)
				if !errors.Is(err, errs.ErrIdempotencyKeyReused) {
					t.Errorf("interactive=%v: key reused for %+v: %+v, %v; want ErrIdempotencyKeyReused", interactive, c, b, err)
				}
			}
			if diff := cmp.Diff(e.state(t), before); diff != "" {
				t.Errorf("interactive=%v: a repeated key charged something (-after +before):\n%s", interactive, diff)
			}
		}
		// Another user may use the same key, for another bet.
		other := e.user(t, "other")
		if b, err := e.Bets.PlaceBet(ctx, other.ID, m.ID, models.OutcomeNo, 5, "req-false"); err != nil || b.UserID != other.ID {
			t.Errorf("same key, other user: %+v, %v", b, err)
		}
	})
}

// TestPlacedAtFollowsLockOrder: a bet whose clock reads earlier but which
// takes the market after another bet is not placed before it, so that
// (placed_at, id) order agrees with the probability chain.
func TestPlacedAtFollowsLockOrder(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		_, bettor, m := e.fixture(t)
		for _, interactive := range []bool{false, true} {
			var opts []service.Option
			if interactive {
				opts = append(opts, service.WithInteractiveBets())
			}
			at := func(t time.Time) *dal.DataAccessLayer { return e.dal.WithClock(func() time.Time { return t }) }
			later := service.New(at(now.Add(2*time.Second)), service.DefaultEconomics(), opts...)
			earlier := service.New(at(now.Add(time.Second)), service.DefaultEconomics(), opts...)
			first, err := later.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeNo, 20, "")
			if err != nil {
				t.Fatal(err)
			}
			second, err := earlier.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			if second.PlacedAt.Before(first.PlacedAt) {
				t.Errorf("interactive=%v: the second bet is placed at %s, before the first at %s", interactive, second.PlacedAt, first.PlacedAt)
			}
		}
	})
}
