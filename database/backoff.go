package database

import (
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
