package database

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// testGroup returns a Group over ints whose run doubles each item after
// calling during (with the batch), keyed by key.
func testGroup(maxBatch, maxInFlight int, key func(int) int64, during func([]int)) *Group[int, int] {
	return &Group[int, int]{
		run: func(_ context.Context, items []int) []int {
			during(items)
			out := make([]int, len(items))
			for i, it := range items {
				out[i] = 2 * it
			}
			return out
		},
		keys:        func(it int) []GroupKey { return []GroupKey{{Table: "t", ID: key(it)}} },
		maxBatch:    maxBatch,
		maxInFlight: maxInFlight,
		busy:        map[GroupKey]struct{}{},
	}
}

// TestGroupLoneCallerRunsAlone: a caller that finds nothing running runs
// at once in a batch of its own.
func TestGroupLoneCallerRunsAlone(t *testing.T) {
	var sizes []int
	g := testGroup(64, 1, func(int) int64 { return 1 }, func(b []int) { sizes = append(sizes, len(b)) })
	for i := range 5 {
		got, err := g.Do(t.Context(), i)
		if err != nil || got != 2*i {
			t.Fatalf("Do(%d) = %d, %v; want %d", i, got, err, 2*i)
		}
	}
	if len(sizes) != 5 || sizes[0] != 1 || sizes[4] != 1 {
		t.Errorf("batch sizes %v, want five batches of one", sizes)
	}
}

// TestGroupKeysAndLimits: many callers at once, on few keys: every caller
// gets its own item's result, no two batches running at once share a key,
// at most maxInFlight batches run at once, none holds more than maxBatch
// items, and callers that contend are batched.
func TestGroupKeysAndLimits(t *testing.T) {
	const callers, maxBatch, maxInFlight = 200, 8, 3
	var (
		mu       sync.Mutex
		running  = map[int64]bool{}
		inFlight int
		largest  int
		batches  int
		problems []string
	)
	key := func(it int) int64 { return int64(it % 5) }
	g := testGroup(maxBatch, maxInFlight, key, func(b []int) {
		mu.Lock()
		batches++
		inFlight++
		largest = max(largest, len(b))
		if inFlight > maxInFlight {
			problems = append(problems, "too many batches in flight")
		}
		if len(b) > maxBatch {
			problems = append(problems, "batch over max_batch")
		}
		mine := map[int64]bool{}
		for _, it := range b {
			k := key(it)
			if running[k] && !mine[k] {
				problems = append(problems, "a key in two running batches")
			}
			running[k], mine[k] = true, true
		}
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		for k := range mine {
			delete(running, k)
		}
		inFlight--
		mu.Unlock()
	})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			if got, err := g.Do(t.Context(), i); err != nil || got != 2*i {
				mu.Lock()
				problems = append(problems, "wrong result")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, p := range problems {
		t.Error(p)
	}
	if batches >= callers || largest < 2 {
		t.Errorf("%d batches for %d callers, the largest of %d: want contending callers batched", batches, callers, largest)
	}
	if len(g.queue) != 0 || g.inFlight != 0 || len(g.busy) != 0 {
		t.Errorf("after the callers: %d queued, %d in flight, %d keys busy; want none", len(g.queue), g.inFlight, len(g.busy))
	}
}

// TestGroupQueuedCallerLeavesOnCancel: a caller whose context ends while it
// waits in the queue returns the context's error, and its item is never run.
func TestGroupQueuedCallerLeavesOnCancel(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var (
		mu  sync.Mutex
		ran []int
	)
	g := testGroup(64, 1, func(int) int64 { return 1 }, func(b []int) {
		mu.Lock()
		ran = append(ran, b...)
		mu.Unlock()
		started <- struct{}{}
		if b[0] == 0 {
			<-release
		}
	})
	first := make(chan error, 1)
	go func() { _, err := g.Do(t.Context(), 0); first <- err }()
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	queued := make(chan error, 1)
	go func() { _, err := g.Do(ctx, 1); queued <- err }()
	for {
		g.mu.Lock()
		n := len(g.queue)
		g.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Errorf("queued caller: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("running caller: %v", err)
	}
	if got, err := g.Do(t.Context(), 2); err != nil || got != 4 {
		t.Errorf("Do after: %d, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, it := range ran {
		if it == 1 {
			t.Errorf("the cancelled caller's item ran (items run: %v)", ran)
		}
	}
}

// TestGroupBatchDeadlineIsTheEarliest: a batch runs with the earliest
// deadline of its callers, so that none waits for it past its own.
func TestGroupBatchDeadlineIsTheEarliest(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	deadlines := make(chan time.Time, 10)
	g := testGroup(64, 1, func(int) int64 { return 1 }, nil)
	g.run = func(ctx context.Context, items []int) []int {
		d, _ := ctx.Deadline()
		deadlines <- d
		started <- struct{}{}
		if items[0] == 0 {
			<-release
		}
		return make([]int, len(items))
	}
	go func() { _, _ = g.Do(t.Context(), 0) }()
	<-started
	<-deadlines
	early, late := time.Now().Add(time.Hour), time.Now().Add(2*time.Hour)
	done := make(chan struct{}, 2)
	for _, d := range []time.Time{late, early} {
		ctx, cancel := context.WithDeadline(t.Context(), d)
		defer cancel()
		go func() { _, _ = g.Do(ctx, 1); done <- struct{}{} }()
		for {
			g.mu.Lock()
			n := len(g.queue)
			g.mu.Unlock()
			if n > 0 && (d == early) == (n == 2) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	close(release)
	<-done
	<-done
	if got := <-deadlines; !got.Equal(early) {
		t.Errorf("the batch of two ran with deadline %v, want the earlier one %v", got, early)
	}
}
