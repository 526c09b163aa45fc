package database

import (
	"context"
	"sync"
	"time"
)

// Group is group commit: callers that arrive while the database is busy
// with earlier ones wait in a queue and are handed to the database together,
// as one batch in one round trip and one transaction. At most
// GroupCommitConfig.MaxInFlight batches run at once (0: the pool's size); a
// caller that finds a free slot, and no running batch holding its keys,
// runs at once, alone (a lone caller never waits for company).
// When a batch finishes, the next batch is everything queued (up to
// MaxBatch), led by the first caller in it, which runs it and hands each
// caller its result. There is no background goroutine and nothing to close.
//
// Items that lock the same rows (see GroupKey) never run in two batches at
// once: an item whose rows a running batch holds waits, even with a slot
// free, and goes with the next batch formed when one finishes. So batches
// in flight never wait for each other's locks, which they would hold
// through their commits, and bets on one hot market go many per commit.
//
// A caller whose context ends while it is still queued leaves the queue
// with the context's error; once its batch has started, it waits for the
// batch's result, which is the truth about its item (a placed bet is not
// reported as failed). The batch's context is the leader's values with the
// earliest deadline of its callers (so no caller waits past its own), and
// is cancelled only when every caller's context has been cancelled: one
// client going away does not fail its neighbours.
//
// Its methods are safe for concurrent use.
type Group[T, R any] struct {
	run         func(ctx context.Context, items []T) []R
	keys        func(T) []GroupKey
	maxBatch    int
	maxInFlight int
	metrics     *Metrics
	name        string

	mu       sync.Mutex
	queue    []*groupCall[T, R]
	inFlight int
	// busy are the keys of the items of the batches running.
	busy map[GroupKey]struct{}
}

// GroupKey names a row an item of a Group locks (a table and a primary
// key): two batches running at once never share a key, so that they never
// wait for each other's locks (and commits); an item whose key is busy
// waits for the next batch, where it would have waited for the lock.
type GroupKey struct {
	Table string
	ID    int64
}

// groupCall is one caller of Group.Do.
type groupCall[T, R any] struct {
	ctx  context.Context
	item T
	keys []GroupKey
	// lead receives the batch this caller is to run (it is its first item).
	lead chan []*groupCall[T, R]
	// done is closed when res is set.
	done chan struct{}
	res  R
}

// GroupOf returns the database's group commit named name, created on first
// use with run, keys and the handle's configuration (database.group_commit);
// every handle of the database, bound or not, shares it. run takes a batch
// and returns one result per item, in order (a failure of the whole batch is
// a result for each item); it is called outside any transaction. keys names
// the rows an item locks. name labels the metrics
// (db_group_commit_batch_size{group}). Every call with one name must use
// the same T, R and functions.
func GroupOf[T, R any](db *DB, name string, run func(ctx context.Context, items []T) []R, keys func(T) []GroupKey) *Group[T, R] {
	if g, ok := db.groups.Load(name); ok {
		return g.(*Group[T, R])
	}
	c := db.cfg.GroupCommit
	inFlight := c.MaxInFlight
	if inFlight == 0 {
		inFlight = db.cfg.ConnectionPool.MaxOpenConns
	}
	g, _ := db.groups.LoadOrStore(name, &Group[T, R]{run: run, keys: keys, maxBatch: max(c.MaxBatch, 1),
		maxInFlight: max(inFlight, 1), metrics: db.metrics, name: name, busy: map[GroupKey]struct{}{}})
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
// MaxInFlight batches are running and none holds its keys, else in a later
// batch. It returns the item's result, or ctx's error when ctx ended while
// the item was queued (then the item was not run).
func (g *Group[T, R]) Do(ctx context.Context, item T) (R, error) {
	c := &groupCall[T, R]{ctx: ctx, item: item, keys: g.keys(item), lead: make(chan []*groupCall[T, R], 1), done: make(chan struct{})}
	g.mu.Lock()
	if g.inFlight < g.maxInFlight && !g.isBusy(c) {
		g.inFlight++
		g.take(c)
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
// results, frees the slot and the batch's keys, then starts the batches
// the queue now allows.
func (g *Group[T, R]) lead(batch []*groupCall[T, R]) {
	g.runBatch(batch)
	g.mu.Lock()
	g.inFlight--
	for _, c := range batch {
		for _, k := range c.keys {
			delete(g.busy, k)
		}
	}
	var next [][]*groupCall[T, R]
	for g.inFlight < g.maxInFlight {
		b := g.form()
		if b == nil {
			break
		}
		g.inFlight++
		next = append(next, b)
	}
	g.mu.Unlock()
	for _, b := range next {
		b[0].lead <- b
	}
}

// form takes the next batch out of the queue: the queued items, in order,
// whose keys no running batch holds, up to MaxBatch, marking their keys
// busy; nil when there is none. Called with mu held.
func (g *Group[T, R]) form() []*groupCall[T, R] {
	var batch []*groupCall[T, R]
	rest := g.queue[:0]
	for _, c := range g.queue {
		if len(batch) < g.maxBatch && !g.isBusy(c) {
			batch = append(batch, c)
			continue
		}
		rest = append(rest, c)
	}
	// Marked after the scan, so that items of this batch may share keys.
	for _, c := range batch {
		g.take(c)
	}
	clear(g.queue[len(rest):])
	g.queue = rest
	return batch
}

// isBusy reports whether a running batch holds one of c's keys. Called
// with mu held.
func (g *Group[T, R]) isBusy(c *groupCall[T, R]) bool {
	for _, k := range c.keys {
		if _, ok := g.busy[k]; ok {
			return true
		}
	}
	return false
}

// take marks c's keys busy. Called with mu held.
func (g *Group[T, R]) take(c *groupCall[T, R]) {
	for _, k := range c.keys {
		g.busy[k] = struct{}{}
	}
}

// runBatch runs the items of batch with a context that ends at the
// earliest of the callers' deadlines or when every caller's context has
// ended, and sets each caller's result.
func (g *Group[T, R]) runBatch(batch []*groupCall[T, R]) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx))
	defer cancel()
	if len(batch) == 1 {
		ctx = batch[0].ctx
	} else {
		var earliest time.Time
		for _, c := range batch {
			if d, ok := c.ctx.Deadline(); ok && (earliest.IsZero() || d.Before(earliest)) {
				earliest = d
			}
		}
		if !earliest.IsZero() {
			var cancelDeadline context.CancelFunc
			ctx, cancelDeadline = context.WithDeadline(ctx, earliest)
			defer cancelDeadline()
		}
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
