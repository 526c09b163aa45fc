package dbreport_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/internal/dbreport"
	"socialpredict/migration/migrations"
)

// Each finding of db doctor and the ops page on SQLite, from its condition
// created on a real file.

func TestFindingsSQLiteFile(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	g := tdb.DB
	for _, q := range []string{
		"CREATE TABLE junk (id integer PRIMARY KEY, pad text NOT NULL)",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO junk SELECT i, printf('%.1000c', 'x') FROM n",
		"DROP TABLE junk",
		"CREATE TABLE kept (id integer PRIMARY KEY, v text)",
		"CREATE INDEX kept_v ON kept (v)",
		"INSERT INTO kept VALUES (1, 'a'), (2, 'b')",
	} {
		if err := g.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	r := build(t, tdb.Handle, nil, dbreport.Options{IntegrityCheck: true})
	expect(t, r, "sqlite", "freelist", dbreport.StatusOK, "pages free")
	expect(t, r, "sqlite", "integrity_check", dbreport.StatusOK, "integrity_check: ok")
	expect(t, r, "sqlite", "sqlite_stat1", dbreport.StatusInfo, "no planner statistics")
	f := r.SQLite.File
	if f == nil || f.FreelistCount < 400 || f.WALBytes == 0 || f.JournalMode != "wal" || f.Path != tdb.Config.SQLite.Path {
		t.Fatalf("sqlite file %+v, want 2 MB of free pages, a WAL and the path", f)
	}
	// The thresholds under a dropped 2 MB table and a WAL of some pages.
	r = build(t, tdb.Handle, nil, dbreport.Options{SQLiteFreeBytes: 1 << 20, SQLiteWALBytes: 4096})
	expect(t, r, "sqlite", "freelist", dbreport.StatusWarn, "VACUUM would give them back")
	expect(t, r, "sqlite", "wal", dbreport.StatusWarn, "checkpoints cannot reset it")
	for _, sec := range []dbreport.Section{r.Queries.Section, r.Connections.Section, r.Sessions.Section, r.Maintenance.Section, r.Replication.Section, r.Settings.Section} {
		if sec.NotApplicable != "not on SQLite" {
			t.Errorf("a PostgreSQL section says %+v, want not on SQLite", sec)
		}
	}
	if err := g.Exec("ANALYZE").Error; err != nil {
		t.Fatal(err)
	}
	r = build(t, tdb.Handle, nil, dbreport.Options{})
	if len(findings(r, "sqlite", "sqlite_stat1")) != 0 {
		t.Errorf("analyzed, yet %+v", findings(r, "sqlite", "sqlite_stat1"))
	}
}

// TestFindingSQLiteCorrupt: a damaged page fails integrity_check.
func TestFindingSQLiteCorrupt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := database.DefaultConfig()
	cfg.Driver, cfg.SQLite.Path = database.DriverSQLite, filepath.Join(t.TempDir(), "corrupt.db")
	cfg.Monitoring.LogLevel = "silent"
	db, err := database.NewDatabase(ctx, cfg, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	for _, q := range []string{
		"CREATE TABLE t (id integer PRIMARY KEY, v text NOT NULL)",
		"CREATE INDEX t_v ON t (v)",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO t SELECT i, printf('value %d', i) FROM n",
		"PRAGMA wal_checkpoint(TRUNCATE)",
	} {
		if err := db.GormDB().Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.GormDB().Raw("SELECT rootpage FROM sqlite_master WHERE name = 't_v'").Scan(&root).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.GormDB().Raw("PRAGMA page_size").Scan(&pageSize).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Overwrite the cells of the index's root page, keeping its header.
	f, err := os.OpenFile(cfg.SQLite.Path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("\xa5", int(pageSize)-200))
	if _, err := f.WriteAt(garbage, (root-1)*pageSize+100); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = database.NewDatabase(ctx, cfg, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := build(t, db, nil, dbreport.Options{IntegrityCheck: true})
	fs := findings(r, "sqlite", "integrity_check")
	if len(fs) != 1 || fs[0].Status != dbreport.StatusFail || !strings.Contains(fs[0].Message, "restore from a backup") {
		t.Errorf("integrity_check of a damaged file: %+v, want a failure", fs)
	}
}

// TestFindingSQLitePlans: the project's queries as SQLite plans them.
func TestFindingSQLitePlans(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Schema{Name: migrations.Fingerprint(), Migrate: migrations.Up})
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	plans := map[string]dbreport.QueryPlan{}
	for _, p := range r.Indexes.Plans {
		plans[p.Name] = p
	}
	if p := plans["a market's bets"]; p.Error != "" || len(p.Indexes) != 1 || p.Indexes[0] != "bets_market_placed_idx" {
		t.Errorf("a market's bets: %+v, want bets_market_placed_idx", p)
	}
	expect(t, r, "indexes", "query_plans", dbreport.StatusInfo, "leaderboard reads table users in full")
	for _, q := range []string{"DROP INDEX bets_market_placed_idx", "CREATE INDEX bets_amount_idx ON bets (amount)"} {
		if err := tdb.DB.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	r = build(t, tdb.Handle, nil, dbreport.Options{})
	expect(t, r, "indexes", "query_plans", dbreport.StatusInfo, "a market's bets reads table bets in full")
	expect(t, r, "indexes", "unused_indexes", dbreport.StatusInfo, "bets_amount_idx")

	empty := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	r = build(t, empty.Handle, nil, dbreport.Options{})
	expect(t, r, "indexes", "query_plans", dbreport.StatusSkipped, "tables are missing")
}

// TestActionsSQLite: ANALYZE from the allow-list only; the PostgreSQL
// actions do not apply.
func TestActionsSQLite(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	ctx := context.Background()
	if err := tdb.DB.Exec(`CREATE TABLE "odd ""name""" (id integer PRIMARY KEY, v text)`).Error; err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE INDEX odd_v ON "odd ""name""" (v)`, `INSERT INTO "odd ""name""" VALUES (1, 'a'), (2, 'b')`} {
		if err := tdb.DB.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	res, err := dbreport.Act(ctx, tdb.Handle, dbreport.Action{Name: dbreport.ActionAnalyze, Table: `odd "name"`})
	if err != nil || res.Message != `analyzed odd "name"` {
		t.Errorf("analyze = %+v, %v", res, err)
	}
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	if len(r.SQLite.File.Stat1) == 0 || r.SQLite.File.Stat1[0].Table != `odd "name"` {
		t.Errorf("sqlite_stat1 %+v after ANALYZE", r.SQLite.File.Stat1)
	}
	for _, c := range []struct {
		a    dbreport.Action
		want error
	}{
		{dbreport.Action{Name: dbreport.ActionAnalyze, Table: `odd "name"; DROP TABLE x`}, errs.ErrInvalidInput},
		{dbreport.Action{Name: dbreport.ActionAnalyze, Table: "sqlite_master"}, errs.ErrInvalidInput},
		{dbreport.Action{Name: dbreport.ActionCancel, PID: 1}, errs.ErrConflict},
		{dbreport.Action{Name: dbreport.ActionCancel}, errs.ErrInvalidInput},
		{dbreport.Action{Name: dbreport.ActionResetStatements}, errs.ErrConflict},
		{dbreport.Action{Name: "drop"}, errs.ErrInvalidInput},
	} {
		if _, err := dbreport.Act(ctx, tdb.Handle, c.a); !errors.Is(err, c.want) {
			t.Errorf("%s = %v, want %v", c.a, err, c.want)
		}
	}
	res, err = dbreport.Act(ctx, tdb.Handle, dbreport.Action{Name: dbreport.ActionIntegrityCheck})
	if err != nil || len(res.Integrity) != 1 || res.Integrity[0] != "ok" {
		t.Errorf("integrity_check = %+v, %v", res, err)
	}
}
