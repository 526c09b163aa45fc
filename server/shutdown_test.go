package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"socialpredict/database/dbtest"
	"socialpredict/repository"
	"socialpredict/server"
)

// serving is a server on its own listeners (Listen and Serve), as serve runs
// it.
type serving struct {
	*api
	ls     *server.Listeners
	ops    string
	cancel context.CancelFunc
	// done receives Serve's result.
	done chan error
}

// listenAndServe builds a server with both listeners on free ports and
// serves until stop.
func (e *env) listenAndServe(mods ...func(*server.Config)) *serving {
	e.t.Helper()
	mods = append([]func(*server.Config){func(c *server.Config) {
		c.OpsListen, c.ShutdownTimeout = "127.0.0.1:0", 10*time.Minute
	}}, mods...)
	a := e.build(mods...)
	ls, err := a.srv.Listen()
	if err != nil {
		e.t.Fatal(err)
	}
	a.url = "http://" + ls.Public.Addr().String()
	ctx, cancel := context.WithCancel(bg)
	s := &serving{api: a, ls: ls, ops: "http://" + ls.Ops.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- a.srv.Serve(ctx, ls) }()
	e.t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// waitFor polls cond until it holds; the test fails after a minute. The
// polling only paces the loop: no assertion depends on timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inFlight returns the server's socialpredict_http_requests_in_flight.
func inFlight(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "socialpredict_http_requests_in_flight" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no socialpredict_http_requests_in_flight metric")
	return 0
}

// settle waits until the server has no request in flight: their access
// log lines are written (after the response, before the gauge drops).
func (a *api) settle(t *testing.T) {
	t.Helper()
	waitFor(t, "the requests in flight to end", func() bool { return inFlight(t, a.reg) == 0 })
}

// refused reports whether a new connection to addr is refused.
func refused(addr net.Addr) bool {
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// TestGracefulShutdown: when Serve's context ends while a request is in
// flight (a bet waiting for a lock the test holds), /readyz turns 503, new
// connections are refused, the request still completes with 201 once the
// lock is released, and Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine)
		s := e.listenAndServe()
		alice, bob := s.createUser("alice"), s.createUser("bob")
		m := s.createMarket(alice.Key, "Shut down?", 100*time.Hour)
		want(t, get(t, s.ops+"/readyz"), http.StatusOK, "/readyz while serving")
		want(t, get(t, s.ops+"/healthz"), http.StatusOK, "/healthz while serving")

		release := e.holdMarket(m.ID)
		slow := make(chan *reply, 1)
		go func() {
			r, err := s.send("POST", fmt.Sprintf("/v1/markets/%d/bets", m.ID), bob.Key, map[string]any{"outcome": "YES", "amount": 5})
			if err != nil {
				t.Errorf("the in-flight bet: %v", err)
			}
			slow <- r
		}()
		waitFor(t, "the bet to be in flight", func() bool { return inFlight(t, s.reg) == 1 })

		s.cancel()
		waitFor(t, "shutdown to begin", s.srv.Stopping)
		r := get(t, s.ops+"/readyz")
		want(t, r, http.StatusServiceUnavailable, "/readyz during shutdown")
		if r.obj()["ready"] != false || r.str("reason") != "shutting down" {
			t.Errorf("/readyz during shutdown: %s", r)
		}
		waitFor(t, "new connections to be refused", func() bool { return refused(s.ls.Public.Addr()) })
		select {
		case err := <-s.done:
			t.Fatalf("Serve returned %v with a request in flight", err)
		case r := <-slow:
			t.Fatalf("the bet finished while its market was locked: %v", r)
		default:
		}

		release()
		if r := <-slow; r == nil || r.Status != http.StatusCreated {
			t.Fatalf("the in-flight bet: %v, want 201", r)
		}
		if err := <-s.done; err != nil {
			t.Errorf("Serve: %v, want nil after a clean shutdown", err)
		}
		s.done <- nil // for the cleanup
		if !refused(s.ls.Public.Addr()) || !refused(s.ls.Ops.Addr()) {
			t.Errorf("a listener still accepts connections after Serve returned")
		}
		if got := pages[server.Bet](t, e.serve(), "/v1/users/bob/bets", ""); len(got) != 1 {
			t.Errorf("bob has %d bets after the shutdown, want the one in flight", len(got))
		}
		e.mustCheck()
	})
}

// TestShutdownTimeout: a request still in flight after shutdown_timeout is
// cut off: its connection closes without an answer, its bet is placed whole
// or not at all, and Serve returns an error saying so.
func TestShutdownTimeout(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine)
		s := e.listenAndServe(func(c *server.Config) { c.ShutdownTimeout = 0 })
		alice, bob := s.createUser("alice"), s.createUser("bob")
		m := s.createMarket(alice.Key, "Cut off?", 100*time.Hour)

		release := e.holdMarket(m.ID)
		slow := make(chan error, 1)
		go func() {
			r, err := s.send("POST", fmt.Sprintf("/v1/markets/%d/bets", m.ID), bob.Key, map[string]any{"outcome": "YES", "amount": 5})
			if err == nil {
				err = errors.New("answered " + r.String())
			}
			slow <- err
		}()
		waitFor(t, "the bet to be in flight", func() bool { return inFlight(t, s.reg) == 1 })
		before := e.snapshot()
		s.cancel()
		err := <-s.done
		s.done <- err
		if err == nil {
			t.Errorf("Serve: nil, want an error: a request did not finish within shutdown_timeout")
		}
		if err := <-slow; err == nil {
			t.Errorf("the cut-off bet got a response")
		}
		// The handler gives up (its context ends with the connection); only
		// then is the lock released, so the bet cannot slip in after.
		waitFor(t, "the cut-off request to end", func() bool { return inFlight(t, s.reg) == 0 })
		release()
		// The client got no answer, so the bet may or may not have been
		// placed (a one-statement bet on PostgreSQL already sent is not
		// recalled by a closed connection): at most one bet, never half of
		// one, and the invariants hold. A client retries with its
		// Idempotency-Key.
		if after := e.snapshot(); after != before {
			bets, err := e.svc.Bets.ListByMarket(context.Background(), m.ID, repository.PageRequest{})
			if err != nil || len(bets.Items) != 1 {
				t.Errorf("the cut-off bet changed the database, but not by one bet (%v, %v):\nbefore:\n%s\nafter:\n%s", bets.Items, err, before, after)
			}
		}
		e.mustCheck()
	})
}
