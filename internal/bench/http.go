package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"socialpredict/server"
	"socialpredict/service"
)

// HTTPRow is the HTTP measurement at one concurrency, next to PlaceBet
// called directly at the same worker count in the same run.
type HTTPRow struct {
	// Concurrency is the number of requests kept in flight (load generator
	// workers, one keep-alive connection each).
	Concurrency int `json:"concurrency"`
	// Requests counts the responses (and transport failures); Bets the 2xx
	// responses among them.
	Requests int `json:"requests"`
	Bets     int `json:"bets"`
	// TPS is Bets per second of the whole measurement; P50 and P99 are the
	// latencies of the 2xx responses, as the client saw them.
	TPS float64       `json:"bets_per_second"`
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	// Errors counts the other responses by status code; 0 counts requests
	// that got no response (a transport error or the client's timeout).
	// ErrorSamples holds the first body (or transport error) of each,
	// shortened.
	Errors       map[int]int    `json:"errors_by_status,omitempty"`
	ErrorSamples map[int]string `json:"error_samples,omitempty"`
	// ServiceTPS, ServiceP50 and ServiceP99 are PlaceBet called directly by
	// Concurrency workers, measured in slices alternating with the HTTP
	// ones (the Row of that worker count, or the extra row when
	// Options.Workers lacks it); Ratio is TPS/ServiceTPS.
	ServiceTPS float64       `json:"service_bets_per_second"`
	ServiceP50 time.Duration `json:"service_p50_ns"`
	ServiceP99 time.Duration `json:"service_p99_ns"`
	Ratio      float64       `json:"ratio"`
}

// FiveXX returns the number of 5xx responses.
func (r HTTPRow) FiveXX() int {
	n := 0
	for code, c := range r.Errors {
		if code >= 500 {
			n += c
		}
	}
	return n
}

// Limits of the HTTP measurement.
const (
	// keyWriters is how many API keys are created at once.
	keyWriters = 8
	// httpUsers is how many users (the first ones) get an API key and take
	// turns placing the HTTP bets: at least this many, and at least twice
	// the largest concurrency, so that requests in flight are from distinct
	// users (creating a key is a commit: keys for all of 10,000 users would
	// take seconds).
	httpUsers = 1000
	// sampleLen caps an error sample.
	sampleLen = 300
	// requestTimeout is the load generator's time limit for one request;
	// the server's own request deadline (server.request_timeout, 10s) comes
	// first.
	requestTimeout = 30 * time.Second
)

// giveKeys creates an API key for each user, keyWriters at a time, and
// returns the keys in the order of users.
func giveKeys(ctx context.Context, svc *service.Services, users []int64) ([]string, error) {
	keys := make([]string, len(users))
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range min(keyWriters, len(users)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(users) || ctx.Err() != nil {
					return
				}
				_, secret, err := svc.Users.CreateKey(ctx, users[i])
				if err != nil {
					mu.Lock()
					first = cmpOr(first, fmt.Errorf("create the API key of user %d: %w", users[i], err))
					mu.Unlock()
					next.Store(int64(len(users)))
					return
				}
				keys[i] = secret
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return keys, first
}

// cmpOr returns a when it is not nil, else b.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// httpServer is the real API server, in process on a free loopback port.
type httpServer struct {
	// base is the server's URL, "http://127.0.0.1:PORT".
	base   string
	cancel context.CancelFunc
	done   chan error
}

// startServer starts the API server on svc with the rate limit off, the
// ops listener off, and log lines below warn dropped (the access log is at
// info).
func startServer(ctx context.Context, svc *service.Services, log *slog.Logger) (*httpServer, error) {
	cfg := server.DefaultConfig()
	cfg.Listen, cfg.OpsListen = "127.0.0.1:0", ""
	cfg.RateLimit.Requests = 0
	cfg.ShutdownTimeout = 5 * time.Second
	srv, err := server.New(cfg, server.Options{Services: svc,
		Logger: slog.New(minLevel{Handler: log.Handler(), min: slog.LevelWarn})})
	if err != nil {
		return nil, err
	}
	ls, err := srv.Listen()
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &httpServer{base: "http://" + ls.Public.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(sctx, ls) }()
	return s, nil
}

// stop shuts the server down and returns Serve's error.
func (s *httpServer) stop() error {
	s.cancel()
	return <-s.done
}

// minLevel drops the records below min before they reach the handler.
type minLevel struct {
	slog.Handler
	min slog.Level
}

// Enabled reports whether l is at least min and the handler takes it.
func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// WithAttrs keeps the filter on the derived handler.
func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

// WithGroup keeps the filter on the derived handler.
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// betTargets makes the requests: user after user in turn (each request
// another user, as long as there are more users than requests in flight),
// and, like placeBets, a random market, outcome and amount of 1 to 10.
type betTargets struct {
	urls    []string
	headers []http.Header
	bodies  [][]byte
	next    atomic.Uint64
}

// newBetTargets returns the targets on the server at base for the users'
// keys and the markets.
func newBetTargets(base string, keys []string, markets []int64) *betTargets {
	t := &betTargets{}
	for _, m := range markets {
		t.urls = append(t.urls, base+"/v1/markets/"+strconv.FormatInt(m, 10)+"/bets")
	}
	for _, k := range keys {
		t.headers = append(t.headers, http.Header{"Authorization": {"Bearer " + k}, "Content-Type": {"application/json"}})
	}
	for _, outcome := range []string{"YES", "NO"} {
		for amount := 1; amount <= 10; amount++ {
			t.bodies = append(t.bodies, fmt.Appendf(nil, `{"outcome":%q,"amount":%d}`, outcome, amount))
		}
	}
	return t
}

// target is the vegeta.Targeter; the load generator's workers call it
// concurrently.
func (t *betTargets) target(tgt *vegeta.Target) error {
	i := t.next.Add(1) - 1
	tgt.Method = http.MethodPost
	tgt.URL = t.urls[rand.IntN(len(t.urls))]
	tgt.Header = t.headers[i%uint64(len(t.headers))]
	tgt.Body = t.bodies[rand.IntN(len(t.bodies))]
	return nil
}

// httpSample is what one HTTP measurement (or several slices of one)
// collected: the 2xx responses in sample, the others counted by status.
type httpSample struct {
	sample
	requests     int
	errors       map[int]int
	errorSamples map[int]string
}

// add merges another slice of the same measurement into h.
func (h *httpSample) add(o httpSample) {
	h.sample.add(o.sample)
	h.requests += o.requests
	for code, n := range o.errors {
		h.errors[code] += n
		if _, ok := h.errorSamples[code]; !ok {
			h.errorSamples[code] = o.errorSamples[code]
		}
	}
}

// newClient returns the load generator's HTTP client for c requests in
// flight: c keep-alive connections at most, all kept open between the
// slices of a measurement; plain HTTP/1.1 on loopback, no proxy.
func newClient(c int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: c,
		MaxConnsPerHost:     c,
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// httpBets drives the targets with c requests in flight for d, as fast as
// the server answers: vegeta's zero rate (vegeta.Rate{}) with exactly c
// workers on client's connections.
func httpBets(ctx context.Context, client *http.Client, t *betTargets, c int, d time.Duration) httpSample {
	atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(uint64(c)), vegeta.MaxWorkers(uint64(c)),
		vegeta.MaxBody(sampleLen))
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	out := httpSample{errors: map[int]int{}, errorSamples: map[int]string{}}
	start := time.Now()
	for res := range atk.Attack(t.target, vegeta.Rate{}, d, "bench") {
		out.requests++
		code := int(res.Code)
		if code >= 200 && code < 300 {
			out.latencies = append(out.latencies, res.Latency)
			continue
		}
		out.errors[code]++
		if _, ok := out.errorSamples[code]; !ok {
			text := string(res.Body)
			if code == 0 {
				text = res.Error
			}
			if len(text) > sampleLen {
				text = text[:sampleLen] + "…"
			}
			out.errorSamples[code] = text
		}
	}
	out.elapsed = time.Since(start)
	return out
}

// sliceLen is the length each slice of a paired measurement aims at: short
// enough that PlaceBet and HTTP see the same machine (other work on a
// shared machine comes and goes within seconds), long enough that starting
// and draining the requests in flight does not count.
const sliceLen = 2 * time.Second

// maxSlices caps the slices of a paired measurement.
const maxSlices = 10

// slicesOf returns how many slices a measurement of d takes.
func slicesOf(d time.Duration) int { return max(1, min(maxSlices, int(d/sliceLen))) }

// httpRun is the HTTP side of a run: the server and the requests.
type httpRun struct {
	o       Options
	srv     *httpServer
	targets *betTargets
}

// startHTTP gives the first users (httpUsers, or twice the largest
// concurrency) an API key each and starts the server on svc.
func startHTTP(ctx context.Context, o Options, svc *service.Services, users, markets []int64) (*httpRun, error) {
	bettors := users[:min(len(users), max(httpUsers, 2*slices.Max(o.HTTPConcurrency)))]
	o.Log.Info("creating API keys", "users", len(bettors))
	keys, err := giveKeys(ctx, svc, bettors)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, svc, o.Log)
	if err != nil {
		return nil, err
	}
	return &httpRun{o: o, srv: srv, targets: newBetTargets(srv.base, keys, markets)}, nil
}

// paired measures PlaceBet called directly by c workers and the HTTP path
// with c requests in flight, each for Options.Duration in all, in
// alternating slices (slicesOf; direct first in even slices, HTTP first in
// odd ones), so that both see the same machine. It returns the direct Row
// and the HTTP row next to it. With Options.HTTPProfile it writes the CPU
// profile of the whole paired measurement (both kinds of slices: the HTTP
// ones are the stacks under net/http) to ProfilePath(HTTPProfile, c).
func (h *httpRun) paired(ctx context.Context, svc *service.Services, users, markets []int64, c int) (Row, HTTPRow, error) {
	if h.o.HTTPProfile != "" {
		f, err := os.Create(ProfilePath(h.o.HTTPProfile, c))
		if err != nil {
			return Row{}, HTTPRow{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return Row{}, HTTPRow{}, err
		}
		defer pprof.StopCPUProfile()
	}
	n := slicesOf(h.o.Duration)
	d := h.o.Duration / time.Duration(n)
	h.o.Log.Info("PlaceBet, one statement, and POST /v1/markets/{id}/bets, in alternating slices",
		"workers", c, "duration", h.o.Duration, "slices", n, "server", h.srv.base)
	client := newClient(c)
	defer client.CloseIdleConnections()
	var direct sample
	web := httpSample{errors: map[int]int{}, errorSamples: map[int]string{}}
	for i := range n {
		for j := range 2 {
			if (i+j)%2 == 0 {
				direct.add(placeBets(ctx, svc, users, markets, c, d))
			} else {
				web.add(httpBets(ctx, client, h.targets, c, d))
			}
		}
		if err := ctx.Err(); err != nil {
			return Row{}, HTTPRow{}, err
		}
	}
	dr := direct.row(c)
	row := HTTPRow{Concurrency: c, Requests: web.requests, ServiceTPS: dr.BetTPS, ServiceP50: dr.BetP50, ServiceP99: dr.BetP99}
	row.Bets, row.TPS, row.P50, row.P99 = web.summary()
	if len(web.errors) > 0 {
		row.Errors, row.ErrorSamples = web.errors, web.errorSamples
	}
	if row.ServiceTPS > 0 {
		row.Ratio = row.TPS / row.ServiceTPS
	}
	return dr, row, nil
}

// stop stops the server.
func (h *httpRun) stop() error { return h.srv.stop() }

// ProfilePath is the file that receives the CPU profile of the HTTP
// measurement at concurrency c: "-cC" inserted before path's extension
// (cpu.pprof: cpu-c8.pprof).
func ProfilePath(path string, c int) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-c" + strconv.Itoa(c) + ext
}
