package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/server/opspage"
)

// OpsHandler serves the ops endpoints, for the ops listener only:
//
//   - /metrics: every metric of the data layer and of the HTTP server;
//   - /healthz: liveness, the process only (never the database): 200;
//   - /readyz: the health checker's cached state: 200 when healthy or
//     degraded, 503 when unhealthy, before the first check, or while
//     shutting down;
//   - /debug/db: the operator's database page (package opspage): HTML, or
//     the report as JSON (?format=json or Accept: application/json), and its
//     actions; it needs the admin key or server.ops_token, and is 404 when
//     Options.DebugDB is nil.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	if s.opts.DebugDB != nil {
		// New fails only without a Source or an authenticator: both are set.
		page, err := opspage.New(opspage.Options{Source: s.opts.DebugDB, Authenticate: s.opsAdmin,
			OpsToken: s.cfg.OpsToken, Logger: s.log})
		if err != nil {
			s.log.Error("the /debug/db page is disabled", "error", err)
			return mux
		}
		mux.Handle(opspage.Path, page)
		mux.Handle(opspage.Path+"/", page)
	}
	return mux
}

// opsAdmin authenticates an API key for the ops page: it must be an
// admin's (errs.ErrForbidden otherwise).
func (s *Server) opsAdmin(ctx context.Context, key string) (opspage.Principal, error) {
	u, err := s.svc.Users.Authenticate(ctx, key)
	if err != nil {
		return opspage.Principal{}, err
	}
	if u.UserType != models.UserTypeAdmin {
		return opspage.Principal{}, errors.Join(errs.ErrForbidden, errors.New("the ops page needs an admin's API key"))
	}
	return opspage.Principal{Name: u.Username, Admin: true}, nil
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

// writeJSON writes v as indented JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
