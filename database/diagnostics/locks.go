package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// LockThresholds say when InspectLocks reports a session.
type LockThresholds struct {
	// LongRunning: statements running longer than this are reported.
	LongRunning time.Duration
	// IdleInTransaction: sessions idle inside a transaction for longer than
	// this are reported.
	IdleInTransaction time.Duration
}

// LockReport is what InspectLocks found among the sessions of the current
// PostgreSQL database (the inspecting session excluded). A session can
// appear both as blocked and as long-running.
type LockReport struct {
	// Blocked are the sessions waiting for a lock another session holds.
	Blocked []BlockedSession `json:"blocked"`
	// LongRunning are the statements running past LockThresholds.LongRunning.
	LongRunning []SessionActivity `json:"long_running"`
	// IdleInTransaction are the sessions idle inside a transaction past
	// LockThresholds.IdleInTransaction: they hold their locks and snapshot.
	IdleInTransaction []SessionActivity `json:"idle_in_transaction"`
}

// BlockedSession is a session waiting for a lock.
type BlockedSession struct {
	// PID is the blocked backend's process id.
	PID int `json:"pid"`
	// BlockedBy are the process ids holding (or queued ahead for) the lock,
	// from pg_blocking_pids.
	BlockedBy []int `json:"blocked_by"`
	// Waiting is how long the blocked statement has been running.
	Waiting time.Duration `json:"waiting_ns"`
	// WaitEvent is pg_stat_activity's "type:event", e.g. "Lock:transactionid".
	WaitEvent string `json:"wait_event"`
	// User and Application identify the session.
	User        string `json:"user"`
	Application string `json:"application"`
	// Query is the blocked statement, truncated to 200 characters.
	Query string `json:"query"`
}

// SessionActivity is a session that is running or idle in a transaction
// for too long.
type SessionActivity struct {
	// PID is the backend's process id.
	PID int `json:"pid"`
	// State is pg_stat_activity's: "active", "idle in transaction"...
	State string `json:"state"`
	// Duration is how long the statement has been running (active) or the
	// session has been idle in its transaction.
	Duration time.Duration `json:"duration_ns"`
	// User and Application identify the session.
	User        string `json:"user"`
	Application string `json:"application"`
	// Query is the current or last statement, truncated to 200
	// characters.
	Query string `json:"query"`
}

// healthQueryLen is how much of a statement a LockReport keeps; healthLockRows
// bounds the sessions one inspection returns.
const (
	healthQueryLen = 200
	healthLockRows = 100
)

// healthLockSQL reads, in one round trip, the sessions of the current
// database that are blocked, running too long or idle in a transaction too
// long. pg_blocking_pids is called once per session: fine every few seconds,
// not on every request.
const healthLockSQL = `
SELECT pid, usename, application_name, state, wait_event, blocked_by, running_s, in_state_s, query
FROM (
	SELECT a.pid,
		COALESCE(a.usename::text, '') AS usename,
		COALESCE(a.application_name, '') AS application_name,
		COALESCE(a.state, '') AS state,
		COALESCE(a.wait_event_type || ':' || a.wait_event, '') AS wait_event,
		COALESCE(array_to_string(pg_blocking_pids(a.pid), ','), '') AS blocked_by,
		COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - a.query_start), 0)::float8 AS running_s,
		COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - a.state_change), 0)::float8 AS in_state_s,
		left(COALESCE(a.query, ''), ?) AS query
	FROM pg_stat_activity a
	WHERE a.datname = current_database()
		AND a.pid <> pg_backend_pid()
		AND a.backend_type = 'client backend'
) s
WHERE blocked_by <> ''
	OR (state = 'active' AND running_s > ?)
	OR (state LIKE 'idle in transaction%' AND in_state_s > ?)
ORDER BY blocked_by = '', GREATEST(running_s, in_state_s) DESC
LIMIT ?`

// InspectLocks reports, on PostgreSQL, the sessions of the current database
// (other than its own) that are blocked by another session, running a
// statement longer than th.LongRunning, or idle in a transaction longer than
// th.IdleInTransaction. Query texts are truncated; at most 100 sessions are
// returned, blocked ones first. On another engine it returns an error
// matching errors.ErrUnsupported; otherwise the query's error, wrapped.
func InspectLocks(ctx context.Context, db *gorm.DB, th LockThresholds) (LockReport, error) {
	var rep LockReport
	if name := db.Dialector.Name(); name != driverPostgres {
		return rep, fmt.Errorf("lock monitoring is not supported on %s: %w", name, errors.ErrUnsupported)
	}
	rows, err := db.WithContext(ctx).Raw(healthLockSQL, healthQueryLen+1,
		th.LongRunning.Seconds(), th.IdleInTransaction.Seconds(), healthLockRows).Rows()
	if err != nil {
		return rep, fmt.Errorf("inspect locks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			pid                                    int
			user, app, state, wait, blocker, query string
			running, inState                       float64
		)
		if err := rows.Scan(&pid, &user, &app, &state, &wait, &blocker, &running, &inState, &query); err != nil {
			return rep, fmt.Errorf("inspect locks: %w", err)
		}
		query = truncateQuery(query)
		if blocker != "" {
			rep.Blocked = append(rep.Blocked, BlockedSession{
				PID: pid, BlockedBy: parsePIDs(blocker), Waiting: seconds(running), WaitEvent: wait,
				User: user, Application: app, Query: query,
			})
		}
		s := SessionActivity{PID: pid, State: state, User: user, Application: app, Query: query}
		switch {
		case state == "active" && running > th.LongRunning.Seconds():
			s.Duration = seconds(running)
			rep.LongRunning = append(rep.LongRunning, s)
		case strings.HasPrefix(state, "idle in transaction") && inState > th.IdleInTransaction.Seconds():
			s.Duration = seconds(inState)
			rep.IdleInTransaction = append(rep.IdleInTransaction, s)
		}
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("inspect locks: %w", err)
	}
	return rep, nil
}

// truncateQuery cuts a statement read with one character too many to
// healthQueryLen characters, marking the cut.
func truncateQuery(q string) string {
	if utf8.RuneCountInString(q) <= healthQueryLen {
		return q
	}
	return string([]rune(q)[:healthQueryLen]) + "…"
}

// parsePIDs parses "12,34".
func parsePIDs(s string) []int {
	var pids []int
	for f := range strings.SplitSeq(s, ",") {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// seconds converts seconds to a Duration, rounded to the microsecond.
func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Microsecond)
}
