package dbreport_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/internal/dbreport"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
)

// migrated is the application's schema.
var migrated = dbtest.Schema{Name: migrations.Fingerprint(), Migrate: migrations.Up}

// debugSecret is a query argument the report must never show.
const debugSecret = "hunter2-debug-secret"

// TestReportKeepsTheDebugSections: the sections /debug/db always had are
// still there, filled, and no query argument leaks.
func TestReportKeepsTheDebugSections(t *testing.T) {
	dbtest.Run(t, migrated, func(t *testing.T, tdb *dbtest.TestDB) {
		cfg := tdb.Config
		cfg.Monitoring.SlowQueryThreshold = time.Nanosecond // every statement is slow
		cfg.Monitoring.NPlusOneThreshold = 2
		db, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(dbtest.Logger()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		ctx, _ := database.WithQueryScope(database.WithOperationID(context.Background(), "req-debug"))
		for range 3 { // slow, and an N+1 pattern at the third run
			if err := db.Conn(ctx).Exec("SELECT CAST(? AS text) AS debug_probe", debugSecret).Error; err != nil {
				t.Fatal(err)
			}
		}
		v := dbreport.Build(context.Background(), dbreport.Source{DB: db,
			Migrations: migration.NewMigrationManager(db.GormDB(), migrations.All())}, dbreport.Options{})
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), debugSecret) {
			t.Errorf("the report holds a query argument:\n%s", raw)
		}
		var sections map[string]json.RawMessage
		if err := json.Unmarshal(raw, &sections); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"driver", "generated_at", "pool", "slow_queries", "n_plus_one", "locks", "health", "migrations"} {
			if s, ok := sections[key]; !ok || string(s) == "null" {
				t.Errorf("section %s missing:\n%s", key, raw)
			}
		}
		var r dbreport.Report
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		debugReportChecks(t, tdb.Engine, r)
		// The process's slow statements and N+1 patterns are findings too.
		expect(t, v, "queries", "slow_queries", dbreport.StatusInfo, "slow statements kept in memory", "debug_probe")
		expect(t, v, "queries", "n_plus_one", dbreport.StatusInfo, "1 N+1 patterns kept in memory; the latest: 3×", "debug_probe")
	})
}

// debugReportChecks checks the content of each section of r.
func debugReportChecks(t *testing.T, engine dbtest.Engine, r dbreport.Report) {
	t.Helper()
	if r.Driver != string(engine) || r.Health == nil || r.Health.State != database.Healthy || r.HealthError != "" {
		t.Errorf("driver %s, health %+v (%s), want a healthy %s", r.Driver, r.Health, r.HealthError, engine)
	}
	if r.Pool.Open < 1 || r.Pool.Open != r.Pool.InUse+r.Pool.Idle || r.Pool != r.Health.Pool {
		t.Errorf("pool %+v, want open connections, as in health.pool %+v", r.Pool, r.Health.Pool)
	}
	var probe *database.SlowQuery
	for i, q := range r.SlowQueries {
		if strings.Contains(q.SQL, "debug_probe") {
			probe = &r.SlowQueries[i]
			break
		}
	}
	if probe == nil || !strings.Contains(probe.Caller, "report_test.go:") || probe.OperationID != "req-debug" {
		t.Errorf("slow queries %+v, want the probe from this file with operation req-debug", r.SlowQueries)
	}
	if len(r.NPlusOne) != 1 || !strings.Contains(r.NPlusOne[0].SQL, "debug_probe") || r.NPlusOne[0].Count != 3 {
		t.Errorf("N+1 findings %+v, want the probe, reported at its third run", r.NPlusOne)
	}
	switch engine {
	case dbtest.Postgres:
		if !r.Locks.Inspected || r.Locks.Report == nil {
			t.Errorf("locks %+v, want the lock report", r.Locks)
		}
	default:
		if r.Locks.Inspected || !strings.Contains(r.Locks.Note, "does not apply") {
			t.Errorf("locks %+v, want a note that lock inspection does not apply", r.Locks)
		}
	}
	if len(r.Migrations) == 0 || r.MigrationsError != "" {
		t.Fatalf("migrations %+v (%s)", r.Migrations, r.MigrationsError)
	}
	for _, m := range r.Migrations {
		if m.State != migration.StateApplied {
			t.Errorf("migration %s is %s, want applied", m.Version, m.State)
		}
	}
}
