package database

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkObserve measures what the query monitor adds to one statement
// (metrics, call site, N+1 scope), independent of the database: compare it
// with the statement's own latency (GetByID is about 80-130 µs here).
func BenchmarkObserve(b *testing.B) {
	m := NewQueryMonitor(DefaultConfig().Monitoring, slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()))
	m.system = "postgresql"
	ctx, _ := WithQueryScope(context.Background())
	start := time.Now()
	for b.Loop() {
		m.observe(ctx, "SELECT * FROM users WHERE id = $1 LIMIT 1", nil, "users", 1, start.Add(-80*time.Microsecond), nil)
	}
}
