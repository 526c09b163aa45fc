package database

import (
	"context"
	"errors"
	"runtime"
	"testing"
)

// TestWriteQueueCancelRacingGrant: a waiter whose context ends as the slot
// is handed to it either takes the slot (acquire returns nil) or passes it
// on (acquire returns the context's error); the slot is never lost nor left
// held. Both events happen under the queue's lock, in both orders.
func TestWriteQueueCancelRacingGrant(t *testing.T) {
	var took, passed int
	for i := range 100 {
		q := newWriteQueue(0, nil)
		if err := q.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- q.acquire(ctx) }()
		for q.waiting() != 1 { // the counter proves the waiter queued
			runtime.Gosched()
		}
		q.mu.Lock()
		if i%2 == 0 {
			q.handOff()
			cancel()
		} else {
			cancel()
			q.handOff()
		}
		q.mu.Unlock()
		switch err := <-done; {
		case err == nil:
			took++
			q.release()
		case errors.Is(err, context.Canceled):
			passed++
		default:
			t.Fatalf("acquire = %v, want nil or context.Canceled", err)
		}
		if q.held || len(q.waiters) != 0 {
			t.Fatalf("round %d: afterwards the slot is held (%v) or has waiters (%d)", i, q.held, len(q.waiters))
		}
	}
	t.Logf("%d waiters took the slot, %d passed it on", took, passed)
}

// TestWriteQueueDoneContextDoesNotTakeTheSlot: a writer whose context has
// already ended does not take even a free slot.
func TestWriteQueueDoneContextDoesNotTakeTheSlot(t *testing.T) {
	q := newWriteQueue(0, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire = %v, want context.Canceled", err)
	}
	if q.held {
		t.Error("the slot is held")
	}
}
