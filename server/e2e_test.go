package server_test

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"socialpredict/database/dbtest"
	"socialpredict/server"
	"socialpredict/service"
)

// TestEndToEnd: through a real listener, the admin creates users, one
// creates a market, the others bet on it concurrently, the creator resolves
// it; then every read of the API agrees with the others and with the
// ledger, and the invariants hold.
func TestEndToEnd(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine)
		a := e.serve()
		const bettors, betsEach = 12, 3

		creator := a.createUser("creator")
		users := make([]*user, bettors)
		for i := range users {
			users[i] = a.createUser(fmt.Sprintf("bettor_%02d", i))
		}
		m := a.createMarket(creator.Key, "Will the end-to-end test pass?", 48*time.Hour)
		if m.Status != "OPEN" || m.CreatorID != creator.ID || m.Probability != e.econ.InitialMarketProbability {
			t.Fatalf("new market: %+v", m)
		}

		// Concurrent bets: each bettor places betsEach bets, alternating sides.
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			placed []server.Bet
		)
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range betsEach {
					outcome := []string{"YES", "NO"}[(i+j)%2]
					r, err := a.send("POST", fmt.Sprintf("/v1/markets/%d/bets", m.ID), u.Key,
						map[string]any{"outcome": outcome, "amount": 10 + i + j})
					if err != nil {
						t.Errorf("bet by %s: %v", u.Username, err)
						return
					}
					if r.Status != http.StatusCreated {
						t.Errorf("bet by %s: %s", u.Username, r)
						return
					}
					var b server.Bet
					r.into(t, &b)
					mu.Lock()
					placed = append(placed, b)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		var volume int64
		for _, b := range placed {
			volume += b.Amount
		}

		// The market, before resolution.
		r := a.do("GET", fmt.Sprintf("/v1/markets/%d", m.ID), "", nil)
		want(t, r, http.StatusOK, "get market")
		r.into(t, &m)
		if m.BetCount != int64(len(placed)) || m.Volume != volume || m.YesStake+m.NoStake != volume {
			t.Errorf("market after bets: bet_count %d, volume %d (yes %d no %d); want %d bets, volume %d",
				m.BetCount, m.Volume, m.YesStake, m.NoStake, len(placed), volume)
		}

		// Only the creator (or an admin) resolves.
		res := a.do("POST", fmt.Sprintf("/v1/markets/%d/resolve", m.ID), creator.Key, map[string]any{"result": "YES"})
		want(t, res, http.StatusOK, "resolve")
		var resolved struct {
			Market        server.Market `json:"market"`
			Paid          int64         `json:"paid"`
			CreatorReward int64         `json:"creator_reward"`
			Users         int           `json:"users"`
		}
		res.into(t, &resolved)
		if resolved.Market.Status != "RESOLVED" || resolved.Market.Result == nil || *resolved.Market.Result != "YES" {
			t.Errorf("resolved market: %+v", resolved.Market)
		}
		if want := e.econ.InitialBetFee * bettors; resolved.CreatorReward != want {
			t.Errorf("creator reward %d, want %d (initial_bet_fee per bettor)", resolved.CreatorReward, want)
		}

		checkBets(t, a, m.ID, placed)
		checkPositions(t, a, m.ID, users, volume)
		checkHistory(t, a, m.ID, placed)
		all := append([]*user{creator}, users...)
		checkMoney(t, e, a, all, m.ID, resolved.Paid, resolved.CreatorReward)
		checkLeaderboard(t, a, len(all)+1)
		e.mustCheck()
	})
}

// checkBets pages through the market's bets, two at a time, both orders.
func checkBets(t *testing.T, a *api, market int64, placed []server.Bet) {
	t.Helper()
	byID := map[int64]server.Bet{}
	for _, b := range placed {
		byID[b.ID] = b
	}
	for _, order := range []string{"asc", "desc"} {
		got := pages[server.Bet](t, a, fmt.Sprintf("/v1/markets/%d/bets?limit=2&order=%s", market, order), "")
		if len(got) != len(placed) {
			t.Errorf("bets (%s): %d over every page, want %d", order, len(got), len(placed))
		}
		seen := map[int64]bool{}
		for i, b := range got {
			if seen[b.ID] {
				t.Errorf("bets (%s): bet %d listed twice", order, b.ID)
			}
			seen[b.ID] = true
			if p, ok := byID[b.ID]; !ok || p.Amount != b.Amount || p.Outcome != b.Outcome || p.UserID != b.UserID {
				t.Errorf("bets (%s): %+v, placed as %+v", order, b, p)
			}
			if i > 0 {
				prev := got[i-1]
				before := prev.PlacedAt.Before(b.PlacedAt) || prev.PlacedAt.Equal(b.PlacedAt) && prev.ID < b.ID
				if before != (order == "asc") {
					t.Errorf("bets (%s): %d (%s) listed before %d (%s)", order, prev.ID, prev.PlacedAt, b.ID, b.PlacedAt)
				}
			}
		}
	}
}

// checkPositions compares the market's positions with the bets.
func checkPositions(t *testing.T, a *api, market int64, users []*user, volume int64) {
	t.Helper()
	var hs []server.Holding
	r := a.do("GET", fmt.Sprintf("/v1/markets/%d/positions", market), "", nil)
	want(t, r, http.StatusOK, "positions")
	r.into(t, &hs)
	if len(hs) != len(users) {
		t.Errorf("positions: %d, want one per bettor (%d)", len(hs), len(users))
	}
	var stakes, value int64
	for _, h := range hs {
		stakes += h.YesStake + h.NoStake
		value += h.Value
		if h.YesShares != 0 && h.NoShares != 0 {
			t.Errorf("position of %s holds both YES and NO shares: %+v", h.Username, h)
		}
	}
	if stakes != volume {
		t.Errorf("positions: stakes sum to %d, want the volume %d", stakes, volume)
	}
	// Each bettor's portfolio is their one position, as the market lists it.
	for _, u := range users {
		var p []server.Holding
		r := a.do("GET", "/v1/users/"+u.Username+"/portfolio", "", nil)
		want(t, r, http.StatusOK, "portfolio")
		r.into(t, &p)
		if len(p) != 1 || p[0].MarketID != market || p[0].UserID != u.ID {
			t.Errorf("portfolio of %s: %+v, want its one position in market %d", u.Username, p, market)
			continue
		}
		for _, h := range hs {
			if h.UserID == u.ID && h != p[0] {
				t.Errorf("portfolio of %s: %+v, market positions say %+v", u.Username, p[0], h)
			}
		}
		ps := pages[server.Position](t, a, "/v1/users/"+u.Username+"/positions", "")
		if len(ps) != 1 || ps[0].YesStake != p[0].YesStake || ps[0].NoStake != p[0].NoStake || ps[0].BetCount != p[0].BetCount {
			t.Errorf("positions of %s: %+v, portfolio %+v", u.Username, ps, p[0])
		}
		bets := pages[server.Bet](t, a, "/v1/users/"+u.Username+"/bets?limit=1", "")
		if int64(len(bets)) != p[0].BetCount {
			t.Errorf("bets of %s: %d, want %d", u.Username, len(bets), p[0].BetCount)
		}
	}
}

// checkHistory pages through the probability history: the initial
// probability, then one point per bet in bet order.
func checkHistory(t *testing.T, a *api, market int64, placed []server.Bet) {
	t.Helper()
	pts := pages[service.ProbabilityPoint](t, a, fmt.Sprintf("/v1/markets/%d/probability-history?limit=5", market), "")
	if len(pts) != len(placed)+1 {
		t.Fatalf("probability history: %d points, want %d (creation and each bet)", len(pts), len(placed)+1)
	}
	if pts[0].BetID != 0 || pts[0].Probability != econ().InitialMarketProbability {
		t.Errorf("probability history starts with %+v, want the initial probability", pts[0])
	}
	prob := map[int64]float64{}
	for _, b := range placed {
		prob[b.ID] = b.ProbabilityAfter
	}
	for _, p := range pts[1:] {
		if got, ok := prob[p.BetID]; !ok || got != p.Probability {
			t.Errorf("probability history: %+v, the bet said %v", p, got)
		}
		delete(prob, p.BetID)
	}
}

// checkMoney: for every user, GET /v1/me, the admin's view of their ledger
// and their own agree: the ledger sums to balance - initial_balance; the
// payouts and creator reward are those the resolution reported.
func checkMoney(t *testing.T, e *env, a *api, users []*user, market, paid, reward int64) {
	t.Helper()
	var payouts, rewards int64
	for _, u := range users {
		r := a.do("GET", "/v1/me", u.Key, nil)
		want(t, r, http.StatusOK, "me")
		var me server.Me
		r.into(t, &me)
		if me.InitialBalance != e.econ.InitialBalance {
			t.Errorf("%s: initial balance %d, want %d", u.Username, me.InitialBalance, e.econ.InitialBalance)
		}
		own := pages[server.LedgerEntry](t, a, "/v1/ledger?limit=3", u.Key)
		byAdmin := pages[server.LedgerEntry](t, a, "/v1/ledger?limit=7&user="+u.Username, e.adminKey)
		if len(own) != len(byAdmin) {
			t.Errorf("%s: ledger has %d entries, %d as the admin sees it", u.Username, len(own), len(byAdmin))
		}
		var sum int64
		for i, l := range own {
			if l.UserID != u.ID {
				t.Errorf("%s: ledger entry of user %d", u.Username, l.UserID)
			}
			if i < len(byAdmin) && !cmp.Equal(byAdmin[i], l) {
				t.Errorf("%s: ledger entry %+v, the admin sees %+v", u.Username, l, byAdmin[i])
			}
			sum += l.Amount
			if l.BalanceAfter != me.InitialBalance+sum {
				t.Errorf("%s: entry %d balance_after %d, want %d", u.Username, l.ID, l.BalanceAfter, me.InitialBalance+sum)
			}
			switch l.Kind {
			case "PAYOUT":
				payouts += l.Amount
			case "CREATOR_REWARD":
				rewards += l.Amount
			}
		}
		if sum != me.Balance-me.InitialBalance {
			t.Errorf("%s: ledger sums to %d, balance %d - initial %d = %d", u.Username, sum, me.Balance,
				me.InitialBalance, me.Balance-me.InitialBalance)
		}
		var pub server.User
		r = a.do("GET", "/v1/users/"+u.Username, "", nil)
		want(t, r, http.StatusOK, "get user")
		r.into(t, &pub)
		if pub != me.User {
			t.Errorf("GET /v1/users/%s: %+v, /v1/me says %+v", u.Username, pub, me.User)
		}
	}
	if payouts != paid || rewards != reward {
		t.Errorf("ledger: payouts %d, creator rewards %d; the resolution reported %d and %d", payouts, rewards, paid, reward)
	}
}

// checkLeaderboard: every user (and the admin), by balance, highest first.
func checkLeaderboard(t *testing.T, a *api, n int) {
	t.Helper()
	lb := pages[server.User](t, a, "/v1/leaderboard?limit=4", "")
	if len(lb) != n {
		t.Errorf("leaderboard: %d users, want %d", len(lb), n)
	}
	if !sort.SliceIsSorted(lb, func(i, j int) bool { return lb[i].Balance > lb[j].Balance }) {
		t.Errorf("leaderboard not by balance, highest first: %+v", lb)
	}
	users := pages[server.User](t, a, "/v1/users?sort=balance&order=desc&limit=5", "")
	if len(users) != n {
		t.Errorf("users: %d, want %d", len(users), n)
	}
}
