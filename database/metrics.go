package database

import (
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// LatencyBuckets are the buckets of the latency histograms, in seconds: the
// OpenTelemetry database client buckets, 1 ms to 10 s.
var LatencyBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// GroupCommitBuckets are the buckets of db_group_commit_batch_size.
var GroupCommitBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128}

// Metrics are the Prometheus collectors of the database layer. They live on
// the registry given to NewMetrics; nothing is global.
type Metrics struct {
	// QueryDuration: db_client_operation_duration_seconds{db_system,operation,table}.
	QueryDuration *prometheus.HistogramVec
	// QueryErrors: db_client_errors_total{db_system,error_class}, by SQLSTATE
	// class on PostgreSQL ("23", "40"...), by result code on SQLite.
	QueryErrors *prometheus.CounterVec
	// SlowQueries: db_client_slow_queries_total{db_system,operation,table}.
	SlowQueries *prometheus.CounterVec
	// NPlusOne: db_client_n_plus_one_total{db_system,operation,table}.
	NPlusOne *prometheus.CounterVec
	// Transactions: db_transactions_total{outcome} (commit, rollback).
	Transactions *prometheus.CounterVec
	// TransactionDuration: db_transaction_duration_seconds{outcome}.
	TransactionDuration *prometheus.HistogramVec
	// TransactionRetries: db_transaction_retries_total{reason}.
	TransactionRetries *prometheus.CounterVec
	// HealthStatus: db_health_status{state} is 1 for the current state
	// (healthy, degraded, unhealthy) and 0 for the others.
	HealthStatus *prometheus.GaugeVec
	// HealthCheckDuration: db_health_check_duration_seconds.
	HealthCheckDuration prometheus.Histogram
	// MigrationsApplied: db_migrations_applied_total{direction}.
	MigrationsApplied *prometheus.CounterVec
	// WriteQueueWait: db_sqlite_write_queue_wait_seconds, how long each
	// SQLite writer waited in the process's write queue (0 when it found the
	// slot free).
	WriteQueueWait prometheus.Histogram
	// ReplicaLag: db_replica_lag_seconds{replica}, each streaming replica's
	// lag as last measured.
	ReplicaLag *prometheus.GaugeVec
	// ReplicaInRotation: db_replica_in_rotation{replica}, 1 when stale-OK
	// reads may go to the replica, 0 when it is out of rotation.
	ReplicaInRotation *prometheus.GaugeVec
	// ReplicaReads: db_replica_reads_total{replica}, reads routed to each
	// replica.
	ReplicaReads *prometheus.CounterVec
	// ReplicaFallbacks: db_replica_fallbacks_total{reason}, stale-OK reads
	// that went to the writer (read_your_writes, no_replica_in_rotation).
	ReplicaFallbacks *prometheus.CounterVec
	// GroupCommitBatchSize: db_group_commit_batch_size{group}, the number of
	// items in each batch a Group ran (1: a lone item).
	GroupCommitBatchSize *prometheus.HistogramVec
	// GroupCommitFallbacks: db_group_commit_fallbacks_total{group}, batches
	// that failed as a whole and whose items were run again one by one.
	GroupCommitFallbacks *prometheus.CounterVec

	reg prometheus.Registerer
}

// NewMetrics creates the collectors and registers them on reg. It panics if
// they are already registered there (a programming error).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		QueryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "db_client_operation_duration_seconds", Help: "Duration of database statements.", Buckets: LatencyBuckets,
		}, []string{"db_system", "operation", "table"}),
		QueryErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_client_errors_total", Help: "Failed database statements, by SQLSTATE class (PostgreSQL) or result code (SQLite).",
		}, []string{"db_system", "error_class"}),
		SlowQueries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_client_slow_queries_total", Help: "Statements slower than monitoring.slow_query_threshold.",
		}, []string{"db_system", "operation", "table"}),
		NPlusOne: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_client_n_plus_one_total", Help: "N+1 query patterns detected (one per call site and unit of work).",
		}, []string{"db_system", "operation", "table"}),
		Transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_transactions_total", Help: "Finished transactions, by outcome.",
		}, []string{"outcome"}),
		TransactionDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "db_transaction_duration_seconds", Help: "Duration of transactions, retries included.", Buckets: LatencyBuckets,
		}, []string{"outcome"}),
		TransactionRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_transaction_retries_total", Help: "Transactions and statements rerun after a retryable error, by reason.",
		}, []string{"reason"}),
		HealthStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "db_health_status", Help: "1 for the current database health state, 0 for the others.",
		}, []string{"state"}),
		HealthCheckDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "db_health_check_duration_seconds", Help: "Duration of database health checks.", Buckets: LatencyBuckets,
		}),
		MigrationsApplied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_migrations_applied_total", Help: "Migrations applied or reverted by this process.",
		}, []string{"direction"}),
		WriteQueueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "db_sqlite_write_queue_wait_seconds", Help: "Time SQLite writers waited for their turn in the process's write queue.", Buckets: LatencyBuckets,
		}),
		ReplicaLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "db_replica_lag_seconds", Help: "Lag of each streaming replica, as last measured.",
		}, []string{"replica"}),
		ReplicaInRotation: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "db_replica_in_rotation", Help: "1 when stale-OK reads may go to the replica, 0 when it is out of rotation.",
		}, []string{"replica"}),
		ReplicaReads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_replica_reads_total", Help: "Stale-OK reads served by each replica.",
		}, []string{"replica"}),
		ReplicaFallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_replica_fallbacks_total", Help: "Stale-OK reads sent to the writer, by reason.",
		}, []string{"reason"}),
		GroupCommitBatchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "db_group_commit_batch_size", Help: "Items in each group-commit batch (1: a lone item).", Buckets: GroupCommitBuckets,
		}, []string{"group"}),
		GroupCommitFallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_group_commit_fallbacks_total", Help: "Group-commit batches that failed as a whole and were run again one item at a time.",
		}, []string{"group"}),
		reg: reg,
	}
	reg.MustRegister(m.QueryDuration, m.QueryErrors, m.SlowQueries, m.NPlusOne, m.Transactions, m.TransactionDuration,
		m.TransactionRetries, m.HealthStatus, m.HealthCheckDuration, m.MigrationsApplied, m.WriteQueueWait,
		m.ReplicaLag, m.ReplicaInRotation, m.ReplicaReads, m.ReplicaFallbacks,
		m.GroupCommitBatchSize, m.GroupCommitFallbacks)
	return m
}

// RegisterPool exports the statistics of a connection pool (open, in use,
// idle, waits, wait time, connections closed by reason) as go_sql_* metrics
// labelled db_name=name.
func (m *Metrics) RegisterPool(db *sql.DB, name string) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// ObserveTx records a finished transaction; it implements TxObserver.
func (m *Metrics) ObserveTx(outcome string, d time.Duration) {
	m.Transactions.WithLabelValues(outcome).Inc()
	m.TransactionDuration.WithLabelValues(outcome).Observe(d.Seconds())
}

// ObserveRetry records a retry; it implements TxObserver.
func (m *Metrics) ObserveRetry(reason string) { m.TransactionRetries.WithLabelValues(reason).Inc() }

// TxObserver is told about transactions as they end and are retried.
type TxObserver interface {
	// ObserveTx records a finished outermost transaction: outcome is
	// "commit" or "rollback".
	ObserveTx(outcome string, d time.Duration)
	// ObserveRetry records a rerun, with its reason (see RetryReason).
	ObserveRetry(reason string)
}
