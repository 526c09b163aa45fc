package bench

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/migration/migrations"
	"socialpredict/models"
	"socialpredict/repository"
	"socialpredict/service"
)

// Row is one line of results: PlaceBet called directly by Workers workers.
// The durations are in nanoseconds in JSON.
type Row struct {
	Workers int `json:"workers"`
	// Bets counts the bets placed (InteractiveBets with the interactive
	// transaction); BetTPS is Bets per second.
	Bets              int           `json:"bets"`
	BetTPS            float64       `json:"bets_per_second"`
	BetP50            time.Duration `json:"p50_ns"`
	BetP99            time.Duration `json:"p99_ns"`
	InteractiveBets   int           `json:"interactive_bets,omitempty"`
	InteractiveTPS    float64       `json:"interactive_bets_per_second,omitempty"`
	InteractiveP50    time.Duration `json:"interactive_p50_ns,omitempty"`
	InteractiveP99    time.Duration `json:"interactive_p99_ns,omitempty"`
	PgBenchTPS        float64       `json:"pgbench_tps,omitempty"`
	Errors            int           `json:"errors"`
	InteractiveErrors int           `json:"interactive_errors,omitempty"`
}

// Result is a whole run.
type Result struct {
	// Engine is the database engine, postgres or sqlite.
	Engine string `json:"engine"`
	Rows   []Row  `json:"rows"`
	// HTTP holds the HTTP measurements (Options.HTTP), in the order of
	// Options.HTTPConcurrency.
	HTTP []HTTPRow `json:"http,omitempty"`
	// Extra holds the PlaceBet measurements made for HTTP rows at a
	// concurrency that Options.Workers lacks (Rows holds the others).
	Extra []Row `json:"extra_rows,omitempty"`
	// Bets counts the bets in the benchmark's database after the PlaceBet
	// and HTTP measurements, and Violations lists the invariants the
	// checker (socialpredict db check) found broken then: none is expected.
	Bets       int64               `json:"bets"`
	Violations []service.Violation `json:"violations"`
	// Resolve is the duration of resolving a market of ResolveBets bets.
	Resolve time.Duration `json:"resolve_ns,omitempty"`
}

// Run performs the benchmark. It returns the results, or the first error;
// invalid options (see Options.Validate) are refused before anything is
// created.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	sqlite := o.Admin.Driver == database.DriverSQLite
	if sqlite && o.PgBench != "" {
		return nil, errors.New("bench: pgbench needs PostgreSQL")
	}
	suffix := randomSuffix()
	res := &Result{Engine: o.Admin.Driver}
	var cfg database.Config
	if o.InPlace != nil {
		cfg = *o.InPlace
	} else {
		c, drop, err := scratch(ctx, o.Admin, "socialpredict_bench_"+suffix)
		if err != nil {
			return nil, err
		}
		defer drop()
		cfg = c
	}
	maxWorkers := slices.Max(o.Workers)
	if o.HTTP {
		// The server shares the pool with the direct measurements.
		maxWorkers = max(maxWorkers, slices.Max(o.HTTPConcurrency))
	}
	cfg.ConnectionPool.MaxOpenConns = maxWorkers + 4
	cfg.ConnectionPool.MaxIdleConns = cfg.ConnectionPool.MaxOpenConns
	quiet := slog.New(slog.DiscardHandler)
	h, err := database.NewDatabase(ctx, cfg, database.WithLogger(quiet))
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if err := migrations.Up(ctx, h.GormDB()); err != nil {
		return nil, err
	}
	d := dal.New(h)
	econ := service.DefaultEconomics()
	svc := service.New(d, econ)
	o.Log.Info("seeding", "users", o.Users, "markets", o.Markets)
	if _, err := svc.Seed(ctx, service.SeedOptions{Users: o.Users, Markets: o.Markets, InitialBalance: 1 << 40, RandomSeed: 1}); err != nil {
		return nil, err
	}
	users, markets, err := ids(ctx, h)
	if err != nil {
		return nil, err
	}
	interactive := service.New(d, econ, service.WithInteractiveBets())
	if sqlite && o.Interactive {
		o.Log.Info("skipping the interactive measurement: on SQLite PlaceBet is always an interactive transaction")
		o.Interactive = false
	}
	var pg *pgbench
	if o.PgBench != "" {
		pgCfg, dropPG, err := scratch(ctx, o.Admin, "socialpredict_pgbench_"+suffix)
		if err != nil {
			return nil, err
		}
		defer dropPG()
		pg = newPgBench(o.PgBench, pgCfg)
		o.Log.Info("initialising pgbench", "scale", o.PgBenchScale)
		if err := pg.init(ctx, o.PgBenchScale); err != nil {
			return nil, err
		}
	}
	var hr *httpRun
	stopHTTP := func() error {
		if hr == nil {
			return nil
		}
		run := hr
		hr = nil
		return run.stop()
	}
	defer stopHTTP()
	if o.HTTP {
		if hr, err = startHTTP(ctx, o, svc, users, markets); err != nil {
			return nil, err
		}
	}
	// httpRows[i] is the measurement at o.HTTPConcurrency[i], made in slices
	// alternating with PlaceBet at the same worker count.
	httpRows := make([]*HTTPRow, len(o.HTTPConcurrency))
	// paired returns PlaceBet at w workers, measured in slices alternating
	// with the HTTP measurement at concurrency w when one is due (ok).
	paired := func(w int) (direct Row, ok bool, err error) {
		i := slices.Index(o.HTTPConcurrency, w)
		if hr == nil || i < 0 || httpRows[i] != nil {
			return Row{}, false, nil
		}
		direct, hrow, err := hr.paired(ctx, svc, users, markets, w)
		if err != nil {
			return Row{}, false, err
		}
		httpRows[i] = &hrow
		return direct, true, nil
	}
	for _, w := range o.Workers {
		row, ok, err := paired(w)
		if err != nil {
			return nil, err
		}
		if !ok {
			o.Log.Info("PlaceBet, one statement", "workers", w, "duration", o.Duration)
			row = placeBets(ctx, svc, users, markets, w, o.Duration).row(w)
		}
		if o.Interactive {
			o.Log.Info("PlaceBet, interactive transaction", "workers", w, "duration", o.Duration)
			s := placeBets(ctx, interactive, users, markets, w, o.Duration)
			row.InteractiveBets, row.InteractiveTPS, row.InteractiveP50, row.InteractiveP99 = s.summary()
			row.InteractiveErrors = s.errs
		}
		if pg != nil {
			o.Log.Info("pgbench tpcb-like -M prepared", "clients", w, "duration", o.Duration)
			if row.PgBenchTPS, err = pg.run(ctx, w, o.Duration); err != nil {
				return nil, err
			}
		}
		res.Rows = append(res.Rows, row)
	}
	for _, c := range o.HTTPConcurrency {
		// A concurrency --workers lacks: its PlaceBet row is an extra one.
		direct, ok, err := paired(c)
		if err != nil {
			return nil, err
		}
		if ok {
			res.Extra = append(res.Extra, direct)
		}
	}
	for _, r := range httpRows {
		if r != nil {
			res.HTTP = append(res.HTTP, *r)
		}
	}
	if err := stopHTTP(); err != nil {
		return nil, fmt.Errorf("bench: stop the API server: %w", err)
	}
	o.Log.Info("checking the invariants")
	if res.Violations, err = svc.Checker.Check(ctx); err != nil {
		return nil, err
	}
	if err := h.GormDB().WithContext(ctx).Table("bets").Count(&res.Bets).Error; err != nil {
		return nil, err
	}
	if o.ResolveBets > 0 {
		o.Log.Info("resolution", "bets", o.ResolveBets)
		if res.Resolve, err = resolveLarge(ctx, o, suffix); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// sample is what one measurement (or several slices of one) collected.
type sample struct {
	// latencies of the successful calls; errs counts the others.
	latencies []time.Duration
	errs      int
	// elapsed is the wall time, start to the last call's end.
	elapsed time.Duration
}

// add merges another slice of the same measurement into s.
func (s *sample) add(o sample) {
	s.latencies = append(s.latencies, o.latencies...)
	s.errs += o.errs
	s.elapsed += o.elapsed
}

// summary returns the successes, their rate over the elapsed time, and the
// median and 99th percentile latency.
func (s sample) summary() (n int, tps float64, p50, p99 time.Duration) {
	if len(s.latencies) == 0 {
		return 0, 0, 0, 0
	}
	lat := slices.Sorted(slices.Values(s.latencies))
	return len(lat), float64(len(lat)) / s.elapsed.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100]
}

// row returns the sample as the Row of w workers.
func (s sample) row(w int) Row {
	r := Row{Workers: w, Errors: s.errs}
	r.Bets, r.BetTPS, r.BetP50, r.BetP99 = s.summary()
	return r
}

// placeBets runs workers placing random bets for d.
func placeBets(ctx context.Context, svc *service.Services, users, markets []int64, w int, d time.Duration) sample {
	return workers(ctx, w, d, func(rng *rand.Rand) error {
		outcome := models.OutcomeYes
		if rng.IntN(2) == 0 {
			outcome = models.OutcomeNo
		}
		_, err := svc.Bets.PlaceBet(ctx, users[rng.IntN(len(users))], markets[rng.IntN(len(markets))], outcome, int64(1+rng.IntN(10)), "")
		return err
	})
}

// resolveLarge seeds one market with n bets in a scratch database and times
// its resolution.
func resolveLarge(ctx context.Context, o Options, suffix string) (time.Duration, error) {
	cfg, drop, err := scratch(ctx, o.Admin, "socialpredict_bench_resolve_"+suffix)
	if err != nil {
		return 0, err
	}
	defer drop()
	h, err := database.NewDatabase(ctx, cfg, database.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return 0, err
	}
	defer h.Close()
	if err := migrations.Up(ctx, h.GormDB()); err != nil {
		return 0, err
	}
	d := dal.New(h)
	svc := service.New(d, service.DefaultEconomics())
	if _, err := svc.Seed(ctx, service.SeedOptions{Users: 10_000, Markets: 1, Bets: o.ResolveBets, InitialBalance: 1 << 40, RandomSeed: 2}); err != nil {
		return 0, err
	}
	page, err := d.Markets().List(ctx, repository.MarketFilters{})
	if err != nil || len(page.Items) != 1 {
		return 0, fmt.Errorf("resolution benchmark: want one market: %v", err)
	}
	m := page.Items[0]
	start := time.Now()
	if _, err := svc.Markets.Resolve(ctx, m.CreatorID, m.ID, models.ResolutionYes); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// ids returns the user and market ids.
func ids(ctx context.Context, h *database.DB) (users, markets []int64, err error) {
	db := h.GormDB().WithContext(ctx)
	if err = db.Table("users").Order("id").Pluck("id", &users).Error; err == nil {
		err = db.Table("markets").Order("id").Pluck("id", &markets).Error
	}
	return users, markets, err
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// Print writes the results as tables: PlaceBet by worker count, then the
// HTTP measurements next to PlaceBet, then the invariant check.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintln(w, "workers  PlaceBet tps  p50       p99       interactive tps  p50       p99       pgbench tps  PlaceBet/pgbench")
	for _, row := range r.Rows {
		ratio, pg := "-", "-"
		if row.PgBenchTPS > 0 {
			ratio, pg = fmt.Sprintf("%.2fx", row.BetTPS/row.PgBenchTPS), fmt.Sprintf("%.0f", row.PgBenchTPS)
		}
		itps, ip50, ip99 := "-", "-", "-"
		if row.InteractiveTPS > 0 || row.InteractiveErrors > 0 {
			itps, ip50, ip99 = fmt.Sprintf("%.0f", row.InteractiveTPS), ms(row.InteractiveP50), ms(row.InteractiveP99)
		}
		fmt.Fprintf(w, "%-7d  %12.0f  %-8s  %-8s  %15s  %-8s  %-8s  %11s  %s\n", row.Workers, row.BetTPS,
			ms(row.BetP50), ms(row.BetP99), itps, ip50, ip99, pg, ratio)
		if row.Errors+row.InteractiveErrors > 0 {
			fmt.Fprintf(w, "         (%d failed bets, %d interactive)\n", row.Errors, row.InteractiveErrors)
		}
	}
	if len(r.HTTP) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "POST /v1/markets/{id}/bets through the in-process server (vegeta, as fast as answered) and PlaceBet called directly, in alternating slices")
		fmt.Fprintln(w, "concurrency  HTTP bets/s  p50       p99       service bets/s  p50       p99       HTTP/service  errors by status")
		for _, row := range r.HTTP {
			fmt.Fprintf(w, "%-11d  %11.0f  %-8s  %-8s  %14.0f  %-8s  %-8s  %11.2fx  %s\n", row.Concurrency, row.TPS,
				ms(row.P50), ms(row.P99), row.ServiceTPS, ms(row.ServiceP50), ms(row.ServiceP99), row.Ratio, statusCounts(row.Errors))
		}
		for _, row := range r.HTTP {
			for _, code := range slices.Sorted(maps.Keys(row.ErrorSamples)) {
				fmt.Fprintf(w, "  concurrency %d, first %s: %s\n", row.Concurrency, statusName(code), row.ErrorSamples[code])
			}
		}
	}
	fmt.Fprintln(w)
	if len(r.Violations) == 0 {
		fmt.Fprintf(w, "%d bets in the database afterwards; ok: every invariant holds\n", r.Bets)
	} else {
		fmt.Fprintf(w, "%d bets in the database afterwards; %d invariant violations:\n", r.Bets, len(r.Violations))
		for _, v := range r.Violations {
			fmt.Fprintf(w, "  %s\n", v)
		}
	}
	if r.Resolve > 0 {
		fmt.Fprintf(w, "resolution of the large market: %s\n", r.Resolve.Round(time.Millisecond))
	}
}

// statusCounts renders errors by status as "409:3 500:1", or "none".
func statusCounts(errs map[int]int) string {
	if len(errs) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, code := range slices.Sorted(maps.Keys(errs)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", statusName(code), errs[code])
	}
	return b.String()
}

// statusName is the status code, or "no-response" for 0.
func statusName(code int) string {
	if code == 0 {
		return "no-response"
	}
	return strconv.Itoa(code)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
