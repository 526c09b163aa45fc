package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"socialpredict/database"
)

// OpsHandler serves the ops endpoints, for the ops listener only:
//
//   - /metrics: every metric of the data layer and of the HTTP server;
//   - /healthz: liveness, the process only (never the database): 200;
//   - /readyz: the health checker's cached state: 200 when healthy or
//     degraded, 503 when unhealthy, before the first check, or while
//     shutting down;
//   - /debug/db: the data layer's report (pool, recent slow queries, health,
//     locks, migrations) as JSON.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.HandleFunc("GET /debug/db", s.debugDB)
	return mux
}

// readiness is the body of /readyz.
type readiness struct {
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"`
	// State is the database's health state; CheckedAt when it was checked.
	State     database.HealthState `json:"state,omitempty"`
	CheckedAt *time.Time           `json:"checked_at,omitempty"`
	Checks    any                  `json:"checks,omitempty"`
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if s.stopping.Load() {
		writeJSON(w, http.StatusServiceUnavailable, readiness{Reason: "shutting down"})
		return
	}
	if s.opts.Health == nil {
		writeJSON(w, http.StatusOK, readiness{Ready: true})
		return
	}
	rep, ok := s.opts.Health.Last()
	if !ok {
		writeJSON(w, http.StatusServiceUnavailable, readiness{Reason: "no health check has finished yet"})
		return
	}
	r := readiness{Ready: rep.State != database.Unhealthy, State: rep.State, CheckedAt: &rep.CheckedAt, Checks: rep.Checks}
	status := http.StatusOK
	if !r.Ready {
		r.Reason, status = "database unhealthy", http.StatusServiceUnavailable
	}
	writeJSON(w, status, r)
}

func (s *Server) debugDB(w http.ResponseWriter, r *http.Request) {
	if s.opts.DebugDB == nil {
		http.NotFound(w, r)
		return
	}
	rep, err := s.opts.DebugDB(r.Context())
	if err != nil {
		s.log.Error("debug/db report failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "report failed; see the server log"})
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// writeJSON writes v as indented JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
