package database

import (
	"sync"
	"time"

	"socialpredict/database/diagnostics"
)

// maxRecent bounds monitoring.recent_slow_queries and
// monitoring.recent_n_plus_one.
const maxRecent = 1000

// SlowQuery is one slow statement the query monitor kept (see
// QueryMonitor.RecentSlow). It never holds the statement's arguments.
type SlowQuery struct {
	// Start is when the statement started (UTC).
	Start time.Time `json:"start"`
	// Duration is how long it ran.
	Duration time.Duration `json:"duration_ns"`
	// SQL is the statement as the slow query log shows it: placeholders
	// for the parameters, truncated to 2000 bytes.
	SQL string `json:"sql"`
	// Rows is the number of rows it returned or changed.
	Rows int64 `json:"rows"`
	// Caller is the file:line of the code that ran it.
	Caller string `json:"caller"`
	// OperationID is the unit of work's id (see WithOperationID), if any.
	OperationID string `json:"operation_id,omitempty"`
	// ErrorClass is the class of its error (as in db_client_errors_total:
	// a SQLSTATE class, sqlite_N, canceled or other), empty when it
	// succeeded.
	ErrorClass string `json:"error_class,omitempty"`
	// Plan is its plan, when monitoring.explain_slow_queries captured one;
	// it arrives a little after the entry (EXPLAIN runs in the background).
	Plan *SlowQueryPlan `json:"plan,omitempty"`
}

// SlowQueryPlan is the plan of a slow SELECT.
type SlowQueryPlan struct {
	// Summary is the plan's top node.
	Summary diagnostics.PlanSummary `json:"summary"`
	// Text is the plan with its constants masked (see
	// diagnostics.Plan.MaskedText), truncated to 4000 bytes.
	Text string `json:"text"`
}

// NPlusOneEvent is one N+1 pattern the query monitor kept (see
// QueryMonitor.RecentNPlusOne).
type NPlusOneEvent struct {
	// At is when it was found (UTC).
	At time.Time `json:"at"`
	NPlusOne
	// OperationID is the unit of work's id (see WithOperationID), if any.
	OperationID string `json:"operation_id,omitempty"`
}

// RecentSlow returns the latest slow statements, newest first: at most
// monitoring.recent_slow_queries of them (none when it is 0). The slice is
// a copy; safe for concurrent use.
func (m *QueryMonitor) RecentSlow() []SlowQuery {
	out := m.slow.newestFirst()
	for i := range out {
		if p := out[i].Plan; p != nil {
			c := *p
			out[i].Plan = &c
		}
	}
	return out
}

// RecentNPlusOne returns the latest N+1 findings of every scope, newest
// first: at most monitoring.recent_n_plus_one of them. The slice is a copy;
// safe for concurrent use.
func (m *QueryMonitor) RecentNPlusOne() []NPlusOneEvent { return m.nPlusOne.newestFirst() }

// ring keeps the last entries added to it. Its methods are safe for
// concurrent use; a ring of size 0 keeps nothing.
type ring[T any] struct {
	mu  sync.Mutex
	buf []T
	// next is the sequence number of the next entry; entry s is in
	// buf[s%len(buf)] while next-s <= len(buf).
	next uint64
}

// newRing returns a ring of n entries, n clamped to [0, maxRecent].
func newRing[T any](n int) *ring[T] {
	return &ring[T]{buf: make([]T, min(max(n, 0), maxRecent))}
}

// add keeps v, dropping the oldest entry when the ring is full, and returns
// v's sequence number.
func (r *ring[T]) add(v T) uint64 {
	if len(r.buf) == 0 {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.next
	r.buf[s%uint64(len(r.buf))] = v
	r.next++
	return s
}

// update runs fn on entry s while the ring still holds it.
func (r *ring[T]) update(s uint64, fn func(*T)) {
	if len(r.buf) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s < r.next && r.next-s <= uint64(len(r.buf)) {
		fn(&r.buf[s%uint64(len(r.buf))])
	}
}

// newestFirst returns a copy of the entries, newest first.
func (r *ring[T]) newestFirst() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := uint64(len(r.buf))
	out := make([]T, 0, min(r.next, n))
	for s := r.next; s > 0 && r.next-s < n; s-- {
		out = append(out, r.buf[(s-1)%n])
	}
	return out
}
