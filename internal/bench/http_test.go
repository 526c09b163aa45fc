package bench_test

import (
	"context"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/internal/bench"
	"socialpredict/service"
)

// TestHTTPBetsReachTheDatabase runs the benchmark with --http briefly on a
// fresh database of each engine, then checks on that database what the run
// reports: bets were placed through the API server with no error response,
// every bet the run counted (direct and over HTTP) is in the database, and
// the money invariants hold. Nothing here is timed.
func TestHTTPBetsReachTheDatabase(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		tdb := dbtest.New(t, engine, daltest.Schema)
		cfg := tdb.Config
		res, err := bench.Run(context.Background(), bench.Options{Admin: cfg, InPlace: &cfg,
			Workers: []int{2}, Duration: time.Second, Users: 50, Markets: 10, PgBenchScale: 1,
			HTTP: true, HTTPConcurrency: []int{4, 2}})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		// PlaceBet at 2 workers is a row; at 4 an extra row for HTTP.
		if res.Engine != string(engine) || len(res.Rows) != 1 || len(res.Extra) != 1 || len(res.HTTP) != 2 {
			t.Fatalf("engine %q, %d rows, %d extra rows, %d HTTP rows; want %s, 1, 1 and 2",
				res.Engine, len(res.Rows), len(res.Extra), len(res.HTTP), engine)
		}
		direct := map[int]bench.Row{res.Rows[0].Workers: res.Rows[0], res.Extra[0].Workers: res.Extra[0]}
		counted := 0
		for _, r := range direct {
			counted += r.Bets + r.InteractiveBets
			if r.Bets == 0 || r.Errors != 0 {
				t.Errorf("PlaceBet with %d workers: %d bets, %d errors", r.Workers, r.Bets, r.Errors)
			}
		}
		for i, r := range res.HTTP {
			counted += r.Bets
			if r.Concurrency != []int{4, 2}[i] {
				t.Errorf("HTTP row %d has concurrency %d", i, r.Concurrency)
			}
			if r.Bets == 0 || r.TPS <= 0 || r.P50 <= 0 || r.P99 < r.P50 {
				t.Errorf("HTTP at %d: %d bets, %.0f/s, p50 %s, p99 %s", r.Concurrency, r.Bets, r.TPS, r.P50, r.P99)
			}
			if r.FiveXX() != 0 || len(r.Errors) != 0 || r.Requests != r.Bets {
				t.Errorf("HTTP at %d: %d requests, %d bets, errors by status %v (first bodies %v)",
					r.Concurrency, r.Requests, r.Bets, r.Errors, r.ErrorSamples)
			}
			if d := direct[r.Concurrency]; r.ServiceTPS != d.BetTPS || r.ServiceP50 != d.BetP50 || r.Ratio <= 0 {
				t.Errorf("HTTP at %d: service %.0f/s p50 %s (direct row: %+v), ratio %.2f", r.Concurrency, r.ServiceTPS, r.ServiceP50, d, r.Ratio)
			}
		}
		var inDB int64
		if err := tdb.DB.Table("bets").Count(&inDB).Error; err != nil {
			t.Fatal(err)
		}
		if inDB != int64(counted) || res.Bets != inDB {
			t.Errorf("%d bets in the database, the run reports %d and counted %d placed", inDB, res.Bets, counted)
		}
		svc := service.New(dal.New(tdb.Handle), service.DefaultEconomics())
		violations, err := svc.Checker.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(violations) != 0 || len(res.Violations) != 0 {
			t.Errorf("invariants broken: %v (the run reported %v)", violations, res.Violations)
		}
	})
}
