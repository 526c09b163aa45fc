package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"socialpredict/database"
	"socialpredict/internal/pgcluster"
	"socialpredict/service"
)

// Options configure a chaos run. Zero values take the defaults of the full
// run (Full); Short is CI's.
type Options struct {
	// FastRestarts and ImmediateRestarts are how many times PostgreSQL is
	// restarted with pg_ctl restart -m fast and -m immediate, in a random
	// order, each after a random pause.
	FastRestarts, ImmediateRestarts int
	// Network adds the network faults: a latency spike longer than the
	// request deadline, reset connections, a black hole.
	Network bool
	// PoolExhaustion adds a storm of readers on a slowed network: more
	// clients than pooled connections.
	PoolExhaustion bool
	// Bettors and Markets of the workload (default 8 and 4).
	Bettors, Markets int
	// RequestTimeout is the server's request deadline (default 2s);
	// MaxOpenConns its pool size (default 8).
	RequestTimeout time.Duration
	MaxOpenConns   int
	// Pause is the longest random pause before each fault (default 3s;
	// the shortest is a third of it).
	Pause time.Duration
	// Hold is how long each network fault lasts (default 4s).
	Hold time.Duration
	// BinDir holds the PostgreSQL server binaries (found when empty).
	BinDir string
	// Log receives the server's log (default: discarded); Progress a line
	// per fault as it happens (default: nothing).
	Log      *slog.Logger
	Progress io.Writer
}

// Full is the whole scenario: 5 restarts of each kind, the network faults
// and pool exhaustion (about two to three minutes here).
func Full() Options {
	return Options{FastRestarts: 5, ImmediateRestarts: 5, Network: true, PoolExhaustion: true}
}

// Short is CI's: one restart of each kind, one of each network fault and
// pool exhaustion, with short pauses.
func Short() Options {
	return Options{FastRestarts: 1, ImmediateRestarts: 1, Network: true, PoolExhaustion: true,
		Pause: 1500 * time.Millisecond, Hold: 3 * time.Second}
}

func (o *Options) defaults() {
	if o.Bettors == 0 {
		o.Bettors = 8
	}
	if o.Markets == 0 {
		o.Markets = 4
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 2 * time.Second
	}
	if o.MaxOpenConns == 0 {
		o.MaxOpenConns = 8
	}
	if o.Pause == 0 {
		o.Pause = 3 * time.Second
	}
	if o.Hold == 0 {
		o.Hold = 4 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Economics is the market's economics in a chaos run: the defaults, with
// an initial balance large enough that no bet is refused for credits.
func Economics() service.Economics {
	e := service.DefaultEconomics()
	e.InitialBalance = 1_000_000_000
	return e
}

// Run runs the scenario on a throwaway PostgreSQL cluster (started here,
// on a free port, never the shared server): the in-process server behind
// a fault proxy, the bettors, the faults, then Verify and the checks of
// each fault (health states, statuses). The error is for a run that could
// not be set up; what the run found is in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{BinDir: o.BinDir})
	if err != nil {
		return nil, err
	}
	defer cluster.Destroy()
	px, err := newProxy(cluster.Addr())
	if err != nil {
		return nil, err
	}
	defer px.Stop()

	cfg := database.DefaultConfig()
	cfg.Driver = database.DriverPostgres
	cfg.URL = "postgres://postgres@" + px.Addr() + "/postgres?sslmode=disable"
	cfg.ConnectionPool.MaxOpenConns, cfg.ConnectionPool.MaxIdleConns = o.MaxOpenConns, o.MaxOpenConns
	cfg.ConnectRetry.Attempts = 10
	cfg.ConnectRetry.AttemptTimeout = 2 * time.Second
	cfg.HealthCheck.Interval, cfg.HealthCheck.Timeout, cfg.HealthCheck.Retries = 250*time.Millisecond, time.Second, 2
	cfg.Monitoring.LogLevel = "silent"
	cfg.Monitoring.SlowQueryThreshold = 0
	econ := Economics()
	srv, err := StartServer(ctx, ServerOptions{Database: cfg, RequestTimeout: o.RequestTimeout, Economics: econ, Log: o.Log})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	w, err := NewWorkload(ctx, srv, o.Bettors, o.Markets)
	if err != nil {
		return nil, err
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	ready := watchReady(watchCtx, srv.Ops, 100*time.Millisecond)
	stop, stopBets := context.WithCancel(ctx)
	defer stopBets()
	drain, stopDrain := context.WithCancel(ctx)
	defer stopDrain()
	done := make(chan struct{})
	go func() {
		w.Run(stop, drain)
		close(done)
	}()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
	inj := &injector{o: o, rng: rng, w: w, ready: ready, cluster: cluster, px: px, srv: srv}
	time.Sleep(time.Second) // let the bettors warm up
	faultErr := inj.run(ctx)

	time.Sleep(2 * time.Second) // bets after the last fault
	stopBets()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		stopDrain()
		<-done
	}
	stopWatch()
	if faultErr != nil {
		return nil, faultErr
	}

	direct := cfg
	direct.URL = cluster.URL("postgres")
	vdb, err := database.NewDatabase(ctx, direct, database.WithLogger(o.Log))
	if err != nil {
		return nil, err
	}
	defer vdb.Close()
	rep := Verify(ctx, vdb, srv, w, econ, inj.faults)
	rep.Problems = append(rep.Problems, inj.problems...)
	return rep, nil
}

// injector injects the faults one after the other and records them.
type injector struct {
	o       Options
	rng     *rand.Rand
	w       *Workload
	ready   *readyWatcher
	cluster *pgcluster.Cluster
	px      *proxy
	srv     *Server

	faults   []Fault
	problems []string
}

func (inj *injector) progress(format string, args ...any) {
	fmt.Fprintf(inj.o.Progress, "chaos: "+format+"\n", args...)
}

// pause waits a random time between a third of Pause and Pause.
func (inj *injector) pause(ctx context.Context) error {
	d := inj.o.Pause/3 + time.Duration(inj.rng.Int64N(int64(inj.o.Pause*2/3)))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (inj *injector) run(ctx context.Context) error {
	var restarts []string
	for range inj.o.FastRestarts {
		restarts = append(restarts, "fast")
	}
	for range inj.o.ImmediateRestarts {
		restarts = append(restarts, "immediate")
	}
	inj.rng.Shuffle(len(restarts), func(i, j int) { restarts[i], restarts[j] = restarts[j], restarts[i] })
	for _, mode := range restarts {
		if err := inj.pause(ctx); err != nil {
			return err
		}
		f := Fault{Kind: "restart " + mode, Start: time.Now()}
		if err := inj.cluster.Restart(ctx, mode); err != nil {
			return err
		}
		f.Back = time.Now()
		inj.recover(ctx, &f)
		f.Note = inj.note(f)
		inj.record(f)
	}
	if inj.o.Network {
		for _, nf := range []struct{ kind, typ, stream string }{
			{"latency", "latency", "downstream"},
			{"reset", "reset_peer", "upstream"},
			{"black hole", "timeout", "upstream"},
		} {
			if err := inj.pause(ctx); err != nil {
				return err
			}
			attrs := map[string]any{"timeout": 0}
			if nf.typ == "latency" {
				// Longer than the request deadline: every statement waits.
				attrs = map[string]any{"latency": (inj.o.RequestTimeout + time.Second).Milliseconds()}
			}
			if err := inj.networkFault(ctx, nf.kind, nf.typ, nf.stream, attrs, nil); err != nil {
				return err
			}
		}
	}
	if inj.o.PoolExhaustion {
		if err := inj.pause(ctx); err != nil {
			return err
		}
		// Each statement a little slow, and many more clients than the
		// pool has connections: requests queue for a connection.
		clients := 6 * inj.o.MaxOpenConns
		storm := func(ctx context.Context) { inj.w.Storm(ctx, clients) }
		if err := inj.networkFault(ctx, "pool exhaustion", "latency", "downstream", map[string]any{"latency": 150}, storm); err != nil {
			return err
		}
	}
	return nil
}

// networkFault adds a toxic for Hold (running during, when not nil, for the
// same time), removes it, waits for the recovery and checks what the
// health check and the clients saw.
func (inj *injector) networkFault(ctx context.Context, kind, typ, stream string, attrs map[string]any, during func(context.Context)) error {
	f := Fault{Kind: kind, Start: time.Now()}
	if err := inj.px.add("fault", typ, stream, attrs); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	hold, cancel := context.WithTimeout(ctx, inj.o.Hold)
	if during != nil {
		during(hold)
	} else {
		<-hold.Done()
	}
	cancel()
	if err := inj.px.remove("fault"); err != nil {
		return fmt.Errorf("%s: remove: %w", kind, err)
	}
	f.Back = time.Now()
	inj.recover(ctx, &f)
	f.Note = inj.note(f)
	rs := inj.ready.between(f.Start, f.Back.Add(time.Second))
	if kind == "pool exhaustion" {
		exhausted := false
		for _, r := range rs {
			exhausted = exhausted || r.PoolExhausted
		}
		if !exhausted {
			inj.problems = append(inj.problems, "pool exhaustion: /readyz never reported the pool exhausted ("+states(rs)+")")
		}
		if n := inj.count(f, http.StatusServiceUnavailable); n == 0 {
			inj.problems = append(inj.problems, "pool exhaustion: no request was refused with 503 (the pool never ran out?)")
		}
	} else if degraded, thenUnhealthy := seen(rs, "degraded", "unhealthy"); !degraded || !thenUnhealthy {
		inj.problems = append(inj.problems, kind+": the health check did not go degraded then unhealthy: "+states(rs))
	}
	inj.record(f)
	return nil
}

// recover waits (at most a minute) for the first acknowledged bet after
// f.Back.
func (inj *injector) recover(ctx context.Context, f *Fault) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if at, ok := inj.w.FirstSuccessAfter(f.Back); ok {
			f.Recovered, f.Recovery = true, at.Sub(f.Back)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count counts the answers with status during the fault.
func (inj *injector) count(f Fault, status int) int {
	n := 0
	for _, a := range inj.w.Attempts() {
		if a.Status == status && !a.End.Before(f.Start) && !a.Start.After(f.Back) {
			n++
		}
	}
	return n
}

// note describes what the clients and /readyz saw during a fault.
func (inj *injector) note(f Fault) string {
	codes := map[int]int{}
	for _, a := range inj.w.Attempts() {
		if !a.End.Before(f.Start) && !a.Start.After(f.Back) {
			codes[a.Status]++
		}
	}
	return fmt.Sprintf("%d x 2xx, %d x 503, %d other; readyz: %s", codes[200]+codes[201], codes[503],
		sumOther(codes), states(inj.ready.between(f.Start, f.Back.Add(f.Recovery+500*time.Millisecond))))
}

func sumOther(codes map[int]int) int {
	n := 0
	for c, k := range codes {
		if c != 200 && c != 201 && c != 503 {
			n += k
		}
	}
	return n
}

// record keeps f and reports it.
func (inj *injector) record(f Fault) {
	inj.faults = append(inj.faults, f)
	rec := "none"
	if f.Recovered {
		rec = f.Recovery.Round(time.Millisecond).String()
	}
	inj.progress("%-18s down %-8s recovery %-8s %s", f.Kind, f.Back.Sub(f.Start).Round(time.Millisecond), rec, f.Note)
}
