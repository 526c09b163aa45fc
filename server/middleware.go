package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/httprate"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
)

// statusWriter records the status and size of a response, and sets the
// statement-count header just before the headers go out.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	// beforeHeader runs once, right before the status line is written.
	beforeHeader func(h http.Header)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if w.beforeHeader != nil {
			w.beforeHeader(w.Header())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe is the outermost middleware: it gives the request an id (the
// client's X-Request-Id when plain, else a new one) returned in X-Request-Id,
// a logger carrying it, a query-monitoring scope (N+1 detection), the
// database deadline, and records the access log line and the HTTP metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !clientRequestID.MatchString(id) {
			id = newRequestID()
		}
		ri := &requestInfo{id: id, path: r.URL.Path, log: s.log.With("request_id", id), maxBody: s.cfg.MaxBodyBytes}
		ctx := withRequestInfo(r.Context(), ri)
		ctx = database.WithOperationID(ctx, id)
		ctx, scope := database.WithQueryScope(ctx)
		ctx, reads := database.WithReadTracking(ctx)
		ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		defer cancel()
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w, beforeHeader: func(h http.Header) {
			if s.cfg.Debug {
				h.Set("X-Statement-Count", strconv.Itoa(scope.Queries()))
			}
			// A response read from a streaming replica says so, and how far
			// behind the replica was (seconds, as last measured).
			if _, lag, ok := reads.Replica(); ok {
				h.Set("X-Served-By", "replica")
				h.Set("X-Replica-Lag", strconv.FormatFloat(lag.Seconds(), 'f', 3, 64))
			}
		}}
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		r = r.WithContext(ctx)
		serveRecovering(next, sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := ri.route
		if route == "" || route == "/" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.observe(route, r.Method, sw.status, elapsed)
		attrs := []any{"method", r.Method, "route", route, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "duration", elapsed, "statements", scope.Queries()}
		if ri.caller != nil {
			attrs = append(attrs, "user_id", ri.caller.ID)
		}
		if name, lag, ok := reads.Replica(); ok {
			attrs = append(attrs, "replica", name, "replica_lag", lag)
		}
		ri.log.Info("http request", attrs...)
	})
}

// authenticate resolves the Authorization header: no header is an anonymous
// request; a header that is not "Bearer <key>", or a key that is unknown or
// revoked, is 401 whatever the route.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, key, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
			writeProblem(w, problemOf(r.Context(), errors.Join(errs.ErrUnauthenticated,
				errors.New("the Authorization header must be \"Bearer <api key>\""))))
			return
		}
		key = strings.TrimSpace(key)
		now := time.Now()
		u, hash, gen := s.auth.get(key, now)
		var err error
		if u == nil {
			if u, err = s.svc.Users.Authenticate(r.Context(), key); err == nil {
				s.auth.put(hash, u, gen, now)
			}
		}
		if err != nil {
			if errors.Is(err, errs.ErrUnauthenticated) {
				err = errors.Join(errs.ErrUnauthenticated, errors.New("the API key is unknown or revoked"))
			}
			writeProblem(w, problemOf(r.Context(), err))
			return
		}
		requestInfoFrom(r.Context()).caller = u
		// The user's writes open their read-your-writes window: their own
		// stale-OK reads then come from the writer for a while.
		r = r.WithContext(database.WithSession(r.Context(), "user:"+strconv.FormatInt(u.ID, 10)))
		next.ServeHTTP(w, r)
	})
}

// rateLimit limits requests per user, all their API keys together (a user
// can create keys, so a limit per key would not limit them), and per client
// IP when anonymous; admins are exempt unless rate_limit.admins is set.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.cfg.RateLimit.Requests == 0 {
		return next
	}
	limiter := httprate.NewRateLimiter(s.cfg.RateLimit.Requests, s.cfg.RateLimit.Window,
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			p := problemOf(r.Context(), errs.ErrRateLimited)
			p.Detail = "too many requests: at most " + strconv.Itoa(s.cfg.RateLimit.Requests) + " per " +
				s.cfg.RateLimit.Window.String() + "; retry after the Retry-After header's seconds"
			writeProblem(w, p)
		}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := callerFrom(r.Context())
		if u != nil && u.UserType == models.UserTypeAdmin && !s.cfg.RateLimit.Admins {
			next.ServeHTTP(w, r)
			return
		}
		key := "ip:" + remoteIP(r)
		if u != nil {
			key = "user:" + strconv.FormatInt(u.ID, 10)
		}
		if limiter.RespondOnLimit(w, r, key) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// remoteIP is the client's address without the port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return httprate.CanonicalizeIP(host)
}

// limitBody caps every request body at max_body_bytes (huma also refuses
// larger bodies with 413 before decoding).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			p := problemOf(r.Context(), errs.ErrTooLarge)
			p.Detail = "request body is larger than " + strconv.FormatInt(s.cfg.MaxBodyBytes, 10) + " bytes"
			writeProblem(w, p)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes+1)
		next.ServeHTTP(w, r)
	})
}

// serveRecovering serves r and turns a handler's panic into a logged
// internal error: a 500 problem with the request id when nothing was
// written yet. http.ErrAbortHandler is re-panicked, as net/http expects.
func serveRecovering(next http.Handler, sw *statusWriter, r *http.Request) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		loggerFrom(r.Context()).Error("panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if sw.status == 0 {
			p := newProblem(r.Context(), http.StatusInternalServerError, errs.InternalType, "")
			p.Detail = "internal error (request id " + p.RequestID + ")"
			writeProblem(sw, p)
		}
	}()
	next.ServeHTTP(sw, r)
}

// recordRoute notes the route pattern the mux chose in the request's info,
// for observe: middleware between them may pass the mux a new *Request
// (with a context of its own), whose Pattern observe would not see.
func recordRoute(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if ri := requestInfoFrom(r.Context()); ri != nil {
			ri.route = r.Pattern
		}
	})
}
