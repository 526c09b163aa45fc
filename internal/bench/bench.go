package bench

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
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

// Row is one line of results.
type Row struct {
	Workers                   int
	BetTPS                    float64
	BetP50, BetP99            time.Duration
	InteractiveTPS            float64
	InteractiveP50            time.Duration
	InteractiveP99            time.Duration
	PgBenchTPS                float64
	Errors, InteractiveErrors int
}

// Result is a whole run.
type Result struct {
	Rows []Row
	// Resolve is the duration of resolving a market of ResolveBets bets.
	Resolve time.Duration
}

// Run performs the benchmark. It returns the results, or the first error;
// invalid options (see Options.Validate) are refused before anything is
// created.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	suffix := randomSuffix()
	res := &Result{}
	betDB := "socialpredict_bench_" + suffix
	drop, err := createDatabase(ctx, o.Admin, betDB)
	if err != nil {
		return nil, err
	}
	defer drop()
	cfg := o.Admin.WithDatabase(betDB)
	cfg.ConnectionPool.MaxOpenConns = slices.Max(o.Workers) + 4
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
	var pg *pgbench
	if o.PgBench != "" {
		pgDB := "socialpredict_pgbench_" + suffix
		dropPG, err := createDatabase(ctx, o.Admin, pgDB)
		if err != nil {
			return nil, err
		}
		defer dropPG()
		pg = newPgBench(o.PgBench, o.Admin.WithDatabase(pgDB))
		o.Log.Info("initialising pgbench", "scale", o.PgBenchScale)
		if err := pg.init(ctx, o.PgBenchScale); err != nil {
			return nil, err
		}
	}
	for _, w := range o.Workers {
		row := Row{Workers: w}
		o.Log.Info("PlaceBet, one statement", "workers", w, "duration", o.Duration)
		row.BetTPS, row.BetP50, row.BetP99, row.Errors = placeBets(ctx, svc, users, markets, w, o.Duration)
		if o.Interactive {
			o.Log.Info("PlaceBet, interactive transaction", "workers", w, "duration", o.Duration)
			row.InteractiveTPS, row.InteractiveP50, row.InteractiveP99, row.InteractiveErrors = placeBets(ctx, interactive, users, markets, w, o.Duration)
		}
		if pg != nil {
			o.Log.Info("pgbench tpcb-like -M prepared", "clients", w, "duration", o.Duration)
			if row.PgBenchTPS, err = pg.run(ctx, w, o.Duration); err != nil {
				return nil, err
			}
		}
		res.Rows = append(res.Rows, row)
	}
	if o.ResolveBets > 0 {
		o.Log.Info("resolution", "bets", o.ResolveBets)
		if res.Resolve, err = resolveLarge(ctx, o, suffix); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// placeBets runs workers placing random bets for d and returns the
// throughput, the median and 99th percentile latency, and the errors.
func placeBets(ctx context.Context, svc *service.Services, users, markets []int64, workers int, d time.Duration) (tps float64, p50, p99 time.Duration, errs int) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			var mine []time.Duration
			bad := 0
			for time.Now().Before(deadline) {
				outcome := models.OutcomeYes
				if rng.IntN(2) == 0 {
					outcome = models.OutcomeNo
				}
				t0 := time.Now()
				_, err := svc.Bets.PlaceBet(ctx, users[rng.IntN(len(users))], markets[rng.IntN(len(markets))], outcome, int64(1+rng.IntN(10)), "")
				if err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(latencies) == 0 {
		return 0, 0, 0, errs
	}
	slices.Sort(latencies)
	return float64(len(latencies)) / elapsed.Seconds(), latencies[len(latencies)/2], latencies[len(latencies)*99/100], errs
}

// resolveLarge seeds one market with n bets in a scratch database and times
// its resolution.
func resolveLarge(ctx context.Context, o Options, suffix string) (time.Duration, error) {
	name := "socialpredict_bench_resolve_" + suffix
	drop, err := createDatabase(ctx, o.Admin, name)
	if err != nil {
		return 0, err
	}
	defer drop()
	h, err := database.NewDatabase(ctx, o.Admin.WithDatabase(name), database.WithLogger(slog.New(slog.DiscardHandler)))
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

// Print writes the results as a table.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintln(w, "workers  PlaceBet tps  p50      p99      interactive tps  p50      p99      pgbench tps  PlaceBet/pgbench")
	for _, row := range r.Rows {
		ratio := "-"
		if row.PgBenchTPS > 0 {
			ratio = fmt.Sprintf("%.2fx", row.BetTPS/row.PgBenchTPS)
		}
		fmt.Fprintf(w, "%-7d  %12.0f  %-7s  %-7s  %15.0f  %-7s  %-7s  %11.0f  %s\n", row.Workers, row.BetTPS,
			ms(row.BetP50), ms(row.BetP99), row.InteractiveTPS, ms(row.InteractiveP50), ms(row.InteractiveP99), row.PgBenchTPS, ratio)
		if row.Errors+row.InteractiveErrors > 0 {
			fmt.Fprintf(w, "         (%d failed bets, %d interactive)\n", row.Errors, row.InteractiveErrors)
		}
	}
	if r.Resolve > 0 {
		fmt.Fprintf(w, "resolution of the large market: %s\n", r.Resolve.Round(time.Millisecond))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
