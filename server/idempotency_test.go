package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"socialpredict/database/dbtest"
	"socialpredict/server"
)

// TestIdempotencyKey: a bet repeated with its Idempotency-Key, one after the
// other or concurrently, is placed and charged once, and every repeat gets
// the first response (201, the same body); the key sent with a different
// bet is 422 idempotency-key-reused and writes nothing; keys are per user.
func TestIdempotencyKey(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine)
		a := e.serve()
		alice, bob := a.createUser("alice"), a.createUser("bob")
		m := a.createMarket(alice.Key, "Idempotent?", 100*time.Hour)
		m2 := a.createMarket(alice.Key, "Another market", 100*time.Hour)

		// One after the other.
		first := a.bet(bob.Key, m.ID, "YES", 10, "Idempotency-Key", "k-1")
		want(t, first, http.StatusCreated, "first bet")
		again := a.bet(bob.Key, m.ID, "YES", 10, "Idempotency-Key", "k-1")
		want(t, again, http.StatusCreated, "repeated bet")
		if !bytes.Equal(first.Body, again.Body) {
			t.Errorf("repeated bet: body\n%s\nwant the first response's\n%s", again.Body, first.Body)
		}
		wantBets(t, a, bob, 1)
		wantBalance(t, a, bob, e.econ.InitialBalance-10-e.econ.BuySharesFee-e.econ.InitialBetFee)

		// Concurrently: 8 requests with a new key.
		const n = 8
		var (
			wg      sync.WaitGroup
			replies [n]*reply
			errs    [n]error
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				replies[i], errs[i] = a.send("POST", fmt.Sprintf("/v1/markets/%d/bets", m.ID), bob.Key,
					map[string]any{"outcome": "NO", "amount": 7}, "Idempotency-Key", "k-2")
			}()
		}
		wg.Wait()
		for i, r := range replies {
			if errs[i] != nil {
				t.Fatalf("concurrent bet %d: %v", i, errs[i])
			}
			if r.Status != http.StatusCreated || !bytes.Equal(r.Body, replies[0].Body) {
				t.Errorf("concurrent bet %d: %s; want 201 and the body %s", i, r, replies[0].Body)
			}
		}
		wantBets(t, a, bob, 2)
		wantBalance(t, a, bob, e.econ.InitialBalance-10-7-2*e.econ.BuySharesFee-e.econ.InitialBetFee)

		// The key with another bet: refused, nothing written.
		for _, c := range []struct {
			name    string
			market  int64
			outcome string
			amount  int64
		}{
			{"another amount", m.ID, "YES", 11},
			{"another outcome", m.ID, "NO", 10},
			{"another market", m2.ID, "YES", 10},
		} {
			before := e.snapshot()
			r := a.bet(bob.Key, c.market, c.outcome, c.amount, "Idempotency-Key", "k-1")
			wantProblem(t, r, http.StatusUnprocessableEntity, "idempotency-key-reused", c.name)
			if after := e.snapshot(); after != before {
				t.Errorf("%s: the refused bet wrote to the database:\nbefore:\n%s\nafter:\n%s", c.name, before, after)
			}
		}

		// Keys are per user: alice's k-1 is a bet of her own.
		r := a.bet(alice.Key, m.ID, "YES", 10, "Idempotency-Key", "k-1")
		want(t, r, http.StatusCreated, "alice's k-1")
		var mine, bobs server.Bet
		r.into(t, &mine)
		first.into(t, &bobs)
		if mine.ID == bobs.ID || mine.UserID != alice.ID {
			t.Errorf("alice's bet with bob's key: %+v; bob's was %+v", mine, bobs)
		}
		e.mustCheck()
	})
}

// wantBets fails the test unless u has n bets.
func wantBets(t *testing.T, a *api, u *user, n int) {
	t.Helper()
	if got := pages[server.Bet](t, a, "/v1/users/"+u.Username+"/bets", ""); len(got) != n {
		t.Errorf("%s has %d bets, want %d: %+v", u.Username, len(got), n, got)
	}
}

// wantBalance fails the test unless u's balance is balance.
func wantBalance(t *testing.T, a *api, u *user, balance int64) {
	t.Helper()
	var me server.Me
	r := a.do("GET", "/v1/me", u.Key, nil)
	want(t, r, http.StatusOK, "me")
	r.into(t, &me)
	if me.Balance != balance {
		t.Errorf("%s: balance %d, want %d", u.Username, me.Balance, balance)
	}
}
