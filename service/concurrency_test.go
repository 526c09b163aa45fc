package service_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/service"
)

// TestConcurrentBets: 16 workers × 200 bets over 3 users and 2 markets with
// random amounts and outcomes. Afterwards every invariant holds (run checks
// them), no balance is below the floor, and the recorded bets are exactly
// the ones that reported success.
func TestConcurrentBets(t *testing.T) {
	econ := service.DefaultEconomics()
	econ.InitialBalance = 15000
	runWith(t, econ, func(t *testing.T, e *env) {
		creator := e.user(t, "creator")
		users := []*models.User{e.user(t, "ann"), e.user(t, "ben"), e.user(t, "cat")}
		var markets []*models.Market
		for _, title := range []string{"First", "Second"} {
			m, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: title, ClosesAt: now.Add(48 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			markets = append(markets, m)
		}
		const workers, perWorker = 16, 200
		var (
			mu       sync.Mutex
			placed   []int64
			rejected int
			wg       sync.WaitGroup
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for range perWorker {
					u := users[rng.IntN(len(users))]
					m := markets[rng.IntN(len(markets))]
					outcome := models.OutcomeYes
					if rng.IntN(2) == 0 {
						outcome = models.OutcomeNo
					}
					b, err := e.Bets.PlaceBet(ctx, u.ID, m.ID, outcome, int64(rng.IntN(50)+1), "")
					mu.Lock()
					switch {
					case err == nil:
						placed = append(placed, b.ID)
					case errors.Is(err, errs.ErrInsufficientCredits):
						rejected++
					default:
						t.Errorf("PlaceBet: %v", err)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		var recorded []int64
		if err := e.tdb.DB.Table("bets").Order("id").Pluck("id", &recorded).Error; err != nil {
			t.Fatal(err)
		}
		slices.Sort(placed)
		if !slices.Equal(recorded, placed) {
			t.Errorf("%d bets recorded, %d reported success; they differ", len(recorded), len(placed))
		}
		for _, u := range users {
			got, _ := e.Users.Get(ctx, u.ID)
			if got.Balance < -econ.MaximumDebtAllowed {
				t.Errorf("user %s balance %d below the floor", got.Username, got.Balance)
			}
		}
		t.Logf("%d bets placed, %d rejected for insufficient credits", len(placed), rejected)
		if len(placed) == 0 || rejected == 0 {
			t.Errorf("want both successes and rejections, got %d and %d", len(placed), rejected)
		}
	})
}

// TestConcurrentResolvePaysOnce: several concurrent resolves of one market;
// one succeeds, the others get ErrAlreadyResolved and pay nothing.
func TestConcurrentResolvePaysOnce(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, bettor, m := e.fixture(t)
		for _, o := range []models.Outcome{models.OutcomeYes, models.OutcomeNo, models.OutcomeYes} {
			if _, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, o, 10, ""); err != nil {
				t.Fatal(err)
			}
		}
		const resolvers = 6
		results := make(chan error, resolvers)
		var wg sync.WaitGroup
		for range resolvers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.Markets.Resolve(ctx, creator.ID, m.ID, models.ResolutionYes)
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		ok := 0
		for err := range results {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, errs.ErrAlreadyResolved):
				t.Errorf("resolve: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d resolves succeeded, want exactly 1", ok)
		}
		var payouts int64
		e.tdb.DB.Table("ledger_entries").Where("kind IN ('PAYOUT', 'CREATOR_REWARD')").Count(&payouts)
		if payouts != 2 {
			t.Errorf("%d payout rows, want 2 (the bettor's payout and the creator's reward)", payouts)
		}
	})
}

// TestBetsRacingResolve: bets placed while the market resolves are either
// before the resolution (and paid) or rejected as closed.
func TestBetsRacingResolve(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, _, m := e.fixture(t)
		bettors := []*models.User{e.user(t, "ann"), e.user(t, "ben"), e.user(t, "cat"), e.user(t, "dan")}
		var (
			wg               sync.WaitGroup
			mu               sync.Mutex
			placedVolume     int64
			placed, rejected int
			resolveErr       error
			resolution       *service.Resolution
			start            = make(chan struct{})
		)
		for i, u := range bettors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for j := range 25 {
					outcome := models.OutcomeYes
					if (i+j)%2 == 0 {
						outcome = models.OutcomeNo
					}
					b, err := e.Bets.PlaceBet(ctx, u.ID, m.ID, outcome, int64(j%5+1), "")
					mu.Lock()
					switch {
					case err == nil:
						placed++
						placedVolume += b.Amount
					case errors.Is(err, errs.ErrMarketClosed):
						rejected++
					default:
						t.Errorf("PlaceBet: %v", err)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(5 * time.Millisecond)
			resolution, resolveErr = e.Markets.Resolve(ctx, creator.ID, m.ID, models.ResolutionYes)
		}()
		close(start)
		wg.Wait()
		if resolveErr != nil {
			t.Fatal(resolveErr)
		}
		if resolution.Market.Volume != placedVolume {
			t.Errorf("resolved volume %d, but accepted bets total %d", resolution.Market.Volume, placedVolume)
		}
		if resolution.Paid != placedVolume && resolution.Paid != 0 {
			t.Errorf("paid %d, want the volume %d", resolution.Paid, placedVolume)
		}
		t.Logf("%d bets before the resolution, %d rejected after it", placed, rejected)
	})
}

// TestFirstBetFeeOnceUnderConcurrency: concurrent first bets of one user in
// one market pay initial_bet_fee once, on both paths (the one-statement bet
// and the interactive transaction).
func TestFirstBetFeeOnceUnderConcurrency(t *testing.T) {
	econ := service.DefaultEconomics()
	econ.InitialBalance = 1_000_000
	runWith(t, econ, func(t *testing.T, e *env) {
		creator, u := e.user(t, "creator"), e.user(t, "ann")
		paths := map[string]*service.Services{"default": e.Services,
			"interactive": service.New(e.dal.WithClock(func() time.Time { return now }), econ, service.WithInteractiveBets())}
		for name, svc := range paths {
			for trial := range 8 {
				m, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: name, ClosesAt: now.Add(48 * time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				for range 6 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if _, err := svc.Bets.PlaceBet(ctx, u.ID, m.ID, models.OutcomeYes, 5, ""); err != nil {
							t.Error(err)
						}
					}()
				}
				close(start)
				wg.Wait()
				var fees int64
				if err := e.tdb.DB.Table("bets").Where("market_id = ? AND fee > 0", m.ID).Count(&fees).Error; err != nil {
					t.Fatal(err)
				}
				if fees != 1 {
					t.Errorf("%s path, trial %d: %d bets paid the first-bet fee, want 1", name, trial, fees)
				}
			}
		}
	})
}

// TestInteractiveBetsRacingResolve is TestBetsRacingResolve on the
// interactive path: bets either precede the resolution (and are paid) or
// are rejected as closed.
func TestInteractiveBetsRacingResolve(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, _, m := e.fixture(t)
		inter := service.New(e.dal.WithClock(func() time.Time { return now }), service.DefaultEconomics(), service.WithInteractiveBets())
		bettors := []*models.User{e.user(t, "ann"), e.user(t, "ben"), e.user(t, "cat")}
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			volume int64
			start  = make(chan struct{})
		)
		for _, u := range bettors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for j := range 20 {
					b, err := inter.Bets.PlaceBet(ctx, u.ID, m.ID, models.OutcomeNo, int64(j%4+1), "")
					switch {
					case err == nil:
						mu.Lock()
						volume += b.Amount
						mu.Unlock()
					case !errors.Is(err, errs.ErrMarketClosed):
						t.Errorf("PlaceBet: %v", err)
					}
				}
			}()
		}
		var res *service.Resolution
		var resErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(3 * time.Millisecond)
			res, resErr = e.Markets.Resolve(ctx, creator.ID, m.ID, models.ResolutionNo)
		}()
		close(start)
		wg.Wait()
		if resErr != nil {
			t.Fatal(resErr)
		}
		if res.Market.Volume != volume || (volume > 0 && res.Paid != volume) {
			t.Errorf("resolved volume %d, paid %d, but accepted bets total %d", res.Market.Volume, res.Paid, volume)
		}
	})
}
