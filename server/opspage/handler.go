package opspage

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"socialpredict/internal/dbreport"
)

// Path is where the page is served; its assets, sign-in and actions are
// below it.
const Path = "/debug/db"

// Source is what the page shows and acts on; dbreport.Reporter is one.
type Source interface {
	// Report builds the report; an error is a 500 (sections that fail say
	// so inside the report instead).
	Report(ctx context.Context) (*dbreport.Report, error)
	// Act runs an action; its errors use the errs vocabulary, which gives
	// the HTTP status.
	Act(ctx context.Context, a dbreport.Action) (dbreport.Result, error)
}

// Principal is who is looking at the page.
type Principal struct {
	// Name is the admin's username, or "ops token".
	Name string
	// Admin is true for the admin key: only the admin may act.
	Admin bool
}

// Options configure the page.
type Options struct {
	// Source is the report and its actions; required.
	Source Source
	// Authenticate returns the admin an API key belongs to; an error
	// matching errs.ErrUnauthenticated for an unknown key, errs.ErrForbidden
	// for a key that is not an admin's. Required.
	Authenticate func(ctx context.Context, key string) (Principal, error)
	// OpsToken, when not empty, opens the page read-only.
	OpsToken string
	// Logger receives sign-ins and actions; slog.Default() when nil.
	Logger *slog.Logger
	// Refresh is how often the page refreshes its numbers (default 10s;
	// ?refresh=SECONDS overrides it, 0 turns it off).
	Refresh time.Duration
	// SessionTTL is how long a sign-in lasts (default 12h).
	SessionTTL time.Duration
	// ReportTimeout bounds building a report (default 20s), ActionTimeout
	// running an action (default 25s).
	ReportTimeout, ActionTimeout time.Duration
}

// Handler serves the page; build it with New.
type Handler struct {
	o        Options
	log      *slog.Logger
	mux      *http.ServeMux
	sessions *sessionStore
	tmpl     *template.Template
	assetTag string
}

// New returns the page's handler, to mount at Path and Path+"/". It
// returns an error when a required option is missing.
func New(o Options) (*Handler, error) {
	if o.Source == nil || o.Authenticate == nil {
		return nil, errors.New("opspage: Options.Source and Options.Authenticate are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Refresh == 0 {
		o.Refresh = 10 * time.Second
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.ReportTimeout <= 0 {
		o.ReportTimeout = 20 * time.Second
	}
	if o.ActionTimeout <= 0 {
		o.ActionTimeout = 25 * time.Second
	}
	h := &Handler{o: o, log: o.Logger, mux: http.NewServeMux(), sessions: newSessionStore(o.SessionTTL),
		tmpl: templates, assetTag: assetTag()}
	h.mux.HandleFunc("GET "+Path, h.page)
	h.mux.HandleFunc("GET "+Path+"/{$}", h.page)
	h.mux.Handle("GET "+Path+"/assets/", assetHandler())
	h.mux.HandleFunc("POST "+Path+"/login", h.login)
	h.mux.HandleFunc("POST "+Path+"/logout", h.logout)
	h.mux.HandleFunc("POST "+Path+"/actions", h.action)
	h.mux.HandleFunc(Path+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such page")
	})
	return h, nil
}

// ServeHTTP serves the page, its assets, sign-in and actions.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}
