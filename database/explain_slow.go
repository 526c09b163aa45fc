package database

import (
	"context"
	"log/slog"
	"socialpredict/database/diagnostics"
	"time"

	"gorm.io/gorm"
)

// explainInBackground returns the query monitor's hook that logs the plan of
// a slow SELECT. The plan is taken on another pool connection in the
// background, at most one at a time (a slow query that arrives while one is
// being explained is not explained), within diagnostics.DefaultExplainTimeout.
func explainInBackground(db *gorm.DB, log *slog.Logger) func(ctx context.Context, sql string, vars []any) {
	busy := make(chan struct{}, 1)
	return func(ctx context.Context, sql string, vars []any) {
		select {
		case busy <- struct{}{}:
		default:
			return
		}
		go func() {
			defer func() { <-busy }()
			ctx, cancel := context.WithTimeout(ctx, diagnostics.DefaultExplainTimeout+time.Second)
			defer cancel()
			plan, err := diagnostics.Explain(ctx, db, sql, vars, diagnostics.ExplainOptions{})
			if err != nil {
				log.WarnContext(ctx, "slow query plan unavailable", "sql", truncate(sql, 500), "error", err)
				return
			}
			log.WarnContext(ctx, "slow query plan", "sql", truncate(sql, 500), "summary", plan.Summary.String(),
				"plan", truncate(plan.Text, 4000))
		}()
	}
}
