package service_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/service"
)

// BenchmarkMonitorOverhead measures GetByID and PlaceBet on PostgreSQL with
// the whole query monitor (metrics, slow log, N+1 scope) on and off, in one
// run:
//
//	go test ./service -run '^$' -bench MonitorOverhead -benchtime 3s
func BenchmarkMonitorOverhead(b *testing.B) {
	d, tdb := daltest.New(b, dbtest.Postgres)
	ctx := context.Background()
	svc := service.New(d, service.DefaultEconomics())
	if _, err := svc.Seed(ctx, service.SeedOptions{Users: 1000, Markets: 20, InitialBalance: 1 << 40, RandomSeed: 3}); err != nil {
		b.Fatal(err)
	}
	var users, markets []int64
	tdb.DB.Table("users").Pluck("id", &users)
	tdb.DB.Table("markets").Pluck("id", &markets)

	open := func(opts ...database.Option) *service.Services {
		db, err := database.NewDatabase(ctx, tdb.Config, append(opts, database.WithLogger(dbtest.Logger()))...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return service.New(dal.New(db), service.DefaultEconomics())
	}
	variants := []struct {
		name string
		svc  *service.Services
		ctx  context.Context
	}{ // off first: interleave relies on the order
		{"off", open(database.WithoutQueryMonitor()), ctx},
		{"on", open(database.WithMetrics(database.NewMetrics(prometheus.NewRegistry()))), ctx},
	}
	// On and off alternate within one loop, so that both see the same
	// machine, the same cache and the same table sizes; the overhead is the
	// ratio of their mean times.
	interleave := func(b *testing.B, op func(svc *service.Services, ctx context.Context, i int) error) {
		var spent [2]time.Duration
		var n [2]int
		for i := 0; b.Loop(); i++ {
			v := variants[i%2]
			sctx, _ := database.WithQueryScope(v.ctx)
			start := time.Now()
			if err := op(v.svc, sctx, i); err != nil {
				b.Fatal(err)
			}
			spent[i%2] += time.Since(start)
			n[i%2]++
		}
		off, on := float64(spent[0])/float64(max(n[0], 1)), float64(spent[1])/float64(max(n[1], 1))
		b.ReportMetric(off, "off_ns/op")
		b.ReportMetric(on, "on_ns/op")
		b.ReportMetric(100*(on-off)/off, "overhead_%")
	}
	b.Run("GetByID", func(b *testing.B) {
		interleave(b, func(svc *service.Services, ctx context.Context, i int) error {
			_, err := svc.Users.Get(ctx, users[(i/2)%len(users)])
			return err
		})
	})
	b.Run("PlaceBet", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		interleave(b, func(svc *service.Services, ctx context.Context, _ int) error {
			_, err := svc.Bets.PlaceBet(ctx, users[rng.IntN(len(users))], markets[rng.IntN(len(markets))], models.OutcomeYes, 1, "")
			return err
		})
	})
}
