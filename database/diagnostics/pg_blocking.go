package diagnostics

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// BlockingSession is a session holding (or queued ahead for) a lock that
// other sessions of the current database wait for.
type BlockingSession struct {
	// PID is the blocking backend's process id; Blocking the pids it blocks.
	PID      int   `json:"pid"`
	Blocking []int `json:"blocking"`
	// State is pg_stat_activity's: an "idle in transaction" blocker is
	// waiting for its client, not for the database.
	State string `json:"state"`
	// InTransaction is how long its transaction has been open; InState how
	// long it has been in State.
	InTransaction time.Duration `json:"in_transaction_ns"`
	InState       time.Duration `json:"in_state_ns"`
	// User and Application identify the session.
	User        string `json:"user"`
	Application string `json:"application"`
	// Query is its current or last statement, truncated to 200 characters.
	Query string `json:"query"`
}

// BlockingSessions returns the sessions that block others in the current
// database, the longest-open transaction first (at most 100). On another
// engine it returns an error matching errors.ErrUnsupported; otherwise the
// query's error, wrapped.
func BlockingSessions(ctx context.Context, db *gorm.DB) ([]BlockingSession, error) {
	if err := requirePostgres(db, "blocking sessions"); err != nil {
		return nil, err
	}
	var rows []struct {
		Pid                  int // GORM would read PID from a column p_id
		Blocking, State      string
		User, Application    string
		TransactionS, StateS float64
		Query                string
	}
	err := db.WithContext(ctx).Raw(`
WITH waits AS (
	SELECT a.pid AS waiter, unnest(pg_blocking_pids(a.pid)) AS blocker
	FROM pg_stat_activity a
	WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
)
SELECT b.pid, array_to_string(array_agg(DISTINCT w.waiter), ',') AS blocking,
       coalesce(b.state, '') AS state, coalesce(b.usename::text, '') AS "user",
       coalesce(b.application_name, '') AS application,
       coalesce(EXTRACT(EPOCH FROM clock_timestamp() - b.xact_start), 0)::float8 AS transaction_s,
       coalesce(EXTRACT(EPOCH FROM clock_timestamp() - b.state_change), 0)::float8 AS state_s,
       left(coalesce(b.query, ''), ?) AS query
FROM waits w JOIN pg_stat_activity b ON b.pid = w.blocker
GROUP BY b.pid, b.state, b.usename, b.application_name, b.xact_start, b.state_change, b.query
ORDER BY transaction_s DESC, b.pid
LIMIT ?`, healthQueryLen+1, healthLockRows).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("blocking sessions: %w", err)
	}
	out := make([]BlockingSession, 0, len(rows))
	for _, r := range rows {
		out = append(out, BlockingSession{
			PID: r.Pid, Blocking: parsePIDs(r.Blocking), State: r.State, User: r.User, Application: r.Application,
			InTransaction: seconds(r.TransactionS), InState: seconds(r.StateS), Query: truncateQuery(r.Query),
		})
	}
	return out, nil
}
