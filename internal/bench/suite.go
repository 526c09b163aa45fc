package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/migration/migrations"
	"socialpredict/models"
	"socialpredict/repository"
	"socialpredict/service"
)

// SuiteOptions configures the whole performance suite (bench --all).
type SuiteOptions struct {
	// Admin is the PostgreSQL server, reached as a role that may create
	// databases; the suite works in scratch databases it drops afterwards.
	// Ignored with Throwaway.
	Admin database.Config
	// Throwaway runs the suite on a throwaway PostgreSQL cluster it starts
	// from the installed server binaries (internal/pgcluster, fsync on) and
	// stops and deletes before it returns, on an error or a cancelled ctx
	// too.
	Throwaway bool
	// SQLiteDir is where the SQLite measurement keeps its scratch files
	// ("" for the system's temporary directory).
	SQLiteDir string
	// PgBench is the pgbench binary (the anchor); required.
	PgBench string
	// RunLen is the length of one timed run, Rounds the interleaved runs of
	// every measurement (at least 3).
	RunLen time.Duration
	Rounds int
	// Quick shrinks every size (bets, depth, users) so that the suite's
	// machinery runs in seconds: for tests, not for figures.
	Quick bool
	// Out is the path of the Markdown report; the chart is written beside it
	// as performance-placebet.svg.
	Out string
	// Log receives progress lines; nil discards them.
	Log *slog.Logger
}

// sizes are the suite's sizes, full or quick.
type sizes struct {
	users, markets int
	resolve        []int
	depth          int
	bulk, rowByRow int
	pgbenchScale   int
	readReps       int
	warmup         time.Duration
	placeW, httpC  []int
	pools          []int
	scaleW         int
	sqliteW        []int
	sqliteUsers    int
}

func suiteSizes(quick bool) sizes {
	if quick {
		return sizes{users: 200, markets: 10, resolve: []int{100, 200, 400}, depth: 300, bulk: 2000, rowByRow: 200,
			pgbenchScale: 1, readReps: 20, warmup: 20 * time.Millisecond, placeW: []int{1, 8, 32}, httpC: []int{8, 32},
			pools: []int{1, 2, 4, 8, 16, 32}, scaleW: 64, sqliteW: []int{1, 8}, sqliteUsers: 200}
	}
	return sizes{users: 10_000, markets: 100, resolve: []int{1_000, 10_000, 100_000}, depth: 100_000, bulk: 100_000,
		rowByRow: 2_000, pgbenchScale: 10, readReps: 300, warmup: 300 * time.Millisecond, placeW: []int{1, 8, 32},
		httpC: []int{8, 32}, pools: []int{1, 2, 4, 8, 16, 32}, scaleW: 64, sqliteW: []int{1, 8}, sqliteUsers: 2_000}
}

// Measure is one row of the report: the runs of one measurement.
type Measure struct {
	Section string
	Name    string
	// Unit is what Runs count ("bets/s", "ms", "µs", "rows/s").
	Unit string
	// Anchor is the Name of the row this one is compared with ("" none).
	Anchor string
	Runs   []float64
	// Fail is non-empty when an invariant failed after the measurement:
	// the row prints FAIL instead of its figures.
	Fail string
	// Note is printed after the row.
	Note string
}

// Median returns the median of the runs (0 without runs).
func (m *Measure) Median() float64 {
	if len(m.Runs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(m.Runs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Report is the suite's result.
type Report struct {
	Started, Finished time.Time
	Machine           Machine
	// Server is the PostgreSQL server the suite ran against.
	Server   Server
	Settings map[string]string
	Quick    bool
	RunLen   time.Duration
	Rounds   int
	Measures []*Measure
	// Checks lists each invariant check: what was checked and its
	// violations (none expected).
	Checks []Check
	// Statements holds the resolution statement counts by bets.
	Statements map[int]int
	Targets    []Target
}

// Check is one run of the invariant checker after a write benchmark.
type Check struct {
	After      string
	Violations []service.Violation
}

// Target is one target of issue 13 with its verdict.
type Target struct {
	Text   string
	Figure string
	Pass   bool
	// Why says, for a missed target, why and what would fix it.
	Why string
}

// find returns the measure named name.
func (r *Report) find(name string) *Measure {
	for _, m := range r.Measures {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// add appends a measure and returns it.
func (r *Report) add(section, name, unit, anchor string) *Measure {
	m := &Measure{Section: section, Name: name, Unit: unit, Anchor: anchor}
	r.Measures = append(r.Measures, m)
	return m
}

// job is one interleaved throughput measurement: it runs for d and returns
// the rate.
type job struct {
	m   *Measure
	run func(ctx context.Context, d time.Duration) (float64, error)
}

// RunSuite runs the whole suite against o.Admin (PostgreSQL) and writes the
// report to o.Out. It returns the report, or the first error.
func RunSuite(ctx context.Context, o SuiteOptions) (*Report, error) {
	if !o.Throwaway && o.Admin.Driver == database.DriverSQLite {
		return nil, errors.New("bench --all: needs PostgreSQL (set database.url or DATABASE_URL)")
	}
	if o.PgBench == "" {
		return nil, errors.New("bench --all: pgbench not found (install PostgreSQL's client tools)")
	}
	if o.Rounds < 3 {
		return nil, invalid("rounds", "must be at least 3, got %d", o.Rounds)
	}
	if o.RunLen <= 0 || o.RunLen > time.Minute {
		return nil, invalid("run", "must be greater than 0 and at most 1m, got %s", o.RunLen)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	z := suiteSizes(o.Quick)
	rep := &Report{Started: time.Now().UTC(), Machine: machine(), Quick: o.Quick, RunLen: o.RunLen, Rounds: o.Rounds,
		Statements: map[int]int{}, Server: givenServer(o.Admin)}
	if o.Throwaway {
		admin, srv, destroy, err := startThrowaway(ctx, o.Log)
		if err != nil {
			return nil, err
		}
		// Deferred first, so it runs last: after every scratch database
		// is dropped and every pool closed.
		defer destroy()
		o.Admin, rep.Server = admin, srv
	}
	suffix := randomSuffix()
	quiet := database.WithLogger(slog.New(slog.DiscardHandler))

	// The PlaceBet database: seeded users and markets, shared by every
	// PlaceBet measurement on PostgreSQL.
	cfg, drop, err := scratch(ctx, o.Admin, "socialpredict_suite_"+suffix)
	if err != nil {
		return nil, err
	}
	defer drop()
	open := func(ctx context.Context, c database.Config, conns int, opts ...database.Option) (*database.DB, error) {
		c.ConnectionPool.MaxOpenConns, c.ConnectionPool.MaxIdleConns = conns, conns
		return database.NewDatabase(ctx, c, append([]database.Option{quiet}, opts...)...)
	}
	main, err := open(ctx, cfg, 36)
	if err != nil {
		return nil, err
	}
	defer main.Close()
	if err := migrations.Up(ctx, main.GormDB()); err != nil {
		return nil, err
	}
	econ := service.DefaultEconomics()
	svc := service.New(dal.New(main), econ)
	o.Log.Info("seeding", "users", z.users, "markets", z.markets)
	if _, err := svc.Seed(ctx, service.SeedOptions{Users: z.users, Markets: z.markets, InitialBalance: 1 << 40, RandomSeed: 1}); err != nil {
		return nil, err
	}
	users, markets, err := ids(ctx, main)
	if err != nil {
		return nil, err
	}
	pool, err := database.OpenPgxPool(ctx, cfg, 1)
	if err != nil {
		return nil, err
	}
	settings, err := repository.NewRawPgx(pool).Settings(ctx, "shared_buffers", "synchronous_commit", "fsync", "max_connections", "work_mem")
	pool.Close()
	if err != nil {
		return nil, err
	}
	rep.Settings = settings

	pgCfg, dropPG, err := scratch(ctx, o.Admin, "socialpredict_suite_pgbench_"+suffix)
	if err != nil {
		return nil, err
	}
	defer dropPG()
	pg := newPgBench(o.PgBench, pgCfg)
	o.Log.Info("initialising pgbench", "scale", z.pgbenchScale)
	if err := pg.init(ctx, z.pgbenchScale); err != nil {
		return nil, err
	}
	hr, err := startHTTP(ctx, Options{HTTPConcurrency: z.httpC, Log: o.Log}, svc, users, markets)
	if err != nil {
		return nil, err
	}
	httpStopped := false
	stopHTTP := func() error {
		if httpStopped {
			return nil
		}
		httpStopped = true
		return hr.stop()
	}
	defer stopHTTP()

	// withHandle runs PlaceBet on a handle of its own, opened for the run
	// and warmed up first (the server allows only so many connections).
	withHandle := func(c database.Config, conns, workers int, mk []int64, opts ...database.Option) func(context.Context, time.Duration) (float64, error) {
		return func(ctx context.Context, d time.Duration) (float64, error) {
			h, err := open(ctx, c, conns, opts...)
			if err != nil {
				return 0, err
			}
			defer h.Close()
			s := service.New(dal.New(h), econ)
			placeBets(ctx, s, users, mk, workers, z.warmup)
			return rate(placeBets(ctx, s, users, mk, workers, d))
		}
	}
	noPrep := cfg
	noPrep.PreparedStatements = false
	noGroup := cfg
	noGroup.GroupCommit.Enabled = false
	const place = "PlaceBet"
	var jobs []job
	for _, w := range z.placeW {
		jobs = append(jobs, job{rep.add(place, pgbenchName(w), "tps", ""), func(ctx context.Context, d time.Duration) (float64, error) {
			return pg.run(ctx, w, d)
		}})
	}
	for _, w := range z.placeW {
		jobs = append(jobs,
			// Every variant opens a handle of its own for each run (warmed up
			// the same way), so that none has warmer sessions than another.
			job{rep.add(place, onName(w), "bets/s", pgbenchName(w)), withHandle(cfg, w+4, w, markets)},
			job{rep.add(place, offName(w), "bets/s", onName(w)), withHandle(cfg, w+4, w, markets, database.WithoutQueryMonitor())},
			job{rep.add(place, noPrepName(w), "bets/s", onName(w)), withHandle(noPrep, w+4, w, markets)},
			job{rep.add(place, noGroupName(w), "bets/s", onName(w)), withHandle(noGroup, w+4, w, markets)},
			job{rep.add(place, rawName(w), "bets/s", pgbenchName(w)), rawJob(cfg, econ, users, markets, w, z.warmup)},
		)
	}
	for _, c := range z.httpC {
		jobs = append(jobs, job{rep.add(place, fmt.Sprintf("HTTP POST /v1/markets/{id}/bets, %d in flight", c), "bets/s", onName(c)),
			func(ctx context.Context, d time.Duration) (float64, error) {
				client := newClient(c)
				defer client.CloseIdleConnections()
				httpBets(ctx, client, hr.targets, c, z.warmup)
				s := httpBets(ctx, client, hr.targets, c, d)
				if len(s.errors) > 0 {
					return 0, fmt.Errorf("HTTP at %d: failed requests by status %s", c, statusCounts(s.errors))
				}
				return rate(s.sample)
			}})
	}
	const scaling = "Scaling"
	top := pgbenchName(slices.Max(z.placeW))
	for _, p := range z.pools {
		jobs = append(jobs, job{rep.add(scaling, poolName(p, z.scaleW), "bets/s", top), withHandle(cfg, p, z.scaleW, markets)})
	}
	hot := slices.Max(z.pools)
	hotName := fmt.Sprintf("PlaceBet, pool %d, %d workers, all on one market", hot, z.scaleW)
	jobs = append(jobs, job{rep.add(scaling, hotName, "bets/s", poolName(hot, z.scaleW)), withHandle(cfg, hot, z.scaleW, markets[:1])},
		job{rep.add(scaling, hotName+", group commit off", "bets/s", hotName), withHandle(noGroup, hot, z.scaleW, markets[:1])})
	if err := interleave(ctx, o, jobs); err != nil {
		return nil, err
	}
	if err := rep.check(ctx, svc, "the PlaceBet, HTTP and scaling measurements (PostgreSQL)", jobs); err != nil {
		return nil, err
	}
	if err := stopHTTP(); err != nil {
		return nil, err
	}

	if err := sqliteBets(ctx, o, z, rep); err != nil {
		return nil, fmt.Errorf("SQLite: %w", err)
	}
	if err := readsAndResolution(ctx, o, z, rep, suffix); err != nil {
		return nil, err
	}
	if err := bulk(ctx, o, z, rep, suffix); err != nil {
		return nil, fmt.Errorf("bulk: %w", err)
	}
	rep.Finished = time.Now().UTC()
	rep.judge(z)
	if err := rep.write(o.Out); err != nil {
		return nil, err
	}
	return rep, nil
}

func pgbenchName(c int) string { return fmt.Sprintf("pgbench tpcb-like -M prepared, %d clients", c) }
func onName(w int) string      { return fmt.Sprintf("PlaceBet (service), %d workers, monitoring on", w) }
func offName(w int) string     { return fmt.Sprintf("PlaceBet (service), %d workers, monitoring off", w) }
func noPrepName(w int) string {
	return fmt.Sprintf("PlaceBet (service), %d workers, prepared_statements false", w)
}
func noGroupName(w int) string {
	return fmt.Sprintf("PlaceBet (service), %d workers, group commit off", w)
}
func rawName(w int) string { return fmt.Sprintf("limit: place_bet on raw pgx, %d workers", w) }
func poolName(p, w int) string {
	return fmt.Sprintf("PlaceBet, pool %d, %d workers", p, w)
}

// rate returns the sample's successes per second, or an error when calls
// failed (a benchmark of failing bets measures nothing).
func rate(s sample) (float64, error) {
	n, tps, _, _ := s.summary()
	if s.errs > 0 {
		return 0, fmt.Errorf("%d of %d calls failed", s.errs, s.errs+n)
	}
	return tps, nil
}

// interleave runs every job once per round, in order, so that each
// measurement's runs are spread over the whole suite.
func interleave(ctx context.Context, o SuiteOptions, jobs []job) error {
	for r := range o.Rounds {
		for _, j := range jobs {
			o.Log.Info("measuring", "round", r+1, "of", o.Rounds, "what", j.m.Name, "for", o.RunLen)
			v, err := j.run(ctx, o.RunLen)
			if err != nil {
				return fmt.Errorf("%s: %w", j.m.Name, err)
			}
			j.m.Runs = append(j.m.Runs, v)
		}
	}
	return nil
}

// check runs the invariant checker; a violation marks the jobs' rows FAIL.
func (r *Report) check(ctx context.Context, svc *service.Services, after string, jobs []job) error {
	v, err := svc.Checker.Check(ctx)
	if err != nil {
		return err
	}
	r.Checks = append(r.Checks, Check{After: after, Violations: v})
	if len(v) > 0 {
		for _, j := range jobs {
			j.m.Fail = fmt.Sprintf("%d invariant violations after %s", len(v), after)
		}
	}
	return nil
}

// rawJob places bets through repository.RawPgx: the same place_bet call on a
// bare pgx pool of w connections.
func rawJob(cfg database.Config, econ service.Economics, users, markets []int64, w int, warmup time.Duration) func(context.Context, time.Duration) (float64, error) {
	return func(ctx context.Context, d time.Duration) (float64, error) {
		pool, err := database.OpenPgxPool(ctx, cfg, w)
		if err != nil {
			return 0, err
		}
		raw := repository.NewRawPgx(pool)
		defer raw.Close()
		call := func(rng *rand.Rand) error {
			outcome := models.OutcomeYes
			if rng.IntN(2) == 0 {
				outcome = models.OutcomeNo
			}
			p := repository.BetPlacement{UserID: users[rng.IntN(len(users))], MarketID: markets[rng.IntN(len(markets))],
				Outcome: outcome, Amount: int64(1 + rng.IntN(10)), Now: time.Now(), BuyFee: econ.BuySharesFee,
				FirstFee: econ.InitialBetFee, MaxDebt: econ.MaximumDebtAllowed, P0: econ.InitialMarketProbability,
				I0: econ.InitialMarketSubsidization, Y0: econ.InitialMarketYes, N0: econ.InitialMarketNo}
			placed, err := raw.PlaceBet(ctx, p)
			if err == nil && !placed {
				err = errors.New("bet not placed")
			}
			return err
		}
		workers(ctx, w, warmup, call)
		return rate(workers(ctx, w, d, call))
	}
}

// workers runs call from w goroutines for d and collects the latencies.
func workers(ctx context.Context, w int, d time.Duration, call func(*rand.Rand) error) sample {
	var (
		mu  sync.Mutex
		out sample
		wg  sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for i := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			var mine []time.Duration
			bad := 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if err := call(rng); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			out.latencies = append(out.latencies, mine...)
			out.errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}

// sqliteBets measures PlaceBet on SQLite, anchored to PostgreSQL's figure at
// the same worker count.
func sqliteBets(ctx context.Context, o SuiteOptions, z sizes, rep *Report) error {
	dir, err := os.MkdirTemp(o.SQLiteDir, "socialpredict-suite-sqlite-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := database.DefaultConfig()
	cfg.Driver = database.DriverSQLite
	cfg.SQLite.Path = filepath.Join(dir, "bench.db")
	h, err := database.NewDatabase(ctx, cfg, database.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	defer h.Close()
	if err := migrations.Up(ctx, h.GormDB()); err != nil {
		return err
	}
	svc := service.New(dal.New(h), service.DefaultEconomics())
	o.Log.Info("seeding SQLite", "users", z.sqliteUsers, "markets", z.markets)
	if _, err := svc.Seed(ctx, service.SeedOptions{Users: z.sqliteUsers, Markets: z.markets, InitialBalance: 1 << 40, RandomSeed: 1}); err != nil {
		return err
	}
	users, markets, err := ids(ctx, h)
	if err != nil {
		return err
	}
	var jobs []job
	for _, w := range z.sqliteW {
		jobs = append(jobs, job{rep.add("SQLite", fmt.Sprintf("PlaceBet on SQLite, %d workers", w), "bets/s", onName(w)),
			func(ctx context.Context, d time.Duration) (float64, error) {
				placeBets(ctx, svc, users, markets, w, z.warmup)
				return rate(placeBets(ctx, svc, users, markets, w, d))
			}})
	}
	if err := interleave(ctx, o, jobs); err != nil {
		return err
	}
	return rep.check(ctx, svc, "the SQLite measurements", jobs)
}
