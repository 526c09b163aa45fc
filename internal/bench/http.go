package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	// Concurrency workers, measured right before (the Row of that worker
	// count, or a measurement made for this row when Options.Workers lacks
	// it); Ratio is TPS/ServiceTPS.
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
	srv, err := server.New(cfg, server.Options{Services: svc, Version: "bench",
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

// httpBets drives the targets with c requests in flight for d, as fast as
// the server answers (vegeta's zero rate with exactly c workers and c
// connections), and returns the measurement.
func httpBets(ctx context.Context, t *betTargets, c int, d time.Duration) HTTPRow {
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(c)), vegeta.MaxWorkers(uint64(c)),
		vegeta.Connections(c), vegeta.MaxConnections(c), vegeta.KeepAlive(true),
		vegeta.Timeout(requestTimeout), vegeta.Redirects(vegeta.NoFollow), vegeta.MaxBody(sampleLen))
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	row := HTTPRow{Concurrency: c, Errors: map[int]int{}, ErrorSamples: map[int]string{}}
	var latencies []time.Duration
	start := time.Now()
	for res := range atk.Attack(t.target, vegeta.Rate{}, d, "bench") {
		row.Requests++
		code := int(res.Code)
		if code >= 200 && code < 300 {
			latencies = append(latencies, res.Latency)
			continue
		}
		row.Errors[code]++
		if _, ok := row.ErrorSamples[code]; !ok {
			sample := string(res.Body)
			if code == 0 {
				sample = res.Error
			}
			if len(sample) > sampleLen {
				sample = sample[:sampleLen] + "…"
			}
			row.ErrorSamples[code] = sample
		}
	}
	elapsed := time.Since(start)
	row.Bets = len(latencies)
	if len(latencies) > 0 {
		slices.Sort(latencies)
		row.TPS = float64(len(latencies)) / elapsed.Seconds()
		row.P50, row.P99 = latencies[len(latencies)/2], latencies[len(latencies)*99/100]
	}
	return row
}

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

// measure runs the HTTP measurement at concurrency c and puts it next to
// direct, PlaceBet at c workers. With Options.HTTPProfile it writes the
// CPU profile of the measurement to ProfilePath(HTTPProfile, c).
func (h *httpRun) measure(ctx context.Context, c int, direct Row) (HTTPRow, error) {
	if h.o.HTTPProfile != "" {
		f, err := os.Create(ProfilePath(h.o.HTTPProfile, c))
		if err != nil {
			return HTTPRow{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return HTTPRow{}, err
		}
		defer pprof.StopCPUProfile()
	}
	h.o.Log.Info("POST /v1/markets/{id}/bets", "concurrency", c, "duration", h.o.Duration, "server", h.srv.base)
	row := httpBets(ctx, h.targets, c, h.o.Duration)
	row.ServiceTPS, row.ServiceP50, row.ServiceP99 = direct.BetTPS, direct.BetP50, direct.BetP99
	if row.ServiceTPS > 0 {
		row.Ratio = row.TPS / row.ServiceTPS
	}
	return row, ctx.Err()
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
