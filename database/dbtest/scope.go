package dbtest

import (
	"context"
	"testing"

	"socialpredict/database"
)

// NoNPlusOne returns ctx with a query scope and fails the test, when it
// ends, if the database's query monitor saw an N+1 pattern in that scope.
func NoNPlusOne(tb testing.TB, ctx context.Context) context.Context {
	tb.Helper()
	ctx, scope := database.WithQueryScope(ctx)
	tb.Cleanup(func() {
		for _, f := range scope.Findings() {
			tb.Errorf("N+1 query pattern: %d× from %s: %s", f.Count, f.Caller, f.SQL)
		}
	})
	return ctx
}

// MaxQueries runs fn with a scoped context and fails the test if fn issued
// more than max statements through the monitored database. It returns the
// number of statements.
func MaxQueries(tb testing.TB, max int, fn func(ctx context.Context)) int {
	tb.Helper()
	ctx, scope := database.WithQueryScope(context.Background())
	fn(ctx)
	if n := scope.Queries(); n > max {
		tb.Errorf("%d statements, want at most %d", n, max)
	}
	return scope.Queries()
}
