package service_test

import (
	"context"
	"math/rand/v2"
	"testing"

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
	d.DB().Table("users").Pluck("id", &users)
	d.DB().Table("markets").Pluck("id", &markets)

	open := func(opts ...database.Option) *service.Services {
		db, err := database.NewDatabase(ctx, tdb.Config, append(opts, database.WithLogger(dbtest.Logger()))...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { database.Close(db) })
		return service.New(dal.New(db, tdb.Config, dbtest.Logger()), service.DefaultEconomics())
	}
	variants := []struct {
		name string
		svc  *service.Services
		ctx  context.Context
	}{
		{"off", open(database.WithoutQueryMonitor()), ctx},
		{"on", open(database.WithMetrics(database.NewMetrics(prometheus.NewRegistry()))), ctx},
	}
	for _, v := range variants {
		b.Run("GetByID/monitor_"+v.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				sctx, _ := database.WithQueryScope(v.ctx)
				if _, err := v.svc.Users.Get(sctx, users[i%len(users)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, v := range variants {
		b.Run("PlaceBet/monitor_"+v.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				sctx, _ := database.WithQueryScope(v.ctx)
				if _, err := v.svc.Bets.PlaceBet(sctx, users[rng.IntN(len(users))], markets[rng.IntN(len(markets))], models.OutcomeYes, 1, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
