package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
		Gatherer: prometheus.Gatherers{reg, e.tdb.Handle.Gatherer()}})
	if err != nil {
		e.t.Fatalf("server.New: %v", err)
	}
	return &api{e: e, srv: srv, reg: reg, c: &http.Client{}}
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

// addKey records an issued key.
func (e *env) addKey(k string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = append(e.keys, k)
}
