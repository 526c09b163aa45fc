package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"socialpredict/database/dbtest"
	"socialpredict/server"
)

// The callers of the authorization table.
const (
	anonymous = "anonymous"
	owner     = "user"  // the market's creator, the keys' owner
	other     = "other" // another regular user
	admin     = "admin"
	badKey    = "bad key" // an unknown key
)

var callers = []string{anonymous, owner, other, admin, badKey}

// access is one row of the authorization table: a route, how to call it
// (path and body may create what the call needs) and the status each
// caller gets.
type access struct {
	// route is "METHOD template" as in the OpenAPI document; variant tells
	// rows of the same route apart.
	route, variant string
	path           func(caller string) string
	body           func() any
	want           map[string]int
}

// public: anyone may call; an unknown key is refused all the same.
func public(status int) map[string]int {
	return map[string]int{anonymous: status, owner: status, other: status, admin: status, badKey: 401}
}

// keyed: any valid key may call.
func keyed(status int) map[string]int {
	return map[string]int{anonymous: 401, owner: status, other: status, admin: status, badKey: 401}
}

// TestAuthorization: every route of the OpenAPI document, called by an
// anonymous client, a user, another user, an admin and an unknown key,
// answers the status of the table: a success, or exactly 401, 403 or 404 as
// problems. A route missing from the table fails the test.
func TestAuthorization(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine)
		a := e.serve()
		alice, bob := a.createUser("alice"), a.createUser("bob")
		keys := map[string]string{owner: alice.Key, other: bob.Key, admin: e.adminKey, badKey: "sp_unknown_key_0123456789"}
		m := a.createMarket(alice.Key, "Authorization", 100*time.Hour)
		want(t, a.bet(bob.Key, m.ID, "NO", 3), http.StatusCreated, "bet")

		var seq atomic.Int64
		fixed := func(p string) func(string) string { return func(string) string { return p } }
		market := func(suffix string) func(string) string { return fixed(fmt.Sprintf("/v1/markets/%d%s", m.ID, suffix)) }
		// aliceMarket creates a market of alice's for each call, so that each
		// caller resolves one of its own.
		aliceMarket := func(string) string {
			fresh := a.createMarket(alice.Key, fmt.Sprintf("To resolve %d", seq.Add(1)), 100*time.Hour)
			return fmt.Sprintf("/v1/markets/%d/resolve", fresh.ID)
		}
		// aliceKey creates a key of alice's for each call, for callers to revoke.
		aliceKey := func(string) string {
			r := a.do("POST", "/v1/me/keys", alice.Key, nil)
			want(t, r, http.StatusCreated, "create key")
			var k server.NewAPIKey
			r.into(t, &k)
			e.addKey(k.Key)
			return fmt.Sprintf("/v1/me/keys/%d", k.ID)
		}
		newUser := func() any {
			n := seq.Add(1)
			return map[string]any{"username": fmt.Sprintf("new_%d", n), "display_name": fmt.Sprintf("New %d", n),
				"email": fmt.Sprintf("new%d@example.com", n)}
		}
		newMarket := func() any {
			return map[string]any{"question_title": fmt.Sprintf("New market %d", seq.Add(1)), "closes_at": e.now().Add(100 * time.Hour)}
		}
		betBody := func() any { return map[string]any{"outcome": "YES", "amount": 2} }

		table := []access{
			{route: "GET /v1/users", path: fixed("/v1/users"), want: public(200)},
			{route: "POST /v1/users", path: fixed("/v1/users"), body: newUser,
				want: map[string]int{anonymous: 401, owner: 403, other: 403, admin: 201, badKey: 401}},
			{route: "GET /v1/users/{username}", path: fixed("/v1/users/alice"), want: public(200)},
			{route: "GET /v1/users/{username}/positions", path: fixed("/v1/users/bob/positions"), want: public(200)},
			{route: "GET /v1/users/{username}/bets", path: fixed("/v1/users/bob/bets"), want: public(200)},
			{route: "GET /v1/users/{username}/portfolio", path: fixed("/v1/users/bob/portfolio"), want: public(200)},
			{route: "GET /v1/leaderboard", path: fixed("/v1/leaderboard"), want: public(200)},
			{route: "GET /v1/me", path: fixed("/v1/me"), want: keyed(200)},
			{route: "GET /v1/me/keys", path: fixed("/v1/me/keys"), want: keyed(200)},
			{route: "POST /v1/me/keys", path: fixed("/v1/me/keys"), want: keyed(201)},
			{route: "DELETE /v1/me/keys/{id}", path: aliceKey,
				want: map[string]int{anonymous: 401, owner: 204, other: 404, admin: 404, badKey: 401}},
			{route: "GET /v1/markets", path: fixed("/v1/markets"), want: public(200)},
			{route: "POST /v1/markets", path: fixed("/v1/markets"), body: newMarket, want: keyed(201)},
			{route: "GET /v1/markets/{id}", path: market(""), want: public(200)},
			{route: "GET /v1/markets/{id}/bets", path: market("/bets"), want: public(200)},
			{route: "POST /v1/markets/{id}/bets", path: market("/bets"), body: betBody, want: keyed(201)},
			{route: "GET /v1/markets/{id}/positions", path: market("/positions"), want: public(200)},
			{route: "GET /v1/markets/{id}/probability-history", path: market("/probability-history"), want: public(200)},
			{route: "POST /v1/markets/{id}/resolve", path: aliceMarket, body: func() any { return map[string]any{"result": "N/A"} },
				want: map[string]int{anonymous: 401, owner: 200, other: 403, admin: 200, badKey: 401}},
			{route: "GET /v1/ledger", path: fixed("/v1/ledger"), want: keyed(200)},
			{route: "GET /v1/ledger", variant: "?user=alice", path: fixed("/v1/ledger?user=alice"),
				want: map[string]int{anonymous: 401, owner: 200, other: 403, admin: 200, badKey: 401}},
			{route: "GET /v1/ledger", variant: "?user=nobody", path: fixed("/v1/ledger?user=nobody"),
				want: map[string]int{anonymous: 401, owner: 403, other: 403, admin: 404, badKey: 401}},
			{route: "GET /problems/{slug}", path: fixed("/problems/forbidden"), want: public(200)},
		}

		// The table covers every route of the API, and nothing else.
		ops := operations(a.srv.OpenAPI())
		var covered []string
		for _, row := range table {
			covered = append(covered, row.route)
			if ops[row.route] == nil {
				t.Errorf("the table has %s, which is not a route of the OpenAPI document", row.route)
			}
		}
		for route := range ops {
			if !slices.Contains(covered, route) {
				t.Errorf("route %s is missing from the authorization table", route)
			}
		}

		for _, row := range table {
			for _, c := range callers {
				t.Run(strings.ReplaceAll(row.route+row.variant, "/", "_")+"/"+c, func(t *testing.T) {
					var body any
					if row.body != nil {
						body = row.body()
					}
					path := row.path(c)
					method, _, _ := strings.Cut(row.route, " ")
					r := a.do(method, path, keys[c], body)
					status := row.want[c]
					if status >= 400 {
						wantProblem(t, r, status, map[int]string{401: "unauthenticated", 403: "forbidden", 404: "not-found"}[status],
							method+" "+path+" as "+c)
						return
					}
					if r.Status != status {
						t.Errorf("%s %s as %s: %s, want %d", method, path, c, r, status)
					}
				})
			}
		}
		e.mustCheck()
	})
}
