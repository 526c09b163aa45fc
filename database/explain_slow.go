package database

import (
	"context"
	"log/slog"
	"regexp"
	"time"

	"gorm.io/gorm"

	"socialpredict/database/diagnostics"
	"socialpredict/internal/confkit"
)

// explainInBackground returns the query monitor's hook that logs the plan of
// a slow SELECT. The plan is taken on another pool connection in the
// background, at most one at a time (a slow query that arrives while one is
// being explained is not explained), within diagnostics.DefaultExplainTimeout.
// PostgreSQL prints the bound arguments as literals in the plan ("Index
// Cond: (key_hash = '…'::text)"): unless logArgs (monitoring.log_query_args),
// the quoted literals of the logged plan are masked, as the slow query log
// leaves the arguments out.
func explainInBackground(db *gorm.DB, log *slog.Logger, logArgs bool) func(ctx context.Context, sql string, vars []any) {
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
			text := plan.Text
			if !logArgs {
				text = maskLiterals(text)
			}
			log.WarnContext(ctx, "slow query plan", "sql", truncate(sql, 500), "summary", plan.Summary.String(),
				"plan", truncate(text, 4000))
		}()
	}
}

// planLiteral is a quoted SQL string literal, in which a doubled quote
// stands for a quote.
var planLiteral = regexp.MustCompile(`'(?:[^']|'')*'`)

// maskLiterals masks the string literals of a plan: the arguments, and the
// constants of the statement.
func maskLiterals(plan string) string {
	return planLiteral.ReplaceAllLiteralString(plan, "'"+confkit.Masked+"'")
}
