package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"socialpredict/database/dbtest"
	"socialpredict/server"
)

// badRequest is one request the server must refuse without writing.
type badRequest struct {
	name string
	// via is the server to send it to (nil: the default one).
	via          *api
	method, path string
	key          string
	body         any
	hdr          []string
	status       int
	slug         string
	// location, when set, must be the location of one of errors[].
	location string
	// before runs before the snapshot (e.g. to use up a rate limit).
	before func()
}

// TestBadRequests: each bad request gets its status and problem type (from
// the errs table), as application/problem+json, naming the invalid field;
// none is a 500, and none writes anything (every table is the same after it).
func TestBadRequests(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine)
		a := e.serve()
		limited := e.serve(func(c *server.Config) { c.RateLimit = server.RateLimit{Requests: 2, Window: time.Hour} })
		alice, bob, carol, dan := a.createUser("alice"), a.createUser("bob"), a.createUser("carol"), a.createUser("dan")

		open := a.createMarket(alice.Key, "Open market", 100*time.Hour)
		closing := a.createMarket(alice.Key, "Closing market", 61*time.Minute)
		resolved := a.createMarket(alice.Key, "Resolved market", 100*time.Hour)
		for _, m := range []int64{open.ID, open.ID, resolved.ID} {
			want(t, a.bet(bob.Key, m, "YES", 5), http.StatusCreated, "bet")
		}
		want(t, a.do("POST", fmt.Sprintf("/v1/markets/%d/resolve", resolved.ID), alice.Key, map[string]any{"result": "NO"}),
			http.StatusOK, "resolve")
		e.advance(2 * time.Hour) // closing is now closed

		// carol's second key, revoked.
		r := a.do("POST", "/v1/me/keys", carol.Key, nil)
		want(t, r, http.StatusCreated, "create key")
		var revoked server.NewAPIKey
		r.into(t, &revoked)
		e.addKey(revoked.Key)
		want(t, a.do("DELETE", fmt.Sprintf("/v1/me/keys/%d", revoked.ID), carol.Key, nil), http.StatusNoContent, "revoke key")
		var danKeys []server.APIKey
		a.do("GET", "/v1/me/keys", dan.Key, nil).into(t, &danKeys)

		// Cursors of two lists.
		usersCursor := nextCursor(t, a, "/v1/users?limit=1")
		betsCursor := nextCursor(t, a, fmt.Sprintf("/v1/markets/%d/bets?limit=1", open.ID))

		bets := func(m int64) string { return fmt.Sprintf("/v1/markets/%d/bets", m) }
		bet := func(amount any) map[string]any { return map[string]any{"outcome": "YES", "amount": amount} }
		limit := int64(server.DefaultConfig().MaxBodyBytes)
		huge := `{"outcome":"YES","amount":1,"pad":"` + strings.Repeat("x", int(limit)) + `"}`

		rows := []badRequest{
			// Bodies.
			{name: "malformed JSON", method: "POST", path: bets(open.ID), key: bob.Key, body: `{"outcome":"YES","amount":`,
				status: 400, slug: "invalid-input", location: "body"},
			{name: "not an object", method: "POST", path: bets(open.ID), key: bob.Key, body: `[1]`,
				status: 400, slug: "invalid-input", location: "body"},
			{name: "empty body", method: "POST", path: bets(open.ID), key: bob.Key, body: ``,
				status: 400, slug: "invalid-input"},
			{name: "unknown field", method: "POST", path: bets(open.ID), key: bob.Key,
				body: map[string]any{"outcome": "YES", "amount": 5, "price": 1}, status: 400, slug: "invalid-input", location: "body.price"},
			{name: "missing amount", method: "POST", path: bets(open.ID), key: bob.Key, body: map[string]any{"outcome": "YES"},
				status: 400, slug: "invalid-input", location: "body.amount"},
			{name: "missing outcome", method: "POST", path: bets(open.ID), key: bob.Key, body: map[string]any{"amount": 5},
				status: 400, slug: "invalid-input", location: "body.outcome"},
			{name: "amount of the wrong type", method: "POST", path: bets(open.ID), key: bob.Key, body: bet("5"),
				status: 400, slug: "invalid-input", location: "body.amount"},
			{name: "negative amount", method: "POST", path: bets(open.ID), key: bob.Key, body: bet(-5),
				status: 400, slug: "invalid-input", location: "body.amount"},
			{name: "zero amount", method: "POST", path: bets(open.ID), key: bob.Key, body: bet(0),
				status: 400, slug: "invalid-input", location: "body.amount"},
			{name: "fractional amount", method: "POST", path: bets(open.ID), key: bob.Key, body: bet(1.5),
				status: 400, slug: "invalid-input", location: "body.amount"},
			{name: "amount over the maximum", method: "POST", path: bets(open.ID), key: bob.Key, body: bet(int64(1e15) + 1),
				status: 400, slug: "invalid-input", location: "body.amount"},
			{name: "amount over int64", method: "POST", path: bets(open.ID), key: bob.Key,
				body: `{"outcome":"YES","amount":9223372036854775808}`, status: 400, slug: "invalid-input", location: "body.amount"},
			{name: "amount 1e300", method: "POST", path: bets(open.ID), key: bob.Key,
				body: `{"outcome":"YES","amount":1e300}`, status: 400, slug: "invalid-input", location: "body.amount"},
			{name: "unknown outcome", method: "POST", path: bets(open.ID), key: bob.Key,
				body: map[string]any{"outcome": "MAYBE", "amount": 5}, status: 400, slug: "invalid-input", location: "body.outcome"},
			{name: "body over max_body_bytes", method: "POST", path: bets(open.ID), key: bob.Key, body: huge,
				status: 413, slug: "too-large"},
			{name: "chunked body over max_body_bytes", method: "POST", path: bets(open.ID), key: bob.Key,
				body: io.MultiReader(strings.NewReader(huge)), status: 413, slug: "too-large"},
			{name: "body not JSON", method: "POST", path: bets(open.ID), key: bob.Key, body: `{"outcome":"YES","amount":1}`,
				hdr: []string{"Content-Type", "text/plain"}, status: 415, slug: "unsupported-media-type"},
			{name: "idempotency key too long", method: "POST", path: bets(open.ID), key: bob.Key, body: bet(5),
				hdr: []string{"Idempotency-Key", strings.Repeat("k", 101)}, status: 400, slug: "invalid-input", location: "header.Idempotency-Key"},
			{name: "idempotency key not UTF-8", method: "POST", path: bets(open.ID), key: bob.Key, body: bet(5),
				hdr: []string{"Idempotency-Key", "key-\xff"}, status: 400, slug: "invalid-input", location: "header.Idempotency-Key"},
			{name: "market closing too soon", method: "POST", path: "/v1/markets", key: bob.Key,
				body:   map[string]any{"question_title": "Soon?", "closes_at": e.now().Add(time.Minute)},
				status: 400, slug: "invalid-input", location: "body.closes_at"},
			{name: "blank market title", method: "POST", path: "/v1/markets", key: bob.Key,
				body:   map[string]any{"question_title": "   ", "closes_at": e.now().Add(100 * time.Hour)},
				status: 400, slug: "invalid-input", location: "body.question_title"},
			{name: "market without closes_at", method: "POST", path: "/v1/markets", key: bob.Key,
				body: map[string]any{"question_title": "When?"}, status: 400, slug: "invalid-input", location: "body.closes_at"},
			{name: "bad username", method: "POST", path: "/v1/users", key: e.adminKey,
				body:   map[string]any{"username": "Not OK", "display_name": "X", "email": "x@example.com"},
				status: 400, slug: "invalid-input", location: "body.username"},
			{name: "taken username", method: "POST", path: "/v1/users", key: e.adminKey,
				body:   map[string]any{"username": "alice", "display_name": "Another Alice", "email": "alice2@example.com"},
				status: 409, slug: "conflict"},
			{name: "unknown resolution", method: "POST", path: fmt.Sprintf("/v1/markets/%d/resolve", open.ID), key: alice.Key,
				body: map[string]any{"result": "MAYBE"}, status: 400, slug: "invalid-input", location: "body.result"},

			// Paths and states.
			{name: "market id not a number", method: "POST", path: "/v1/markets/abc/bets", key: bob.Key, body: bet(5),
				status: 400, slug: "invalid-input", location: "path.id"},
			{name: "market id 0", method: "POST", path: bets(0), key: bob.Key, body: bet(5),
				status: 400, slug: "invalid-input", location: "path.id"},
			{name: "unknown market", method: "POST", path: bets(999999), key: bob.Key, body: bet(5), status: 404, slug: "not-found"},
			{name: "closed market", method: "POST", path: bets(closing.ID), key: bob.Key, body: bet(5), status: 409, slug: "market-closed"},
			{name: "resolved market", method: "POST", path: bets(resolved.ID), key: bob.Key, body: bet(5), status: 409, slug: "market-closed"},
			{name: "resolve again", method: "POST", path: fmt.Sprintf("/v1/markets/%d/resolve", resolved.ID), key: alice.Key,
				body: map[string]any{"result": "YES"}, status: 409, slug: "already-resolved"},
			{name: "insufficient credits", method: "POST", path: bets(open.ID), key: bob.Key, body: bet(1_000_000),
				status: 422, slug: "insufficient-credits"},
			{name: "resolve by another user", method: "POST", path: fmt.Sprintf("/v1/markets/%d/resolve", open.ID), key: bob.Key,
				body: map[string]any{"result": "YES"}, status: 403, slug: "forbidden"},
			{name: "resolve an unknown market", method: "POST", path: "/v1/markets/999999/resolve", key: alice.Key,
				body: map[string]any{"result": "YES"}, status: 404, slug: "not-found"},
			{name: "unknown user", method: "GET", path: "/v1/users/nobody", status: 404, slug: "not-found"},
			{name: "ledger of an unknown user", method: "GET", path: "/v1/ledger?user=nobody", key: e.adminKey, status: 404, slug: "not-found"},
			{name: "revoke an unknown key", method: "DELETE", path: "/v1/me/keys/999999", key: dan.Key, status: 404, slug: "not-found"},
			{name: "revoke another user's key", method: "DELETE", path: fmt.Sprintf("/v1/me/keys/%d", danKeys[0].ID), key: carol.Key,
				status: 404, slug: "not-found"},

			// Lists.
			{name: "bad cursor", method: "GET", path: "/v1/markets?cursor=garbage", status: 400, slug: "invalid-input", location: "query.cursor"},
			{name: "cursor from another list", method: "GET", path: "/v1/markets?cursor=" + usersCursor,
				status: 400, slug: "invalid-input", location: "query.cursor"},
			{name: "cursor with another sort", method: "GET", path: fmt.Sprintf("/v1/markets/%d/bets?sort=amount&cursor=%s", open.ID, betsCursor),
				status: 400, slug: "invalid-input", location: "query.cursor"},
			{name: "cursor with another order", method: "GET", path: fmt.Sprintf("/v1/markets/%d/bets?order=desc&cursor=%s", open.ID, betsCursor),
				status: 400, slug: "invalid-input", location: "query.cursor"},
			{name: "cursor of another market", method: "GET", path: fmt.Sprintf("/v1/markets/%d/bets?cursor=%s", resolved.ID, betsCursor),
				status: 400, slug: "invalid-input", location: "query.cursor"},
			{name: "bad sort field", method: "GET", path: "/v1/markets?sort=title", status: 400, slug: "invalid-input", location: "query.sort"},
			{name: "bad order", method: "GET", path: "/v1/users?order=up", status: 400, slug: "invalid-input", location: "query.order"},
			{name: "limit over max_page_size", method: "GET", path: "/v1/markets?limit=101", status: 400, slug: "invalid-input", location: "query.limit"},
			{name: "limit 0", method: "GET", path: "/v1/leaderboard?limit=0", status: 400, slug: "invalid-input", location: "query.limit"},
			{name: "limit not a number", method: "GET", path: "/v1/users?limit=ten", status: 400, slug: "invalid-input", location: "query.limit"},

			// Keys and limits.
			{name: "missing key", method: "POST", path: bets(open.ID), body: bet(5), status: 401, slug: "unauthenticated"},
			{name: "missing key on /v1/me", method: "GET", path: "/v1/me", status: 401, slug: "unauthenticated"},
			{name: "wrong key", method: "POST", path: bets(open.ID), key: "sp_" + strings.Repeat("A", 43), body: bet(5),
				status: 401, slug: "unauthenticated"},
			{name: "wrong key on a public route", method: "GET", path: "/v1/markets", key: "nope", status: 401, slug: "unauthenticated"},
			{name: "not a bearer key", method: "POST", path: bets(open.ID), body: bet(5), hdr: []string{"Authorization", "Basic " + bob.Key},
				status: 401, slug: "unauthenticated"},
			{name: "revoked key", method: "POST", path: bets(open.ID), key: revoked.Key, body: bet(5), status: 401, slug: "unauthenticated"},
			{name: "over the rate limit", via: limited, method: "POST", path: bets(open.ID), key: dan.Key, body: bet(5),
				status: 429, slug: "rate-limited", before: func() {
					for range 2 {
						want(t, limited.do("GET", "/v1/me", dan.Key, nil), http.StatusOK, "GET /v1/me under the limit")
					}
				}},
			{name: "anonymous over the rate limit", via: limited, method: "GET", path: "/v1/markets", status: 429, slug: "rate-limited",
				before: func() {
					for range 2 {
						want(t, limited.do("GET", "/v1/markets", "", nil), http.StatusOK, "GET /v1/markets under the limit")
					}
				}},
		}
		for _, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				via := a
				if row.via != nil {
					via = row.via
				}
				if row.before != nil {
					row.before()
				}
				before := e.snapshot()
				r := via.do(row.method, row.path, row.key, row.body, row.hdr...)
				if r.Status == http.StatusInternalServerError {
					t.Errorf("500: %s", r)
				}
				wantProblem(t, r, row.status, row.slug, row.name)
				if row.location != "" && !hasLocation(r, row.location) {
					t.Errorf("errors[].location: none is %q: %s", row.location, r)
				}
				if row.status == 429 && r.Header.Get("Retry-After") == "" {
					t.Errorf("429 without Retry-After: %v", r.Header)
				}
				if r.Header.Get("X-Request-Id") == "" || r.str("request_id") != r.Header.Get("X-Request-Id") {
					t.Errorf("request_id %q, X-Request-Id %q", r.str("request_id"), r.Header.Get("X-Request-Id"))
				}
				// The type is a problem type of the errs table, served at its URI.
				if doc := a.do("GET", r.str("type"), "", nil); doc.Status != http.StatusOK || doc.str("type") != r.str("type") ||
					doc.obj()["status"] != r.obj()["status"] {
					t.Errorf("GET %s: %s, want the problem type with status %d", r.str("type"), doc, row.status)
				}
				if after := e.snapshot(); after != before {
					t.Errorf("the request wrote to the database:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			})
		}
		if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
			t.Errorf("errors logged:\n%s", e.logs.String())
		}
		e.mustCheck()
	})
}

// hasLocation reports whether one of the problem's errors is at loc.
func hasLocation(r *reply, loc string) bool {
	list, _ := r.obj()["errors"].([]any)
	for _, x := range list {
		if m, _ := x.(map[string]any); m["location"] == loc {
			return true
		}
	}
	return false
}

// nextCursor returns the next_cursor of the first page at path.
func nextCursor(t *testing.T, a *api, path string) string {
	t.Helper()
	r := a.do("GET", path, "", nil)
	want(t, r, http.StatusOK, "GET "+path)
	c := r.str("next_cursor")
	if c == "" {
		t.Fatalf("GET %s: no next_cursor: %s", path, r)
	}
	return c
}
