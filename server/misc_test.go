package server_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"socialpredict/database/dbtest"
	"socialpredict/server"
)

// TestUnknownRoutes: a path the API does not have is a 404 problem naming
// it; a path it has with another method is a 405 problem with Allow.
func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.SQLite)
	a := e.serve()
	for _, c := range []struct{ method, path, allow string }{
		{"PUT", "/v1/markets", "GET, POST"}, {"DELETE", "/v1/users/admin", "GET"}, {"GET", "/v1/markets/1/resolve", "POST"},
	} {
		r := a.do(c.method, c.path, "", nil)
		wantProblem(t, r, http.StatusMethodNotAllowed, "method-not-allowed", c.method+" "+c.path)
		if got := r.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/nope"}, {"GET", "/v1"}, {"GET", "/v1/nope"},
		{"POST", "/v1/markets/1/nope"}, {"GET", "/v1/markets/1/bets/2"},
	} {
		r := a.do(c.method, c.path, "", nil)
		wantProblem(t, r, http.StatusNotFound, "not-found", c.method+" "+c.path)
		if !strings.Contains(r.str("detail"), c.method+" "+c.path) || r.str("instance") != c.path {
			t.Errorf("%s %s: %s; want the route named", c.method, c.path, r)
		}
	}
	r := a.do("GET", "/openapi.json", "", nil)
	want(t, r, http.StatusOK, "/openapi.json")
	if _, ok := r.obj()["paths"].(map[string]any)["/v1/markets/{id}/bets"]; !ok {
		t.Errorf("/openapi.json lacks the bets route: %.300s", r.Body)
	}
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// TestRequestID: a plain X-Request-Id of the client is echoed, in the header,
// the problem and the access log; any other gets a fresh id.
func TestRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.SQLite)
	a := e.serve()
	for _, c := range []struct {
		sent string
		echo bool
	}{
		{"client-id_1.2", true}, {strings.Repeat("a", 64), true}, {"", false}, {strings.Repeat("a", 65), false},
		{"has space", false}, {"semi;colon", false}, {"é", false},
	} {
		var hdr []string
		if c.sent != "" {
			hdr = []string{"X-Request-Id", c.sent}
		}
		r := a.do("GET", "/v1/markets/999", "", nil, hdr...)
		got := r.Header.Get("X-Request-Id")
		switch {
		case c.echo && got != c.sent:
			t.Errorf("X-Request-Id %q: answered %q, want it echoed", c.sent, got)
		case !c.echo && !generatedID.MatchString(got):
			t.Errorf("X-Request-Id %q: answered %q, want a new 16-hex-digit id", c.sent, got)
		}
		if r.str("request_id") != got {
			t.Errorf("X-Request-Id %q: problem request_id %q, header %q", c.sent, r.str("request_id"), got)
		}
		a.settle(t) // the access log line is written after the response
		if !strings.Contains(e.logs.String(), fmt.Sprintf(`"request_id":%q`, got)) {
			t.Errorf("X-Request-Id %q: no log line with request_id %q", c.sent, got)
		}
	}
	// A success carries one too.
	if r := a.do("GET", "/v1/markets", "", nil, "X-Request-Id", "ok-1"); r.Header.Get("X-Request-Id") != "ok-1" {
		t.Errorf("GET /v1/markets: X-Request-Id %q, want ok-1", r.Header.Get("X-Request-Id"))
	}
}

// TestDatabaseTimeoutIs503: a request whose database work outlasts
// request_timeout (a bet waiting for a lock) is a 503 problem with
// Retry-After, not a 500, logged as a warning, and writes nothing.
func TestDatabaseTimeoutIs503(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine)
		a := e.serve()
		slow := e.serve(func(c *server.Config) { c.RequestTimeout = 100 * time.Millisecond })
		alice, bob := a.createUser("alice"), a.createUser("bob")
		m := a.createMarket(alice.Key, "Too slow?", 100*time.Hour)

		release := e.holdMarket(m.ID)
		before := e.snapshot()
		r := slow.bet(bob.Key, m.ID, "YES", 5)
		wantProblem(t, r, http.StatusServiceUnavailable, "unavailable", "bet past request_timeout")
		if ra := r.Header.Get("Retry-After"); ra == "" {
			t.Errorf("503 without Retry-After: %v", r.Header)
		}
		release()
		if after := e.snapshot(); after != before {
			t.Errorf("the timed-out bet wrote to the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		logs := e.logs.String()
		if strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, `"msg":"database unavailable"`) {
			t.Errorf("want the 503 logged as a warning, no error:\n%s", logs)
		}
		// Once the lock is gone the same bet goes through (on a server with
		// the default request_timeout: nothing here may depend on speed).
		want(t, a.bet(bob.Key, m.ID, "YES", 5), http.StatusCreated, "bet after the lock")
		e.mustCheck()
	})
}

// TestStatementCountHeader: with server.debug, responses carry the number
// of SQL statements the request ran; without it, they do not.
func TestStatementCountHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.SQLite)
	plain, debug := e.serve(), e.serve(func(c *server.Config) { c.Debug = true })
	if h := plain.do("GET", "/v1/markets", "", nil).Header.Get("X-Statement-Count"); h != "" {
		t.Errorf("X-Statement-Count %q without server.debug", h)
	}
	r := debug.do("GET", "/v1/users/admin", "", nil)
	want(t, r, http.StatusOK, "get user")
	if h := r.Header.Get("X-Statement-Count"); h != "1" {
		t.Errorf("GET /v1/users/admin: X-Statement-Count %q, want 1", h)
	}
	r = debug.do("GET", "/v1/me", e.adminKey, nil)
	if h := r.Header.Get("X-Statement-Count"); h != "2" {
		t.Errorf("GET /v1/me: X-Statement-Count %q, want 2 (the key, then the user)", h)
	}
}
