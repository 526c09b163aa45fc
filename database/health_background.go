package database

import (
	"context"
	"time"
)

// Last returns the report of the most recent check (run by Check or in the
// background), and false when no check has finished yet. It never touches
// the database, so a readiness probe can call it as often as it likes.
func (c *DatabaseHealthChecker) Last() (*HealthReport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.last != nil
}

// Start checks the database once, then every health_check.interval in a
// goroutine, until ctx ends or Stop is called; Last returns the latest
// report. The first check has finished when Start returns (it takes at most
// health_check.timeout). Start does nothing when the checker is already
// running. A check cut short by Stop is not recorded.
func (c *DatabaseHealthChecker) Start(ctx context.Context) {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.done != nil {
		return
	}
	ctx, c.stop = context.WithCancel(ctx)
	c.done = make(chan struct{})
	c.runBackground(ctx)
	go c.loop(ctx, c.done)
}

func (c *DatabaseHealthChecker) loop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.runBackground(ctx)
		}
	}
}

// runBackground runs one check and records it unless ctx ended meanwhile.
func (c *DatabaseHealthChecker) runBackground(ctx context.Context) {
	obs := c.observe(ctx)
	if ctx.Err() != nil {
		return
	}
	_, _ = c.record(obs) // the report, error included, is Last's
}

// Stop stops the background checks started by Start and waits for the
// goroutine to end (an in-flight check is cancelled). It does nothing when
// the checker is not running; Start may be called again afterwards.
func (c *DatabaseHealthChecker) Stop() {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.done == nil {
		return
	}
	c.stop()
	<-c.done
	c.stop, c.done = nil, nil
}
