package database

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"socialpredict/errs"
	"time"
)

// connectWithRetry pings db until it answers, at most cfg.ConnectRetry.Attempts
// times, sleeping a capped exponential backoff with jitter between attempts.
// It logs one line per attempt and stops early when ctx ends.
func connectWithRetry(ctx context.Context, db *sql.DB, cfg Config, log *slog.Logger) error {
	r := cfg.ConnectRetry
	backoff := Backoff{Initial: r.InitialBackoff, Max: r.MaxBackoff}
	log = log.With("target", cfg.Target(), "dsn", cfg.RedactedDSN())
	made := 0
	cancelled, err := backoff.Retry(ctx, r.Attempts, func(error) bool { return true },
		func(attempt int, delay time.Duration, err error) {
			log.Warn("database connection failed, retrying", "attempt", attempt, "attempts", r.Attempts, "retry_in", delay, "error", err)
		},
		func(attempt int) error {
			made = attempt
			start := time.Now()
			actx, cancel := context.WithTimeout(ctx, r.AttemptTimeout)
			err := db.PingContext(actx)
			cancel()
			if err == nil {
				log.Info("database connected", "attempt", attempt, "latency", time.Since(start))
				return nil
			}
			return redact(err, cfg.Password)
		})
	switch {
	case err == nil:
		return nil
	case cancelled:
		log.Warn("database connection cancelled", "attempt", made, "error", err)
		return fmt.Errorf("connect to %s: cancelled after %s: %w", cfg.Target(), attempts(made), ctx.Err())
	}
	log.Error("database connection failed, giving up", "attempt", made, "attempts", r.Attempts, "error", err)
	return fmt.Errorf("%w: connect to %s: gave up after %s: %w", errs.ErrUnavailable, cfg.Target(), attempts(made), err)
}

// attempts renders "1 attempt" or "n attempts".
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}
