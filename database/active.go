package database

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ActiveTx describes a transaction in progress, or a connection taken from
// the pool, for leak detection.
type ActiveTx struct {
	// Kind is "transaction" or "connection".
	Kind string `json:"kind"`
	// Started is when the transaction began (its first attempt).
	Started time.Time `json:"started"`
	// Stack is the call stack of the code that began it.
	Stack string `json:"stack"`
}

// activeSet tracks the transactions in progress: the program counters of
// their callers are captured when they begin (cheap), the stack text only
// when someone asks.
type activeSet struct {
	kind string
	mu   sync.Mutex
	next atomic.Int64
	txs  map[int64]activeEntry
}

type activeEntry struct {
	started time.Time
	pcs     []uintptr
}

func (s *activeSet) add() int64 {
	pcs := make([]uintptr, 32)
	pcs = pcs[:runtime.Callers(3, pcs)]
	id := s.next.Add(1)
	s.mu.Lock()
	if s.txs == nil {
		s.txs = map[int64]activeEntry{}
	}
	s.txs[id] = activeEntry{started: time.Now(), pcs: pcs}
	s.mu.Unlock()
	return id
}

func (s *activeSet) remove(id int64) {
	s.mu.Lock()
	delete(s.txs, id)
	s.mu.Unlock()
}

// olderThan returns the transactions begun more than d ago, oldest first.
func (s *activeSet) olderThan(d time.Duration) []ActiveTx {
	s.mu.Lock()
	var entries []activeEntry
	for _, e := range s.txs {
		if time.Since(e.started) > d {
			entries = append(entries, e)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(entries, func(a, b activeEntry) int { return a.started.Compare(b.started) })
	out := make([]ActiveTx, len(entries))
	for i, e := range entries {
		out[i] = ActiveTx{Kind: s.kind, Started: e.started, Stack: formatStack(e.pcs)}
	}
	return out
}

// formatStack renders program counters as "function\n\tfile:line" lines.
func formatStack(pcs []uintptr) string {
	var b strings.Builder
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		b.WriteString(f.Function)
		b.WriteString("\n\t")
		b.WriteString(f.File)
		b.WriteString(":")
		b.WriteString(strconv.Itoa(f.Line))
		b.WriteString("\n")
		if !more {
			break
		}
	}
	return b.String()
}
