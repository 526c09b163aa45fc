package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/server"
	"socialpredict/service"
)

var bg = context.Background()

// econ is the economics of every test server: the defaults, with an initial
// balance so that balances move away from zero both ways.
func econ() service.Economics {
	e := service.DefaultEconomics()
	e.InitialBalance = 1000
	return e
}

// testConfig is the server configuration of the tests: free ports, no rate
// limit, the defaults otherwise.
func testConfig() server.Config {
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.OpsListen = ""
	cfg.RateLimit.Requests = 0
	cfg.AdminKeyFile = "unused.key"
	return cfg
}

// logBuffer is a concurrency-safe buffer the servers' JSON logs go to.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a test environment: services on a fresh database of one engine,
// with a clock the test moves, an admin, and the logs of every server built
// on it.
type env struct {
	t      *testing.T
	engine dbtest.Engine
	tdb    *dbtest.TestDB
	dal    *dal.DataAccessLayer
	svc    *service.Services
	econ   service.Economics
	logs   *logBuffer
	log    *slog.Logger
	// offset is added to the wall clock to give the services' time.
	offset atomic.Int64

	admin    *models.User
	adminKey string

	mu sync.Mutex
	// keys are every API key issued in the test; bodies every response body
	// of status 400 or more.
	keys   []string
	bodies []string
}

// envOption changes how newEnv builds the environment.
type envOption func(*envSettings)

type envSettings struct {
	verboseDB bool
}

// verboseDataLayer opens the services' database with the servers' logger,
// as serve does, logging every statement, every query as slow, and on
// PostgreSQL the plan of each slow SELECT: all the data layer can log.
func verboseDataLayer() envOption { return func(s *envSettings) { s.verboseDB = true } }

// newEnv returns an environment on a fresh database of engine.
func newEnv(t *testing.T, engine dbtest.Engine, opts ...envOption) *env {
	t.Helper()
	var set envSettings
	for _, o := range opts {
		o(&set)
	}
	e := &env{t: t, engine: engine, econ: econ(), logs: &logBuffer{}}
	e.log = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, tdb := daltest.New(t, engine)
	e.tdb = tdb
	if set.verboseDB {
		cfg := tdb.Config
		cfg.Monitoring.LogLevel, cfg.Monitoring.EnableQueryLogging = "info", true
		cfg.Monitoring.SlowQueryThreshold, cfg.Monitoring.ExplainSlowQueries = time.Nanosecond, true
		cfg.Monitoring.NPlusOneThreshold = 1
		h, err := database.NewDatabase(bg, cfg, database.WithLogger(e.log))
		if err != nil {
			t.Fatalf("open the database again: %v", err)
		}
		t.Cleanup(func() { h.Close() })
		d = daltest.Wrap(t, h)
	}
	e.dal = d.WithClock(func() time.Time { return time.Now().UTC().Add(time.Duration(e.offset.Load())) })
	e.svc = service.New(e.dal, e.econ)
	b, err := e.svc.Users.EnsureAdmin(bg, service.NewUser{Username: "admin", DisplayName: "Administrator",
		Email: "admin@example.com"}, "")
	if err != nil {
		t.Fatalf("EnsureAdmin: %v", err)
	}
	if !b.Created || b.Key == "" {
		t.Fatalf("EnsureAdmin: created %v, key %q: want a new admin and key", b.Created, b.Key)
	}
	e.admin, e.adminKey = b.Admin, b.Key
	e.keys = append(e.keys, b.Key)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs.String())
		}
	})
	return e
}

// advance moves the services' clock forward.
func (e *env) advance(d time.Duration) { e.offset.Add(int64(d)) }

// now is the services' time.
func (e *env) now() time.Time { return e.svc.Now() }

// api is one server on the environment, serving on a real listener.
type api struct {
	e   *env
	srv *server.Server
	reg *prometheus.Registry
	url string
	c   *http.Client
}

// serve builds a server with the test configuration changed by mods and
// serves it on a real listener until the test ends.
func (e *env) serve(mods ...func(*server.Config)) *api {
	e.t.Helper()
	a := e.build(mods...)
	hs := httptest.NewServer(a.srv.Handler())
	e.t.Cleanup(hs.Close)
	a.url, a.c = hs.URL, hs.Client()
	return a
}

// build builds a server without serving it.
func (e *env) build(mods ...func(*server.Config)) *api {
	e.t.Helper()
	cfg := testConfig()
	for _, m := range mods {
		m(&cfg)
	}
	reg := prometheus.NewRegistry()
	srv, err := server.New(cfg, server.Options{Services: e.svc, Logger: e.log, Registry: reg,
		Gatherer: prometheus.Gatherers{reg, e.tdb.Handle.Gatherer()}, Version: "test"})
	if err != nil {
		e.t.Fatalf("server.New: %v", err)
	}
	return &api{e: e, srv: srv, reg: reg, c: &http.Client{}}
}

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

// addKey records an issued key.
func (e *env) addKey(k string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = append(e.keys, k)
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

// mustCheck fails the test when a money invariant is broken.
func (e *env) mustCheck() {
	e.t.Helper()
	v, err := e.svc.Checker.Check(bg)
	if err != nil {
		e.t.Fatalf("Check: %v", err)
	}
	for _, x := range v {
		e.t.Errorf("invariant broken: %s", x)
	}
}

// tables are the tables a snapshot dumps, with their order.
var tables = []struct{ name, order string }{
	{"users", "id"}, {"api_keys", "id"}, {"markets", "id"}, {"bets", "id"},
	{"positions", "user_id, market_id"}, {"ledger_entries", "id"},
}

// snapshot dumps every row of every table, to compare before and after a
// request that must write nothing.
func (e *env) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	for _, tb := range tables {
		var rows []map[string]any
		if err := e.tdb.DB.Raw("SELECT * FROM " + tb.name + " ORDER BY " + tb.order).Scan(&rows).Error; err != nil {
			e.t.Fatalf("snapshot %s: %v", tb.name, err)
		}
		fmt.Fprintf(&b, "%s: %d rows\n", tb.name, len(rows))
		for _, r := range rows {
			j, _ := json.Marshal(r)
			fmt.Fprintf(&b, "  %s\n", j)
		}
	}
	return b.String()
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

// holdMarket locks a market's row in a write transaction (on SQLite, the
// one write lock) until release is called: bets on it, and on SQLite every
// write, wait meanwhile. release waits for the transaction to end; it is
// also called when the test ends.
func (e *env) holdMarket(marketID int64) (release func()) {
	e.t.Helper()
	locked, unlock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- e.dal.WithTransaction(bg, func(tx *dal.DataAccessLayer) error {
			if _, err := tx.Markets().GetForUpdate(bg, marketID); err != nil {
				return err
			}
			close(locked)
			<-unlock
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-done:
		e.t.Fatalf("lock market %d: %v", marketID, err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(unlock)
			if err := <-done; err != nil {
				e.t.Errorf("the transaction holding market %d: %v", marketID, err)
			}
		})
	}
	e.t.Cleanup(release)
	return release
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
