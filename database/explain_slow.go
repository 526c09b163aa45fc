package database

import (
	"context"
	"log/slog"
	"socialpredict/database/diagnostics"
	"time"

	"gorm.io/gorm"
)

// explainInBackground returns the query monitor's hook that logs the plan of
// a slow SELECT and passes it to done. The plan is taken on another pool
// connection in the background, at most one at a time (a slow query that
// arrives while one is being explained is not explained), within
// diagnostics.DefaultExplainTimeout. Its constants, which PostgreSQL takes
// from the statement's arguments, are logged only with
// monitoring.log_query_args.
func explainInBackground(db *gorm.DB, log *slog.Logger, logArgs bool) func(ctx context.Context, sql string, vars []any, done func(*diagnostics.Plan)) {
	busy := make(chan struct{}, 1)
	return func(ctx context.Context, sql string, vars []any, done func(*diagnostics.Plan)) {
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
			text := plan.Text
			if !logArgs {
				text = plan.MaskedText()
			}
			log.WarnContext(ctx, "slow query plan", "sql", truncate(sql, 500), "summary", plan.Summary.String(),
				"plan", truncate(text, maxPlanText))
			done(plan)
		}()
	}
}
