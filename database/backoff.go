package database

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff computes capped exponential delays with jitter, for retrying
// connections and transactions.
type Backoff struct {
	// Initial is the nominal delay before the first retry.
	Initial time.Duration
	// Max caps the nominal delay.
	Max time.Duration
}

// Delay returns the delay before retry number n (0 for the first retry): a
// nominal delay of Initial·2ⁿ capped at Max, of which the upper half is
// random ("equal jitter"). Until the cap is reached a delay is never shorter
// than the one before it, while concurrent retriers still spread out.
func (b Backoff) Delay(n int) time.Duration {
	d := b.Max
	if n < 62 && b.Initial<<n > 0 && b.Initial<<n < b.Max {
		d = b.Initial << n
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(d-half+1)
}

// Retry is the one retry loop of the package (connections, transactions,
// statements): it runs once until once returns nil, retry(err) returns false,
// attempts runs were made, or ctx ends. Before each rerun it calls
// onRetry(attempt, delay, err) (attempt counts from 1) and waits delay, the
// backoff's Delay(attempt-1). It returns once's last error, with
// cancelled true when ctx ended before a retryable error could be retried
// (ctx.Err() tells why).
func (b Backoff) Retry(ctx context.Context, attempts int, retry func(error) bool,
	onRetry func(attempt int, delay time.Duration, err error), once func(attempt int) error) (cancelled bool, err error) {
	for attempt := 1; ; attempt++ {
		err = once(attempt)
		if err == nil || !retry(err) || attempt >= attempts || ctx.Err() != nil {
			return err != nil && retry(err) && ctx.Err() != nil, err
		}
		delay := b.Delay(attempt - 1)
		onRetry(attempt, delay, err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return true, err
		case <-t.C:
		}
	}
}
