package opspage_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"socialpredict/database/dbtest"
	"socialpredict/internal/dbreport"
)

// TestWithoutKey: without a credential every page, JSON and action is 401
// and says nothing about the database; the static assets need none.
func TestWithoutKey(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		f := newFixture(t, engine)
		secrets := []string{string(engine), "users", "bets", "migration", "pool", f.tdb.Config.SQLite.Path, "127.0.0.1:5432", opsToken, adminKey}
		if engine == dbtest.Postgres {
			u, _ := url.Parse(f.tdb.Config.URL)
			secrets = append(secrets, strings.TrimPrefix(u.Path, "/"), u.User.Username())
		}
		for _, c := range []struct {
			name, method, path, key, body string
			want                          int
		}{
			{"page", "GET", "/debug/db", "", "", http.StatusUnauthorized},
			{"json", "GET", "/debug/db?format=json", "", "", http.StatusUnauthorized},
			{"accept json", "GET", "/debug/db", "", "", http.StatusUnauthorized},
			{"wrong key", "GET", "/debug/db?format=json", "sp_not-a-key-of-anyone-at-all", "", http.StatusUnauthorized},
			{"a regular user's key", "GET", "/debug/db?format=json", f.userKey, "", http.StatusForbidden},
			{"action", "POST", "/debug/db/actions", "", `{"action":"analyze","table":"users","confirm":true}`, http.StatusUnauthorized},
			{"action with a wrong key", "POST", "/debug/db/actions", "sp_nope-nope-nope-nope", `{"action":"analyze","table":"users","confirm":true}`, http.StatusUnauthorized},
			{"unknown path", "GET", "/debug/db/nothing", "", "", http.StatusNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, body := f.request(t, c.method, c.path, c.key, c.body)
				if status != c.want {
					t.Errorf("%s %s = %d, want %d:\n%s", c.method, c.path, status, c.want, body)
				}
				for _, s := range secrets {
					if s != "" && strings.Contains(body, s) {
						t.Errorf("%s %s without a valid key shows %q:\n%s", c.method, c.path, s, body)
					}
				}
			})
		}
		for _, asset := range []string{"/debug/db/assets/page.css", "/debug/db/assets/page.js", "/debug/db/assets/icon.svg"} {
			if status, body := f.request(t, "GET", asset, "", ""); status != http.StatusOK || len(body) < 100 {
				t.Errorf("GET %s = %d (%d bytes), want the asset", asset, status, len(body))
			}
		}
		if strings.Contains(f.logs.String(), opsToken) || strings.Contains(f.logs.String(), adminKey) {
			t.Errorf("the log holds a key:\n%s", f.logs.String())
		}
	})
}

// TestKeysAndActions: the ops token opens the page and the JSON
// read-only; the admin key may act; an action must be confirmed; every
// action is logged with who asked.
func TestKeysAndActions(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		f := newFixture(t, engine)
		for _, key := range []string{opsToken, adminKey} {
			status, body := f.request(t, "GET", "/debug/db", key, "")
			if status != http.StatusOK || !strings.Contains(body, `id="overview"`) {
				t.Errorf("page with %.6s... = %d:\n%.400s", key, status, body)
			}
			status, body = f.request(t, "GET", "/debug/db", key, "", "Accept", "application/json")
			var r dbreport.Report
			if status != http.StatusOK || json.Unmarshal([]byte(body), &r) != nil || r.Driver != string(engine) {
				t.Errorf("JSON with %.6s... = %d:\n%.400s", key, status, body)
			}
		}
		analyze := `{"action":"analyze","table":"users","confirm":true}`
		if status, body := f.request(t, "POST", "/debug/db/actions", opsToken, analyze); status != http.StatusForbidden || !strings.Contains(body, "admin key") {
			t.Errorf("analyze with the ops token = %d %s, want 403 needing the admin key", status, body)
		}
		if status, body := f.request(t, "POST", "/debug/db/actions", adminKey, `{"action":"analyze","table":"users"}`); status != http.StatusBadRequest || !strings.Contains(body, "confirm") {
			t.Errorf("unconfirmed analyze = %d %s, want 400 asking to confirm", status, body)
		}
		if status, body := f.request(t, "POST", "/debug/db/actions", adminKey, `{"action":"analyze","table":"users; DROP TABLE bets","confirm":true}`); status != http.StatusBadRequest || !strings.Contains(body, "no such table") {
			t.Errorf("analyze of a made-up table = %d %s, want 400", status, body)
		}
		if status, body := f.request(t, "POST", "/debug/db/actions", adminKey, analyze); status != http.StatusOK || !strings.Contains(body, "analyzed") {
			t.Errorf("analyze with the admin key = %d %s", status, body)
		}
		if !strings.Contains(f.logs.String(), `msg="ops action" action="analyze \"users\"" by=admin`) {
			t.Errorf("the action is not logged:\n%s", f.logs.String())
		}
		// integrity_check changes nothing: the ops token may run it, on SQLite.
		status, body := f.request(t, "POST", "/debug/db/actions", opsToken, `{"action":"integrity_check","confirm":true}`)
		switch engine {
		case dbtest.SQLite:
			if status != http.StatusOK || !strings.Contains(body, `"ok"`) {
				t.Errorf("integrity_check = %d %s", status, body)
			}
		default:
			if status != http.StatusConflict || !strings.Contains(body, "not on postgres") {
				t.Errorf("integrity_check on PostgreSQL = %d %s, want 409", status, body)
			}
		}
		if status, body := f.request(t, "POST", "/debug/db/actions", adminKey, `{"action":"cancel","pid":2147483000,"confirm":true}`); engine == dbtest.Postgres && status != http.StatusNotFound {
			t.Errorf("cancel of a session that does not exist = %d %s, want 404", status, body)
		}
	})
}

// TestSignInCookie: the sign-in form sets an HttpOnly, SameSite=Strict
// session cookie; with it, actions need the session's CSRF token and a
// same-origin request; sign-out forgets the session.
func TestSignInCookie(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dbtest.SQLite)
	form := func(key string) string { return url.Values{"key": {key}}.Encode() }
	ct := "application/x-www-form-urlencoded"
	if status, body := f.request(t, "POST", "/debug/db/login", "", form("sp_wrong-wrong-wrong-wrong"), "Content-Type", ct); status != http.StatusUnauthorized || !strings.Contains(body, "not accepted") {
		t.Errorf("sign-in with a wrong key = %d:\n%s", status, body)
	}
	if status, _ := f.request(t, "POST", "/debug/db/login", "", form(f.userKey), "Content-Type", ct); status != http.StatusForbidden {
		t.Errorf("sign-in with a regular user's key = %d, want 403", status)
	}
	if status, _ := f.request(t, "POST", "/debug/db/login", "", form(adminKey), "Content-Type", ct, "Origin", "https://evil.example"); status != http.StatusForbidden {
		t.Errorf("cross-site sign-in = %d, want 403", status)
	}
	req, _ := http.NewRequest("POST", f.url+"/debug/db/login", strings.NewReader(form(adminKey)))
	req.Header.Set("Content-Type", ct)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "sp_ops_session" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/debug/db" {
		t.Fatalf("sign-in = %d, cookie %+v; want 303 and an HttpOnly SameSite=Strict cookie on /debug/db", resp.StatusCode, session)
	}
	if strings.Contains(session.Value, adminKey) {
		t.Error("the cookie holds the key")
	}
	cookie := session.Name + "=" + session.Value
	status, page := f.request(t, "GET", "/debug/db", "", "", "Cookie", cookie)
	if status != http.StatusOK {
		t.Fatalf("page with the cookie = %d", status)
	}
	i := strings.Index(page, `name="csrf-token" content="`)
	if i < 0 {
		t.Fatalf("no CSRF token in the page:\n%.500s", page)
	}
	csrf := page[i+len(`name="csrf-token" content="`):]
	csrf = csrf[:strings.IndexByte(csrf, '"')]
	analyze := `{"action":"analyze","table":"users","confirm":true}`
	for _, c := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"no CSRF token", []string{"Cookie", cookie}, http.StatusForbidden},
		{"wrong CSRF token", []string{"Cookie", cookie, "X-CSRF-Token", "nope"}, http.StatusForbidden},
		{"another origin", []string{"Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", []string{"Cookie", cookie, "X-CSRF-Token", csrf, "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"same origin with the token", []string{"Cookie", cookie, "X-CSRF-Token", csrf, "Origin", f.url}, http.StatusOK},
	} {
		if status, body := f.request(t, "POST", "/debug/db/actions", "", analyze, c.headers...); status != c.want {
			t.Errorf("%s: action = %d %s, want %d", c.name, status, body, c.want)
		}
	}
	if status, _ := f.request(t, "GET", "/debug/db/actions", "", "", "Cookie", cookie); status == http.StatusOK {
		t.Error("GET runs an action")
	}
	if status, _ := f.request(t, "POST", "/debug/db/logout", "", url.Values{"csrf": {csrf}}.Encode(), "Cookie", cookie, "Content-Type", ct); status != http.StatusSeeOther {
		t.Errorf("sign-out = %d, want 303", status)
	}
	if status, _ := f.request(t, "GET", "/debug/db?format=json", "", "", "Cookie", cookie); status != http.StatusUnauthorized {
		t.Errorf("page after sign-out = %d, want 401", status)
	}
}
