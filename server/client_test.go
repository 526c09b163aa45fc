package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"socialpredict/server"
)

// reply is a response, its body read and, when JSON, decoded.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
	// JSON is the decoded body (nil when not JSON).
	JSON any
}

// obj returns the body as a JSON object.
func (r *reply) obj() map[string]any {
	m, _ := r.JSON.(map[string]any)
	return m
}

// str returns a string field of the body.
func (r *reply) str(field string) string {
	s, _ := r.obj()[field].(string)
	return s
}

// into decodes the body into v.
func (r *reply) into(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s into %T: %v", r.Body, v, err)
	}
}

func (r *reply) String() string { return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body)) }

// do sends a request with key ("" for none) and body (nil: none; string or
// []byte: sent as is; else JSON-encoded); hdr are header name, value pairs.
// Transport errors fail the test.
func (a *api) do(method, path, key string, body any, hdr ...string) *reply {
	a.e.t.Helper()
	r, err := a.send(method, path, key, body, hdr...)
	if err != nil {
		a.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// send is do returning transport errors; safe from any goroutine.
func (a *api) send(method, path, key string, body any, hdr ...string) (*reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &r.JSON)
	}
	if r.Status >= 400 {
		a.e.mu.Lock()
		a.e.bodies = append(a.e.bodies, string(b))
		a.e.mu.Unlock()
	}
	return r, nil
}

// want fails the test unless r has status.
func want(t testing.TB, r *reply, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: got %s, want status %d", what, r, status)
	}
}

// wantProblem fails the test unless r is a problem of status and type
// ProblemTypeBase+slug.
func wantProblem(t testing.TB, r *reply, status int, slug, what string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: got %s, want status %d", what, r, status)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if got := r.str("type"); got != server.ProblemTypeBase+slug {
		t.Errorf("%s: problem type %q, want %q (%s)", what, got, server.ProblemTypeBase+slug, r)
	}
	if got, _ := r.obj()["status"].(float64); int(got) != status {
		t.Errorf("%s: problem status %v, want %d", what, r.obj()["status"], status)
	}
}

// user is a user created through the API, with its key.
type user struct {
	server.Me
	Key string
}

// createUser creates a regular user through POST /v1/users as the admin.
func (a *api) createUser(name string) *user {
	a.e.t.Helper()
	r := a.do("POST", "/v1/users", a.e.adminKey, map[string]any{"username": name,
		"display_name": "User " + name, "email": name + "@example.com"})
	want(a.e.t, r, http.StatusCreated, "create user "+name)
	var out struct {
		User   server.Me        `json:"user"`
		APIKey server.NewAPIKey `json:"api_key"`
	}
	r.into(a.e.t, &out)
	if out.APIKey.Key == "" || out.User.Username != name {
		a.e.t.Fatalf("create user %s: %s", name, r)
	}
	a.e.addKey(out.APIKey.Key)
	return &user{Me: out.User, Key: out.APIKey.Key}
}

// createMarket creates a market closing after d through the API as key's
// user.
func (a *api) createMarket(key, title string, d time.Duration) server.Market {
	a.e.t.Helper()
	r := a.do("POST", "/v1/markets", key, map[string]any{"question_title": title,
		"closes_at": a.e.now().Add(d).Format(time.RFC3339Nano)})
	want(a.e.t, r, http.StatusCreated, "create market "+title)
	var m server.Market
	r.into(a.e.t, &m)
	return m
}

// bet places a bet through the API and returns the reply.
func (a *api) bet(key string, market int64, outcome string, amount int64, hdr ...string) *reply {
	a.e.t.Helper()
	return a.do("POST", fmt.Sprintf("/v1/markets/%d/bets", market), key,
		map[string]any{"outcome": outcome, "amount": amount}, hdr...)
}

// pages reads every page of a list at path (which has no query string or
// ends with one), following next_cursor, and returns the items.
func pages[T any](t testing.TB, a *api, path, key string) []T {
	t.Helper()
	var all []T
	cursor := ""
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for n := 0; ; n++ {
		if n > 1000 {
			t.Fatalf("%s: more than 1000 pages", path)
		}
		p := path
		if cursor != "" {
			p += sep + "cursor=" + cursor
		}
		r := a.do("GET", p, key, nil)
		want(t, r, http.StatusOK, "GET "+p)
		var page server.Page[T]
		r.into(t, &page)
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// get reads url with a plain client (for the ops handler).
func get(t testing.TB, url string) *reply {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	r := &reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
	_ = json.Unmarshal(b, &r.JSON)
	return r
}
