package repository_test

import (
	"context"
	"testing"
	"time"

	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
)

// BenchmarkSQLiteBulkInsert measures BetRepository.CreateBatch of 100k bets
// (one transaction of multi-row INSERTs) on the embedded SQLite, each
// iteration into the same growing table:
//
//	go test ./repository -run '^$' -bench SQLiteBulkInsert -benchtime 3x -count 3
//
// docs/dependencies.md has the figures.
func BenchmarkSQLiteBulkInsert(b *testing.B) {
	d, _ := daltest.New(b, dbtest.SQLite)
	ctx := context.Background()
	users := newUsers("bench", 500)
	if err := d.Users().CreateBatch(ctx, users); err != nil {
		b.Fatal(err)
	}
	m := daltest.Market(b, d, users[0].ID)
	var spent time.Duration
	for range b.N {
		b.StopTimer()
		bets := betsOn(bulkRows, users, m.ID)
		for _, bet := range bets {
			bet.IdempotencyKey = nil // keys are unique per user: iterations would collide
		}
		b.StartTimer()
		start := time.Now()
		if err := d.Bets().CreateBatch(ctx, bets); err != nil {
			b.Fatal(err)
		}
		spent += time.Since(start)
	}
	b.ReportMetric(float64(bulkRows)*float64(b.N)/spent.Seconds(), "rows/s")
}
