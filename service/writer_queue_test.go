package service_test

import (
	"context"
	"testing"
	"time"

	"socialpredict/models"
)

// TestSQLiteResolveUnderEightBettors: 8 bettors place bets in a loop while
// 10 other markets are resolved one after another, each once more bets have
// been placed. Every resolve and every bet succeeds, no transaction retried
// after SQLITE_BUSY (the write queue serves writers in turn, so they never
// meet at SQLite's lock) and the invariants hold. Before the queue, writers
// polled the lock: some waited out busy_timeout and were retried, or failed.
func TestSQLiteResolveUnderEightBettors(t *testing.T) {
	t.Parallel()
	const bettors, hot, settle, perSettle = 8, 4, 10, 20
	w := newWriterLoad(t, bettors, hot, settle, perSettle)
	ctx := context.Background()
	busyBefore := w.tm.Stats().RetriesBusy

	stop := w.startBettors()
	for _, m := range w.toSettle {
		for seen := w.placed.Load(); w.placed.Load() < seen+bettors; {
			time.Sleep(time.Millisecond) // paces the polling: the count is the condition
		}
		if _, err := w.svc.Markets.Resolve(ctx, w.creator, m, models.ResolutionYes); err != nil {
			t.Errorf("resolve market %d: %v", m, err)
		}
	}
	bets := stop()
	for i, err := range bets.errs {
		if i == 3 {
			t.Errorf("... %d failed bets in all", len(bets.errs))
			break
		}
		t.Errorf("bet: %v", err)
	}
	if busy := w.tm.Stats().RetriesBusy - busyBefore; busy != 0 {
		t.Errorf("%d transactions retried after SQLITE_BUSY, want none: in-process writers queue", busy)
	}
	t.Logf("%d bets placed during %d resolves", len(bets.latencies), settle)
	v, err := w.svc.Checker.Check(ctx)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, x := range v {
		t.Errorf("invariant broken: %s", x)
	}
}
