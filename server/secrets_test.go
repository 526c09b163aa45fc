package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"socialpredict/database/dbtest"
	"socialpredict/server"
)

// TestNoSecretsInLogsMetricsOrErrors: after a run through every kind of
// request (keys created, listed, revoked and misused; bets, repeats,
// refusals, a 503; resolution), no API key issued in the test, no key hash
// (SHA-256 hex, as stored) and no database password appears in the logs
// (the server's and the data layer's, at their most verbose), in any error
// body, or in /metrics.
func TestNoSecretsInLogsMetricsOrErrors(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine, verboseDataLayer())
		a := e.serve()
		alice, bob := a.createUser("alice"), a.createUser("bob")

		// Keys: created, listed, revoked, then misused.
		r := a.do("POST", "/v1/me/keys", alice.Key, nil)
		want(t, r, http.StatusCreated, "create key")
		var extra server.NewAPIKey
		r.into(t, &extra)
		e.addKey(extra.Key)
		want(t, a.do("GET", "/v1/me/keys", alice.Key, nil), http.StatusOK, "list keys")
		want(t, a.do("DELETE", fmt.Sprintf("/v1/me/keys/%d", extra.ID), alice.Key, nil), http.StatusNoContent, "revoke")
		for _, auth := range []string{"Bearer " + extra.Key, "Bearer " + alice.Key + "x", "Basic " + alice.Key,
			"Bearer x" + bob.Key, alice.Key, "Bearer " + strings.ToUpper(bob.Key)} {
			r := a.do("GET", "/v1/me", "", nil, "Authorization", auth)
			want(t, r, http.StatusUnauthorized, "misused key")
		}

		// Markets and bets, with refusals of each kind.
		m := a.createMarket(alice.Key, "Secrets?", 100*time.Hour)
		bets := fmt.Sprintf("/v1/markets/%d/bets", m.ID)
		want(t, a.bet(bob.Key, m.ID, "YES", 5, "Idempotency-Key", "secret-test"), http.StatusCreated, "bet")
		want(t, a.bet(bob.Key, m.ID, "NO", 5, "Idempotency-Key", "secret-test"), http.StatusUnprocessableEntity, "reused key")
		want(t, a.bet(bob.Key, m.ID, "YES", 1_000_000), http.StatusUnprocessableEntity, "insufficient credits")
		want(t, a.do("POST", bets, bob.Key, `{"outcome":`), http.StatusBadRequest, "malformed JSON")
		want(t, a.do("POST", bets, bob.Key, strings.Repeat("x", 70_000)), http.StatusRequestEntityTooLarge, "too large")
		want(t, a.do("POST", fmt.Sprintf("/v1/markets/%d/resolve", m.ID), bob.Key, map[string]any{"result": "YES"}),
			http.StatusForbidden, "resolve by another")
		want(t, a.do("GET", "/v1/ledger?user=alice", bob.Key, nil), http.StatusForbidden, "another's ledger")
		want(t, a.do("GET", "/v1/markets?cursor="+alice.Key, "", nil), http.StatusBadRequest, "a key as cursor")

		// A 503: the bet waits for a lock past the request's deadline.
		slow := e.serve(func(c *server.Config) { c.RequestTimeout = 100 * time.Millisecond })
		release := e.holdMarket(m.ID)
		want(t, slow.bet(bob.Key, m.ID, "YES", 5), http.StatusServiceUnavailable, "bet past the deadline")
		release()

		want(t, a.do("POST", fmt.Sprintf("/v1/markets/%d/resolve", m.ID), alice.Key, map[string]any{"result": "YES"}),
			http.StatusOK, "resolve")
		for _, u := range []*user{alice, bob} {
			want(t, a.do("GET", "/v1/ledger", u.Key, nil), http.StatusOK, "ledger")
		}

		ops := httptest.NewServer(a.srv.OpsHandler())
		defer ops.Close()
		metrics := get(t, ops.URL+"/metrics")
		want(t, metrics, http.StatusOK, "/metrics")
		if !strings.Contains(string(metrics.Body), "socialpredict_http_requests_total") {
			t.Errorf("/metrics lacks the HTTP metrics:\n%s", metrics.Body)
		}

		a.settle(t) // every access log line is written
		slow.settle(t)
		e.mu.Lock()
		places := map[string]string{"the logs": e.logs.String(), "/metrics": string(metrics.Body),
			"the error bodies": strings.Join(e.bodies, "\n")}
		keys := append([]string(nil), e.keys...)
		e.mu.Unlock()
		if len(keys) < 4 || !strings.Contains(places["the logs"], `"msg":"slow query"`) {
			t.Fatalf("the test did not exercise what it checks: %d keys, logs:\n%s", len(keys), places["the logs"])
		}
		secrets := map[string]string{}
		for i, k := range keys {
			sum := sha256.Sum256([]byte(k))
			secrets[fmt.Sprintf("API key %d", i)] = k
			secrets[fmt.Sprintf("API key %d without its prefix", i)] = strings.TrimPrefix(k, "sp_")
			secrets[fmt.Sprintf("hash of API key %d", i)] = hex.EncodeToString(sum[:])
		}
		if engine == dbtest.Postgres {
			u, err := url.Parse(e.tdb.Config.URL)
			if err != nil {
				t.Fatal(err)
			}
			pw, _ := u.User.Password()
			secrets["database URL"] = e.tdb.Config.URL
			secrets["database user:password"] = u.User.Username() + ":" + pw
			if pw != u.User.Username() {
				secrets["database password"] = pw
			}
		}
		for where, text := range places {
			for what, secret := range secrets {
				if i := strings.Index(text, secret); i >= 0 {
					t.Errorf("%s appears in %s: …%s…", what, where, text[max(0, i-200):min(len(text), i+len(secret)+50)])
				}
			}
		}
	})
}
