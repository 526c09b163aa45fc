package database

import (
	"fmt"
	"socialpredict/database/diagnostics"
	"socialpredict/errs"
	"time"
)

// HealthState is the overall health of the database, as a readiness probe
// sees it: only Unhealthy should take the service out of rotation.
type HealthState string

// The health states, best first.
const (
	// Healthy: the test query answers and no check found a problem.
	Healthy HealthState = "healthy"
	// Degraded: the database answers, but a check found a problem (pool
	// exhausted, transaction leaked, session blocked or lingering), or the
	// test query failed fewer than health_check.retries times in a row.
	Degraded HealthState = "degraded"
	// Unhealthy: the test query failed health_check.retries times in a row.
	Unhealthy HealthState = "unhealthy"
)

// HealthStates lists every state, best first.
var HealthStates = []HealthState{Healthy, Degraded, Unhealthy}

// ErrUnhealthy is matched (with errors.Is) by the error Check returns when
// the database is Unhealthy; the error also wraps the test query's error.
// It matches errs.ErrUnavailable too: an unhealthy database answers 503.
var ErrUnhealthy = fmt.Errorf("database unhealthy: %w", errs.ErrUnavailable)

// HealthCheckStatus is the outcome of one check of a HealthReport.
type HealthCheckStatus string

// The outcomes of a check.
const (
	// HealthOK: nothing to report.
	HealthOK HealthCheckStatus = "ok"
	// HealthWarn: a problem that makes the database Degraded.
	HealthWarn HealthCheckStatus = "warn"
	// HealthFail: the test query failed (Degraded or Unhealthy, depending on
	// how many checks in a row failed).
	HealthFail HealthCheckStatus = "fail"
	// HealthSkipped: the check does not apply (an engine without the
	// feature, no TransactionManager) or could not run; it never changes
	// the state.
	HealthSkipped HealthCheckStatus = "skipped"
)

// The names of the checks, in the order a HealthReport lists them.
const (
	// HealthCheckPool: connection pool statistics and exhaustion.
	HealthCheckPool = "pool"
	// HealthCheckQuery: the test query under health_check.timeout.
	HealthCheckQuery = "query"
	// HealthCheckResponseTime: percentiles of recent test query times.
	HealthCheckResponseTime = "response_time"
	// HealthCheckTransactions: transactions held past the leak threshold.
	HealthCheckTransactions = "transactions"
	// HealthCheckLocks: sessions blocked by others (PostgreSQL).
	HealthCheckLocks = "locks"
	// HealthCheckSessions: long-running and idle-in-transaction sessions
	// (PostgreSQL).
	HealthCheckSessions = "sessions"
	// HealthCheckReplicas: the streaming replicas in and out of rotation,
	// with their lag, and the writer's pg_stat_replication (only with
	// database.replicas).
	HealthCheckReplicas = "replicas"
)

// HealthCheckResult is the outcome of one check.
type HealthCheckResult struct {
	// Name is one of the HealthCheck* names.
	Name string `json:"name"`
	// Status is the outcome.
	Status HealthCheckStatus `json:"status"`
	// Message says what was found, in words an operator can act on.
	Message string `json:"message"`
	// Duration is how long the check took (0 for checks that read memory).
	Duration time.Duration `json:"duration_ns,omitempty"`
}

// PoolHealth is the state of the connection pool when a check started.
type PoolHealth struct {
	// MaxOpen is the pool's limit (0: unlimited).
	MaxOpen int `json:"max_open"`
	// Open, InUse and Idle count connections.
	Open  int `json:"open"`
	InUse int `json:"in_use"`
	Idle  int `json:"idle"`
	// WaitCount and WaitDuration are the totals since the pool opened.
	WaitCount    int64         `json:"wait_count"`
	WaitDuration time.Duration `json:"wait_duration_ns"`
	// NewWaits is how many times a caller waited for a connection since the
	// previous check (the checker's own waits included).
	NewWaits int64 `json:"new_waits"`
	// Exhausted: every connection is in use (InUse >= MaxOpen > 0).
	Exhausted bool `json:"exhausted"`
}

// ResponseTimes summarises the successful test queries of the last checks.
type ResponseTimes struct {
	// Samples is how many test query times the window holds.
	Samples int `json:"samples"`
	// Last is this check's test query time (0 when it failed).
	Last time.Duration `json:"last_ns"`
	// P50, P95 and P99 are nearest-rank percentiles over the window.
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	P99 time.Duration `json:"p99_ns"`
}

// LeakedTx is a transaction held longer than the leak threshold.
type LeakedTx struct {
	ActiveTx
	// HeldFor is how long it had been open when the check ran.
	HeldFor time.Duration `json:"held_for_ns"`
}

// HealthReport is the outcome of one health check. It is JSON-serialisable;
// reports returned by Check and Last are shared and must not be modified.
type HealthReport struct {
	// State is the overall state, with health_check.retries applied.
	State HealthState `json:"state"`
	// Driver is the engine: postgres or sqlite.
	Driver string `json:"driver"`
	// CheckedAt is when the check started; Duration how long it took.
	CheckedAt time.Time     `json:"checked_at"`
	Duration  time.Duration `json:"duration_ns"`
	// ConsecutiveFailures counts the failed test queries in a row, this one
	// included; Retries is how many make the database Unhealthy.
	ConsecutiveFailures int `json:"consecutive_failures"`
	Retries             int `json:"retries"`
	// Checks lists every check in a fixed order (see the HealthCheck* names).
	Checks []HealthCheckResult `json:"checks"`
	// Pool, ResponseTime, LongTransactions and Locks are the details.
	Pool             PoolHealth    `json:"pool"`
	ResponseTime     ResponseTimes `json:"response_time"`
	LongTransactions []LeakedTx    `json:"long_transactions,omitempty"`
	// Locks is nil when lock monitoring did not run (SQLite, or the test
	// query failed).
	Locks *diagnostics.LockReport `json:"locks,omitempty"`
	// Replicas are the streaming replicas as last measured, and Standbys
	// the writer's pg_stat_replication (both empty without replicas).
	Replicas []ReplicaStatus `json:"replicas,omitempty"`
	Standbys []StandbyStatus `json:"standbys,omitempty"`
}

// Result returns the check named name, and whether the report has it.
func (r *HealthReport) Result(name string) (HealthCheckResult, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return HealthCheckResult{}, false
}
