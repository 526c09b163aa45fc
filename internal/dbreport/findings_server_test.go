package dbreport_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/internal/dbreport"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
)

// TestFindingLeakedTransaction: a transaction of this process held past
// the leak threshold is a problem, shown with the stack that began it.
func TestFindingLeakedTransaction(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		tdb := dbtest.New(t, engine, dbtest.Empty)
		release, began := make(chan struct{}), make(chan struct{})
		errc := make(chan error, 1)
		go func() {
			errc <- tdb.Handle.Transactions().Transact(context.Background(), func(context.Context) error {
				close(began)
				<-release
				return nil
			}, database.ReadOnly())
		}()
		<-began
		defer func() {
			close(release)
			if err := <-errc; err != nil {
				t.Error(err)
			}
		}()
		time.Sleep(100 * time.Millisecond)
		checker, err := database.NewHealthChecker(tdb.Handle, tdb.Config.HealthCheck, database.WithHealthLeakThreshold(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		r := build(t, tdb.Handle, checker, dbreport.Options{})
		expect(t, r, "health", "transactions", dbreport.StatusFail, "1 transactions or connections held longer than 50ms", "findings_server_test.go:")
		if l := r.Sessions.Leaked; len(l) != 1 || !strings.Contains(l[0].Stack, "findings_server_test.go:") {
			t.Errorf("leaked %+v, want the transaction with its stack", l)
		}
	})
}

// TestFindingConnections: the server's connections against max_connections.
func TestFindingConnections(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	if s := r.Connections.Server; s == nil || s.Total < 1 || s.MaxConnections < s.Total {
		t.Fatalf("server connections %+v", s)
	}
	// Filling a shared server's connections would break other tests: the
	// condition is a limit below this server's use.
	r = build(t, tdb.Handle, nil, dbreport.Options{ConnectionsPct: 1e-9})
	expect(t, r, "connections", "server_connections", dbreport.StatusWarn, "client connections of", "new connections will soon be refused")
}

// TestFindingReplicationSlot: an inactive slot that retains WAL is a
// problem (past Options.SlotBytes).
func TestFindingReplicationSlot(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	admin := open(t, tdb, true)
	slot := fmt.Sprintf("ops_test_%d", time.Now().UnixNano())
	if _, err := admin.Exec("SELECT pg_create_physical_replication_slot($1, true)", slot); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("SELECT pg_drop_replication_slot($1)", slot); err != nil {
			t.Error(err)
		}
	})
	run(t, open(t, tdb, false), "CREATE TABLE wal (v text)", "INSERT INTO wal SELECT repeat('x', 100) FROM generate_series(1, 1000)")
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	if len(findings(r, "replication", "replication_slots")) != 0 {
		t.Errorf("a slot retaining a few kB is a problem: %+v", r.FindingsOf("replication"))
	}
	var found bool
	for _, s := range r.Replication.Report.Slots {
		found = found || (s.Name == slot && !s.Active && s.RetainedBytes > 0)
	}
	if !found {
		t.Errorf("slots %+v, want %s inactive and retaining WAL", r.Replication.Report.Slots, slot)
	}
	r = build(t, tdb.Handle, nil, dbreport.Options{SlotBytes: 1})
	expect(t, r, "replication", "replication_slots", dbreport.StatusFail, "inactive replication slot "+slot+" (physical) retains", "pg_drop_replication_slot('"+slot+"')")
}

// TestFindingSettings: a setting that looks wrong is a warning with the
// reason, against this database's own settings and this process's pool.
func TestFindingSettings(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	if _, err := open(t, tdb, true).Exec(`ALTER DATABASE "` + dbName(t, tdb) + `" SET synchronous_commit = off`); err != nil {
		t.Fatal(err)
	}
	cfg := tdb.Config
	cfg.ConnectionPool.MaxOpenConns = 9000
	cfg.ConnectionPool.MaxIdleConns = 1
	db, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := build(t, db, nil, dbreport.Options{})
	expect(t, r, "settings", "synchronous_commit", dbreport.StatusWarn, "synchronous_commit = off: a crash can lose the last transactions")
	expect(t, r, "settings", "max_connections", dbreport.StatusWarn, "pool may open 9000 connections")
	for _, s := range r.Settings.List {
		if s.Name == "synchronous_commit" && s.Source != "database" {
			t.Errorf("synchronous_commit comes from %q, want database", s.Source)
		}
	}
}

// TestFindingStatements: without pg_stat_statements the report says how
// to enable it; installed but not preloaded, it says so. Resetting it is
// refused: the application's role may not (only superusers may, unless
// granted), and the server has not loaded it.
func TestFindingStatements(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	admin := open(t, tdb, true)
	var preload string
	if err := admin.QueryRow("SHOW shared_preload_libraries").Scan(&preload); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(preload, "pg_stat_statements") {
		t.Skip("this server preloads pg_stat_statements: the conditions of this test cannot be made")
	}
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	expect(t, r, "queries", "pg_stat_statements", dbreport.StatusInfo, "not installed", "shared_preload_libraries", "CREATE EXTENSION pg_stat_statements")
	if _, err := admin.Exec("CREATE EXTENSION pg_stat_statements"); err != nil {
		t.Fatal(err)
	}
	r = build(t, tdb.Handle, nil, dbreport.Options{})
	expect(t, r, "queries", "pg_stat_statements", dbreport.StatusInfo, "installed", "not load")
	if st := r.Queries.Statements; st == nil || !st.Installed || st.Available {
		t.Errorf("statements %+v, want installed and not available", st)
	}
	_, err := dbreport.Act(context.Background(), tdb.Handle, dbreport.Action{Name: dbreport.ActionResetStatements})
	if !errors.Is(err, errs.ErrForbidden) || !strings.Contains(err.Error(), "GRANT EXECUTE") {
		t.Errorf("reset by the application's role = %v, want ErrForbidden saying what to grant", err)
	}
}

// TestFindingMigrations: applied is ok, pending a warning, a migration
// edited after it was applied a problem.
func TestFindingMigrations(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		empty := dbtest.New(t, engine, dbtest.Empty)
		r := dbreport.Build(context.Background(), dbreport.Source{DB: empty.Handle, Migrations: migration.NewMigrationManager(empty.DB, migrations.All())}, dbreport.Options{})
		all := migrations.All()
		versions := make([]string, len(all))
		for i, m := range all {
			versions[i] = m.Version
		}
		last := versions[len(versions)-1]
		expect(t, r, "overview", "migrations", dbreport.StatusWarn,
			fmt.Sprintf("%d migrations pending (%s)", len(all), strings.Join(versions, ", ")))

		tdb := dbtest.New(t, engine, dbtest.Schema{Name: migrations.Fingerprint(), Migrate: migrations.Up})
		mgr := migration.NewMigrationManager(tdb.DB, migrations.All())
		r = dbreport.Build(context.Background(), dbreport.Source{DB: tdb.Handle, Migrations: mgr}, dbreport.Options{})
		expect(t, r, "overview", "migrations", dbreport.StatusOK, fmt.Sprintf("%d migrations applied, the latest %s", len(all), last))
		if r.Overview.MigrationCounts["applied"] != len(all) {
			t.Errorf("migration counts %v", r.Overview.MigrationCounts)
		}
		if err := tdb.DB.Exec("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '002'").Error; err != nil {
			t.Fatal(err)
		}
		r = dbreport.Build(context.Background(), dbreport.Source{DB: tdb.Handle, Migrations: mgr}, dbreport.Options{})
		expect(t, r, "overview", "migrations", dbreport.StatusFail, "002 modified")
	})
}
