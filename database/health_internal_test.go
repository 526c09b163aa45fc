package database

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHealthPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name          string
		sorted        []time.Duration
		p50, p95, p99 time.Duration
	}{
		{name: "empty", sorted: nil},
		{name: "one sample", sorted: ms(7), p50: 7 * time.Millisecond, p95: 7 * time.Millisecond, p99: 7 * time.Millisecond},
		{name: "two samples", sorted: ms(1, 9), p50: time.Millisecond, p95: 9 * time.Millisecond, p99: 9 * time.Millisecond},
		{name: "1..100", sorted: ms(hundred...), p50: 50 * time.Millisecond, p95: 95 * time.Millisecond, p99: 99 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []time.Duration{healthPercentile(tt.sorted, 50), healthPercentile(tt.sorted, 95), healthPercentile(tt.sorted, 99)}
			if diff := cmp.Diff(got, []time.Duration{tt.p50, tt.p95, tt.p99}); diff != "" {
				t.Errorf("p50, p95, p99 (-got +want):\n%s", diff)
			}
		})
	}
}

func TestHealthWindowKeepsTheLastSamples(t *testing.T) {
	c := &DatabaseHealthChecker{window: make([]time.Duration, 0, 3)}
	for i := 1; i <= 5; i++ {
		c.addSample(time.Duration(i))
	}
	got := c.responseTimes()
	want := ResponseTimes{Samples: 3, P50: 4, P95: 5, P99: 5} // samples 3, 4, 5
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("responseTimes (-got +want):\n%s", diff)
	}
}
