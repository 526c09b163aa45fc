package database

import (
	"context"
	"sync"
)

type operationIDKey struct{}

// WithOperationID returns ctx carrying id (an HTTP request id, a job id),
// which the slow query and N+1 logs include.
func WithOperationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, operationIDKey{}, id)
}

// OperationID returns the id WithOperationID put in ctx, or "".
func OperationID(ctx context.Context) string {
	id, _ := ctx.Value(operationIDKey{}).(string)
	return id
}

type scopeKey struct{}

// QueryScope is one unit of work (an HTTP request, a job) in which the query
// monitor looks for N+1 patterns: the same query shape issued from the same
// call site more than a threshold number of times.
type QueryScope struct {
	parent   *QueryScope
	mu       sync.Mutex
	counts   map[scopeKeyOf]int
	total    int
	findings []NPlusOne
}

// NPlusOne is one N+1 pattern found in a scope.
type NPlusOne struct {
	// Caller is the file:line that issued the queries.
	Caller string `json:"caller"`
	// SQL is the query shape (with placeholders).
	SQL string `json:"sql"`
	// Count is how many times it ran when it was reported (threshold + 1).
	Count int `json:"count"`
}

// WithQueryScope returns ctx carrying a new scope, and the scope. A scope
// opened inside another one counts its queries in both.
func WithQueryScope(ctx context.Context) (context.Context, *QueryScope) {
	s := &QueryScope{counts: map[scopeKeyOf]int{}, parent: scopeFrom(ctx)}
	return context.WithValue(ctx, scopeKey{}, s), s
}

func scopeFrom(ctx context.Context) *QueryScope {
	s, _ := ctx.Value(scopeKey{}).(*QueryScope)
	return s
}

// record counts one query and returns the finding when it crosses threshold
// (once per caller and shape).
func (s *QueryScope) record(caller, sql string, threshold int) *NPlusOne {
	key := scopeKeyOf{caller, sql}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	s.counts[key]++
	if threshold <= 0 || s.counts[key] != threshold+1 {
		return nil
	}
	f := NPlusOne{Caller: caller, SQL: sql, Count: s.counts[key]}
	s.findings = append(s.findings, f)
	return &f
}

// scopeKeyOf is a query shape from a call site.
type scopeKeyOf struct{ caller, sql string }

// Findings returns the N+1 patterns found so far.
func (s *QueryScope) Findings() []NPlusOne {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]NPlusOne(nil), s.findings...)
}

// Queries returns how many statements the scope saw.
func (s *QueryScope) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
