package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"socialpredict/database"
	"socialpredict/server/opspage"
	"socialpredict/service"
)

// Options are what the server runs on.
type Options struct {
	// Services is the application; required.
	Services *service.Services
	// Logger receives the access log and errors; slog.Default() when nil.
	Logger *slog.Logger
	// Registry registers the HTTP metrics, and Gatherer serves /metrics (the
	// data layer's metrics should be in it too). A new registry when nil.
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
	// Health is the database health checker whose cached report /readyz
	// serves (nil: ready whenever not shutting down).
	Health *database.DatabaseHealthChecker
	// DebugDB is what the operator's page at /debug/db shows and acts on
	// (nil: 404); dbreport.Reporter is one.
	DebugDB opspage.Source
}

// authCacheEntries bounds the API-key cache.
const authCacheEntries = 100_000

// APIVersion is the version of the API in the OpenAPI document: it changes
// when the API does, not with every release of the binary.
const APIVersion = "1.0.0"

// Server is the HTTP server: the public API and the ops endpoints.
type Server struct {
	cfg      Config
	svc      *service.Services
	log      *slog.Logger
	opts     Options
	api      huma.API
	mux      *http.ServeMux
	metrics  *httpMetrics
	handler  http.Handler
	auth     *authCache
	stopping atomic.Bool
}

// New builds the server (no listener is opened yet).
func New(cfg Config, o Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Services == nil {
		return nil, errors.New("server: Options.Services is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registry == nil {
		reg := prometheus.NewRegistry()
		o.Registry, o.Gatherer = reg, reg
	}
	if o.Gatherer == nil {
		return nil, errors.New("server: Options.Gatherer is required with Options.Registry")
	}
	s := &Server{cfg: cfg, svc: o.Services, log: o.Logger, opts: o, mux: http.NewServeMux()}
	s.metrics = newHTTPMetrics(o.Registry)
	s.auth = newAuthCache(cfg.AuthCacheTTL, authCacheEntries)
	s.api = newAPI(s.mux)
	s.register()
	s.mux.HandleFunc("/", s.unrouted)
	s.handler = s.observe(s.limitBody(s.authenticate(s.rateLimit(recordRoute(s.mux)))))
	return s, nil
}

// Handler is the public API handler, with every middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// OpenAPI returns the API's OpenAPI 3.1 document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// OpenAPIJSON returns the OpenAPI document as served at /openapi.json, indented,
// as committed in docs/openapi.json.
func (s *Server) OpenAPIJSON() ([]byte, error) {
	b, err := json.MarshalIndent(s.api.OpenAPI(), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Listeners are the open listeners of Serve.
type Listeners struct {
	// Public serves the API; Ops the ops endpoints (nil when disabled).
	Public, Ops net.Listener
}

// Listen opens the configured listeners.
func (s *Server) Listen() (*Listeners, error) {
	pub, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (server.listen): %w", s.cfg.Listen, err)
	}
	ls := &Listeners{Public: pub}
	if s.cfg.OpsListen != "" {
		if ls.Ops, err = net.Listen("tcp", s.cfg.OpsListen); err != nil {
			pub.Close()
			return nil, fmt.Errorf("listen on %s (server.ops_listen): %w", s.cfg.OpsListen, err)
		}
	}
	return ls, nil
}

// Serve serves on ls until ctx ends, then shuts down gracefully: readiness
// turns 503, the listeners stop accepting, in-flight requests get
// shutdown_timeout to finish, then remaining connections are closed. It
// returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ls *Listeners) error {
	public := s.httpServer(s.handler)
	servers := []*http.Server{public}
	errc := make(chan error, 2)
	go func() { errc <- public.Serve(ls.Public) }()
	if ls.Ops != nil {
		ops := s.httpServer(s.OpsHandler())
		servers = append(servers, ops)
		go func() { errc <- ops.Serve(ls.Ops) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("serve: %w", err)
	}
	s.stopping.Store(true)
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	// The public listener first: the ops one keeps answering /readyz with 503
	// until in-flight requests are done.
	if serr := public.Shutdown(sctx); serr != nil {
		public.Close()
		err = errors.Join(err, fmt.Errorf("shutdown: in-flight requests did not finish within %s", s.cfg.ShutdownTimeout))
	}
	for _, srv := range servers[1:] {
		if serr := srv.Shutdown(sctx); serr != nil {
			srv.Close()
		}
	}
	return err
}

// httpServer returns an http.Server for h with the configured timeouts.
func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: s.cfg.ReadTimeout, ReadTimeout: s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.WriteTimeout, IdleTimeout: s.cfg.IdleTimeout, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
}

// Stopping reports whether shutdown has begun.
func (s *Server) Stopping() bool { return s.stopping.Load() }

// newAPI returns the huma API on mux: OpenAPI 3.1 at /openapi.json, no docs
// page (it loads scripts from a CDN), no $schema links in bodies.
func newAPI(mux *http.ServeMux) huma.API {
	cfg := huma.DefaultConfig("SocialPredict API", APIVersion)
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.OpenAPIPath = "/openapi"
	cfg.CreateHooks = nil
	cfg.Info.Description = "The play-money prediction market API. Authenticate with `Authorization: Bearer <api key>`. " +
		"Errors are RFC 9457 problems (application/problem+json) with a stable `type`."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An API key: `Authorization: Bearer sp_...`"},
	}
	return humago.New(mux, cfg)
}

func init() {
	huma.NewErrorWithContext = humaProblem
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return humaProblem(nil, status, msg, errs...)
	}
}

// unrouted answers a request no route took: 405 with Allow when the path
// exists with other methods, else 404.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeProblem(w, newProblem(r.Context(), http.StatusNotFound, "not-found",
			fmt.Sprintf("no route %s %s (see /openapi.json)", r.Method, r.URL.Path)))
		return
	}
	p := newProblem(r.Context(), http.StatusMethodNotAllowed, "method-not-allowed",
		fmt.Sprintf("%s %s: allowed methods are %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, p)
}
