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
	for attempt := 1; ; attempt++ {
		start := time.Now()
		actx, cancel := context.WithTimeout(ctx, r.AttemptTimeout)
		err := db.PingContext(actx)
		cancel()
		if err == nil {
			log.Info("database connected", "attempt", attempt, "latency", time.Since(start))
			return nil
		}
		err = redact(err, cfg.Password)
		if ctx.Err() != nil {
			log.Warn("database connection cancelled", "attempt", attempt, "error", err)
			return fmt.Errorf("connect to %s: cancelled after %s: %w", cfg.Target(), attempts(attempt), ctx.Err())
		}
		if attempt >= r.Attempts {
			log.Error("database connection failed, giving up", "attempt", attempt, "attempts", r.Attempts, "error", err)
			return fmt.Errorf("%w: connect to %s: gave up after %s: %w", errs.ErrUnavailable, cfg.Target(), attempts(attempt), err)
		}
		delay := backoff.Delay(attempt - 1)
		log.Warn("database connection failed, retrying", "attempt", attempt, "attempts", r.Attempts, "retry_in", delay, "error", err)
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("connect to %s: cancelled after %s: %w", cfg.Target(), attempts(attempt), ctx.Err())
		case <-timer.C:
		}
	}
}

// attempts renders "1 attempt" or "n attempts".
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}
