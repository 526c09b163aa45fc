package database

import (
	"context"
	"sync"
)

// Group is group commit: callers that arrive while the database is busy
// with earlier ones wait in a queue and are handed to the database together,
// as one batch in one round trip and one transaction. At most
// GroupCommitConfig.MaxInFlight batches run at once; a caller that finds a
// free slot runs at once, alone (a lone caller never waits for company).
// When a batch finishes, the next batch is everything queued (up to
// MaxBatch), led by the first caller in it, which runs it and hands each
// caller its result. There is no background goroutine and nothing to close.
//
// A caller whose context ends while it is still queued leaves the queue
// with the context's error; once its batch has started, it waits for the
// batch's result, which is the truth about its item (a placed bet is not
// reported as failed). The batch's context is the leader's without its
// cancellation, cancelled only when every caller's context has ended.
//
// Its methods are safe for concurrent use.
type Group[T, R any] struct {
	run         func(ctx context.Context, items []T) []R
	maxBatch    int
	maxInFlight int
	metrics     *Metrics
	name        string

	mu       sync.Mutex
	queue    []*groupCall[T, R]
	inFlight int
}

// groupCall is one caller of Group.Do.
type groupCall[T, R any] struct {
	ctx  context.Context
	item T
	// lead receives the batch this caller is to run (it is its first item).
	lead chan []*groupCall[T, R]
	// done is closed when res is set.
	done chan struct{}
	res  R
}

// GroupOf returns the database's group commit named name, created on first
// use with run and the handle's configuration (database.group_commit); every
// handle of the database, bound or not, shares it. run takes a batch and
// returns one result per item, in order (a failure of the whole batch is a
// result for each item); it is called outside any transaction. name labels
// the metrics (db_group_commit_batch_size{group}). Every call with one name
// must use the same T and R.
func GroupOf[T, R any](db *DB, name string, run func(ctx context.Context, items []T) []R) *Group[T, R] {
	if g, ok := db.groups.Load(name); ok {
		return g.(*Group[T, R])
	}
	c := db.cfg.GroupCommit
	g, _ := db.groups.LoadOrStore(name, &Group[T, R]{run: run, maxBatch: max(c.MaxBatch, 1),
		maxInFlight: max(c.MaxInFlight, 1), metrics: db.metrics, name: name})
	return g.(*Group[T, R])
}

// Fallback counts a batch that failed as a whole and whose items were run
// again one by one (db_group_commit_fallbacks_total).
func (g *Group[T, R]) Fallback() {
	if g.metrics != nil {
		g.metrics.GroupCommitFallbacks.WithLabelValues(g.name).Inc()
	}
}

// Do runs item with the group: at once and alone when fewer than
// MaxInFlight batches are running, else in the next batch. It returns the
// item's result, or ctx's error when ctx ended while the item was queued
// (then the item was not run).
func (g *Group[T, R]) Do(ctx context.Context, item T) (R, error) {
	c := &groupCall[T, R]{ctx: ctx, item: item, lead: make(chan []*groupCall[T, R], 1), done: make(chan struct{})}
	g.mu.Lock()
	if g.inFlight < g.maxInFlight {
		g.inFlight++
		g.mu.Unlock()
		g.lead([]*groupCall[T, R]{c})
		return c.res, nil
	}
	g.queue = append(g.queue, c)
	g.mu.Unlock()
	select {
	case batch := <-c.lead:
		g.lead(batch)
		return c.res, nil
	case <-c.done:
		return c.res, nil
	case <-ctx.Done():
	}
	if g.leave(c) {
		var zero R
		return zero, ctx.Err()
	}
	// Already in a batch: its result is the item's truth.
	select {
	case batch := <-c.lead:
		g.lead(batch)
	case <-c.done:
	}
	return c.res, nil
}

// leave takes c out of the queue, reporting whether it was still there.
func (g *Group[T, R]) leave(c *groupCall[T, R]) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.queue {
		if q == c {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return true
		}
	}
	return false
}

// lead runs batch (holding one of the in-flight slots), hands out the
// results, then passes the slot to the next batch, or frees it.
func (g *Group[T, R]) lead(batch []*groupCall[T, R]) {
	g.runBatch(batch)
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.inFlight--
		g.mu.Unlock()
		return
	}
	n := min(len(g.queue), g.maxBatch)
	next := make([]*groupCall[T, R], n)
	copy(next, g.queue)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	g.mu.Unlock()
	next[0].lead <- next
}

// runBatch runs the items of batch with a context that ends when every
// caller's has ended, and sets each caller's result.
func (g *Group[T, R]) runBatch(batch []*groupCall[T, R]) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx))
	defer cancel()
	if len(batch) == 1 {
		ctx = batch[0].ctx
	} else {
		var (
			mu   sync.Mutex
			left = len(batch)
		)
		for _, c := range batch {
			stop := context.AfterFunc(c.ctx, func() {
				mu.Lock()
				defer mu.Unlock()
				if left--; left == 0 {
					cancel()
				}
			})
			defer stop()
		}
	}
	items := make([]T, len(batch))
	for i, c := range batch {
		items[i] = c.item
	}
	if g.metrics != nil {
		g.metrics.GroupCommitBatchSize.WithLabelValues(g.name).Observe(float64(len(batch)))
	}
	res := g.run(ctx, items)
	for i, c := range batch {
		c.res = res[i]
		close(c.done)
	}
}
