package database_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/internal/pgcluster"
)

// startPrimaryAndReplica starts a throwaway primary and a streaming replica
// of it made with pg_basebackup -R -X stream (never the shared server:
// the test stops and pauses the replica).
func startPrimaryAndReplica(t *testing.T) (primary, replica *pgcluster.Cluster) {
	t.Helper()
	ctx := context.Background()
	primary, err := pgcluster.Start(ctx, pgcluster.Options{})
	if errors.Is(err, pgcluster.ErrNoBinaries) && os.Getenv(dbtest.EnvRequirePostgres) != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(primary.Destroy)
	replica, err = primary.Replica(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(replica.Destroy) // before the primary's (cleanups run last first)
	return primary, replica
}

// waitFor polls cond every 50ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStreamingReplica runs the routing rules against a real streaming
// replica: stale-OK reads go to it (and say so), other reads and
// transactions to the writer, writes are refused there, a session that
// wrote reads from the writer for read_your_writes, a replica whose replay
// is paused is taken out of rotation once further behind than
// max_replica_lag and comes back when it catches up, and one that is
// stopped is taken out and comes back when it restarts. Lag and rotation
// show in the health report and the metrics.
func TestStreamingReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts two PostgreSQL clusters")
	}
	dbtest.SkipViaPgBouncer(t, "it starts PostgreSQL clusters of its own")
	t.Parallel()
	primary, standby := startPrimaryAndReplica(t)
	ctx := context.Background()

	cfg := database.DefaultConfig()
	cfg.Driver = database.DriverPostgres
	cfg.URL = primary.URL("postgres")
	cfg.Replicas = []string{standby.URL("postgres")}
	cfg.MaxReplicaLag, cfg.ReplicaCheckInterval, cfg.ReadYourWrites = time.Second, 100*time.Millisecond, time.Second
	cfg.HealthCheck.Timeout = time.Second
	cfg.ConnectionPool.MaxOpenConns, cfg.ConnectionPool.MaxIdleConns = 4, 4
	cfg.Monitoring.LogLevel = "silent"
	db, err := database.NewDatabase(ctx, cfg, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := standby.Addr()
	status := func() database.ReplicaStatus { return db.Replicas()[0] }
	if err := db.GormDB().Exec("CREATE TABLE t (id bigint PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	stale := database.StaleOK(ctx)
	inRecovery := func(ctx context.Context) bool {
		t.Helper()
		var standby bool
		if err := db.Conn(ctx).Raw("SELECT pg_is_in_recovery()").Scan(&standby).Error; err != nil {
			t.Fatalf("read: %v", err)
		}
		return standby
	}
	// The same question through QueryRow, which routes as Conn does.
	inRecoveryRow := func(ctx context.Context) bool {
		t.Helper()
		var standby bool
		if err := db.QueryRow(ctx, "raw", "SELECT pg_is_in_recovery()", nil, func(r pgx.Row) error { return r.Scan(&standby) }); err != nil {
			t.Fatalf("QueryRow: %v", err)
		}
		return standby
	}
	waitFor(t, 30*time.Second, "the replica never came into rotation", func() bool { return status().InRotation })
	waitFor(t, 30*time.Second, "the table never reached the replica", func() bool {
		return db.Conn(stale).Exec("SELECT count(*) FROM t").Error == nil
	})

	t.Run("routing", func(t *testing.T) {
		tctx, reads := database.WithReadTracking(stale)
		if !inRecovery(tctx) {
			t.Error("a stale-OK read did not go to the replica")
		}
		if got, _, ok := reads.Replica(); !ok || got != name {
			t.Errorf("read tracker = %q, %v; want %q", got, ok, name)
		}
		if !inRecoveryRow(stale) {
			t.Error("a stale-OK QueryRow did not go to the replica")
		}
		if inRecoveryRow(ctx) {
			t.Error("a QueryRow not marked stale-OK went to the replica")
		}
		tctx, reads = database.WithReadTracking(ctx)
		if inRecovery(tctx) {
			t.Error("a read not marked stale-OK went to the replica")
		}
		if _, _, ok := reads.Replica(); ok {
			t.Error("the read tracker names a replica for a read of the writer")
		}
		err := db.Transactions().Transact(stale, func(ctx context.Context) error {
			if inRecovery(ctx) {
				t.Error("a stale-OK read inside a transaction went to the replica")
			}
			if inRecoveryRow(ctx) {
				t.Error("a stale-OK QueryRow inside a transaction went to the replica")
			}
			return nil
		}, database.ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("writes refused on the replica", func(t *testing.T) {
		err := db.Conn(stale).Exec("INSERT INTO t (id) VALUES (1)").Error
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "25006" { // read_only_sql_transaction
			t.Errorf("insert on the replica: %v, want SQLSTATE 25006", err)
		}
	})

	t.Run("read your writes", func(t *testing.T) {
		alice := database.WithSession(stale, "user:alice")
		bob := database.WithSession(stale, "user:bob")
		err := db.Transactions().Transact(alice, func(ctx context.Context) error {
			return db.Conn(ctx).Exec("INSERT INTO t (id) VALUES (2)").Error
		})
		if err != nil {
			t.Fatal(err)
		}
		if inRecovery(alice) {
			t.Error("right after her write, alice's stale-OK read went to the replica")
		}
		var n int64
		if err := db.Conn(alice).Raw("SELECT count(*) FROM t WHERE id = 2").Scan(&n).Error; err != nil || n != 1 {
			t.Errorf("alice does not see her own write: %d, %v", n, err)
		}
		if !inRecovery(bob) {
			t.Error("bob, who wrote nothing, did not read from the replica")
		}
		// A statement outside a transaction opens the window too.
		carol := database.WithSession(stale, "user:carol")
		if err := db.Conn(database.WithSession(ctx, "user:carol")).Exec("INSERT INTO t (id) VALUES (3)").Error; err != nil {
			t.Fatal(err)
		}
		if inRecovery(carol) {
			t.Error("right after her statement, carol's stale-OK read went to the replica")
		}
		time.Sleep(cfg.ReadYourWrites + 100*time.Millisecond)
		if !inRecovery(alice) {
			t.Error("after read_your_writes, alice's stale-OK read still went to the writer")
		}
	})

	t.Run("lag takes the replica out of rotation", func(t *testing.T) {
		direct := cfg
		direct.URL, direct.Replicas = standby.URL("postgres"), nil
		rdb, err := database.NewDatabase(ctx, direct, database.WithLogger(dbtest.Logger()))
		if err != nil {
			t.Fatal(err)
		}
		defer rdb.Close()
		if err := rdb.GormDB().Exec("SELECT pg_wal_replay_pause()").Error; err != nil {
			t.Fatal(err)
		}
		id := 100
		waitFor(t, 20*time.Second, "a paused replica stayed in rotation", func() bool {
			id++
			if err := db.GormDB().Exec("INSERT INTO t (id) VALUES (?)", id).Error; err != nil {
				t.Fatal(err)
			}
			s := status()
			return !s.InRotation && strings.Contains(s.Reason, "max_replica_lag")
		})
		if s := status(); s.Lag <= cfg.MaxReplicaLag {
			t.Errorf("out of rotation with lag %s, want more than %s", s.Lag, cfg.MaxReplicaLag)
		}
		if inRecovery(stale) {
			t.Error("a stale-OK read went to a replica out of rotation")
		}
		if got := testutil.ToFloat64(db.Metrics().ReplicaInRotation.WithLabelValues(name)); got != 0 {
			t.Errorf("db_replica_in_rotation = %v, want 0", got)
		}
		if got := testutil.ToFloat64(db.Metrics().ReplicaLag.WithLabelValues(name)); got <= cfg.MaxReplicaLag.Seconds() {
			t.Errorf("db_replica_lag_seconds = %v, want more than %v", got, cfg.MaxReplicaLag.Seconds())
		}
		rep, _ := db.Health().Check(ctx)
		if c, ok := rep.Result(database.HealthCheckReplicas); !ok || c.Status != database.HealthWarn || len(rep.Replicas) != 1 || len(rep.Standbys) != 1 {
			t.Errorf("health: check %+v, replicas %+v, standbys %+v; want a warning, one replica, one standby", c, rep.Replicas, rep.Standbys)
		}

		if err := rdb.GormDB().Exec("SELECT pg_wal_replay_resume()").Error; err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "a replica that caught up did not come back", func() bool { return status().InRotation })
		if !inRecovery(stale) {
			t.Error("after catching up, stale-OK reads did not go to the replica")
		}
		rep, _ = db.Health().Check(ctx)
		if c, _ := rep.Result(database.HealthCheckReplicas); c.Status != database.HealthOK {
			t.Errorf("health after catching up: %+v", c)
		}
	})

	t.Run("fallback when stopped", func(t *testing.T) {
		// A handle that measures its replica only once an hour: only a
		// failed read can take the replica out of rotation.
		slow := cfg
		slow.ReplicaCheckInterval = time.Hour
		sdb, err := database.NewDatabase(ctx, slow, database.WithLogger(dbtest.Logger()))
		if err != nil {
			t.Fatal(err)
		}
		defer sdb.Close()
		if !sdb.Replicas()[0].InRotation {
			t.Fatalf("replica not in rotation: %+v", sdb.Replicas())
		}

		if err := standby.Stop(ctx, "fast"); err != nil {
			t.Fatal(err)
		}
		var standbyNow bool
		err = sdb.Conn(stale).Raw("SELECT pg_is_in_recovery()").Scan(&standbyNow).Error
		if !errors.Is(err, errs.ErrUnavailable) && !database.IsUnavailable(err) {
			t.Errorf("the read routed to the stopped replica: %v, want unavailable", err)
		}
		if s := sdb.Replicas()[0]; s.InRotation || !strings.HasPrefix(s.Reason, "unreachable") {
			t.Errorf("after a failed read the replica is %+v, want out of rotation, unreachable", s)
		}
		if err := sdb.Conn(stale).Raw("SELECT pg_is_in_recovery()").Scan(&standbyNow).Error; err != nil || standbyNow {
			t.Errorf("the next read: standby %v, %v; want the writer", standbyNow, err)
		}

		waitFor(t, 20*time.Second, "a stopped replica stayed in rotation", func() bool {
			s := status()
			return !s.InRotation && strings.HasPrefix(s.Reason, "unreachable")
		})
		for range 5 {
			if inRecovery(stale) {
				t.Fatal("a stale-OK read went to a stopped replica")
			}
		}
		if err := standby.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "a restarted replica did not come back", func() bool { return status().InRotation })
		if !inRecovery(stale) {
			t.Error("after the restart, stale-OK reads did not go to the replica")
		}
	})
}
