package server_test

import (
	"net/http"
	"testing"
	"time"

	"socialpredict/database/dbtest"
	"socialpredict/server"
)

// TestRateLimit: the limit is per user, all their keys together (a new key
// does not reset it), each user and anonymous clients (per IP) have their
// own, admins are exempt unless rate_limit.admins; a refusal is a 429
// problem with Retry-After.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.SQLite)
	a := e.serve()
	limit := func(admins bool) func(*server.Config) {
		return func(c *server.Config) { c.RateLimit = server.RateLimit{Requests: 2, Window: time.Hour, Admins: admins} }
	}
	limited, strict := e.serve(limit(false)), e.serve(limit(true))
	alice, bob := a.createUser("alice"), a.createUser("bob")
	r := a.do("POST", "/v1/me/keys", alice.Key, nil)
	want(t, r, http.StatusCreated, "second key")
	var second server.NewAPIKey
	r.into(t, &second)

	for range 2 {
		want(t, limited.do("GET", "/v1/me", alice.Key, nil), http.StatusOK, "alice within the limit")
		want(t, limited.do("GET", "/v1/markets", "", nil), http.StatusOK, "anonymous within the limit")
		want(t, strict.do("GET", "/v1/me", e.adminKey, nil), http.StatusOK, "admin within a limit for admins")
	}
	for _, c := range []struct {
		name string
		via  *api
		key  string
	}{
		{"alice over the limit", limited, alice.Key},
		{"alice's second key", limited, second.Key},
		{"anonymous over the limit", limited, ""},
		{"admin over a limit for admins", strict, e.adminKey},
	} {
		r := c.via.do("GET", "/v1/me", c.key, nil)
		if c.key == "" {
			r = c.via.do("GET", "/v1/markets", "", nil)
		}
		wantProblem(t, r, http.StatusTooManyRequests, "rate-limited", c.name)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", c.name)
		}
	}
	want(t, limited.do("GET", "/v1/me", bob.Key, nil), http.StatusOK, "bob has a limit of his own")
	for range 5 {
		want(t, limited.do("GET", "/v1/me", e.adminKey, nil), http.StatusOK, "admins are exempt by default")
	}
}
