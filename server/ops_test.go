package server_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/server"
)

// opsServer serves the ops handler of a server built with o (Services and
// Logger filled in).
func (e *env) opsServer(o server.Options) (*server.Server, string) {
	e.t.Helper()
	o.Services, o.Logger = e.svc, e.log
	srv, err := server.New(testConfig(), o)
	if err != nil {
		e.t.Fatal(err)
	}
	hs := httptest.NewServer(srv.OpsHandler())
	e.t.Cleanup(hs.Close)
	return srv, hs.URL
}

// TestReadiness: /healthz is always 200; /readyz follows the health
// checker: 503 before its first check, 200 when healthy, 503 once the
// database is unhealthy; without a checker it is 200.
func TestReadiness(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine)
		_, plain := e.opsServer(server.Options{})
		want(t, get(t, plain+"/healthz"), http.StatusOK, "/healthz")
		want(t, get(t, plain+"/readyz"), http.StatusOK, "/readyz without a health checker")

		// A handle of its own, closed below to make the database unhealthy.
		h, err := database.NewDatabase(bg, e.tdb.Config, database.WithLogger(e.log))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		health := h.Health()
		_, ops := e.opsServer(server.Options{Health: health})
		r := get(t, ops+"/readyz")
		want(t, r, http.StatusServiceUnavailable, "/readyz before the first check")
		if r.str("reason") != "no health check has finished yet" {
			t.Errorf("/readyz before the first check: %s", r)
		}
		if _, err := health.Check(bg); err != nil {
			t.Fatal(err)
		}
		r = get(t, ops+"/readyz")
		want(t, r, http.StatusOK, "/readyz when healthy")
		if r.obj()["ready"] != true || r.str("state") != string(database.Healthy) {
			t.Errorf("/readyz when healthy: %s", r)
		}
		h.Close()
		for range e.tdb.Config.HealthCheck.Retries {
			_, err = health.Check(bg)
		}
		if !errors.Is(err, database.ErrUnhealthy) {
			t.Fatalf("health check on a closed handle: %v, want ErrUnhealthy", err)
		}
		r = get(t, ops+"/readyz")
		want(t, r, http.StatusServiceUnavailable, "/readyz when unhealthy")
		if r.obj()["ready"] != false || r.str("reason") != "database unhealthy" {
			t.Errorf("/readyz when unhealthy: %s", r)
		}
		want(t, get(t, ops+"/healthz"), http.StatusOK, "/healthz with the database down")
	})
}

// TestMetricsEndpoint: /metrics serves the HTTP metrics by route pattern
// (unknown paths as "unmatched", never the path itself) and the data
// layer's metrics given in Gatherer.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.SQLite)
	a := e.serve()
	u := a.createUser("metric")
	m := a.createMarket(u.Key, "Counted?", 100*time.Hour)
	want(t, a.bet(u.Key, m.ID, "YES", 3), http.StatusCreated, "bet")
	a.do("GET", "/no/such/path/3f9a", "", nil)
	a.settle(t) // a request is counted after its response is written
	ops := httptest.NewServer(a.srv.OpsHandler())
	defer ops.Close()
	r := get(t, ops.URL+"/metrics")
	want(t, r, http.StatusOK, "/metrics")
	body := string(r.Body)
	for _, line := range []string{
		`socialpredict_http_requests_total{method="POST",route="POST /v1/markets/{id}/bets",status="201"} 1`,
		`socialpredict_http_requests_total{method="POST",route="POST /v1/users",status="201"} 1`,
		`socialpredict_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`socialpredict_http_requests_in_flight 0`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if strings.Contains(body, "3f9a") {
		t.Errorf("/metrics names an unmatched path")
	}
	if !strings.Contains(body, "db_") {
		t.Errorf("/metrics lacks the data layer's metrics")
	}
}

// TestDebugDBWithoutReport: /debug/db is 404 when the server has no report
// source (the page itself is tested in server/opspage).
func TestDebugDBWithoutReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.SQLite)
	_, none := e.opsServer(server.Options{})
	if r := get(t, none+"/debug/db"); r.Status != http.StatusNotFound {
		t.Errorf("/debug/db without a report: %s, want 404", r)
	}
}
