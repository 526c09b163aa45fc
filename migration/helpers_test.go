package migration_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"socialpredict/database/dbtest"
	"socialpredict/migration"
)

var ctx = context.Background()

// quiet discards the manager's logs.
var quiet = slog.New(slog.DiscardHandler)

// manager returns a manager of migs on db with a short lock timeout.
func manager(db *gorm.DB, migs []migration.Migration, opts ...migration.Option) *migration.MigrationManager {
	return migration.NewMigrationManager(db, migs, append([]migration.Option{
		migration.WithLogger(quiet), migration.WithLockTimeout(30 * time.Second), migration.WithAppliedBy("test"),
	}, opts...)...)
}

// snapshot describes the schema of db, history tables excluded, one line per
// column, index and constraint: on PostgreSQL from the catalog, on SQLite
// from sqlite_master.
func snapshot(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	query := `SELECT type || ' ' || name || ' ' || tbl_name || ' ' || coalesce(sql, '') FROM sqlite_master
		WHERE name NOT LIKE 'sqlite_%' AND tbl_name NOT LIKE 'schema_migrations%' ORDER BY 1`
	if db.Dialector.Name() == "postgres" {
		query = `SELECT d FROM (
			SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable
				|| ' default=' || coalesce(column_default, '') || ' identity=' || is_identity
				|| ' domain=' || coalesce(domain_name, '') AS d
			FROM information_schema.columns WHERE table_schema = 'public'
			UNION ALL
			SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid))
			FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
			UNION ALL
			SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
			UNION ALL
			SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
			FROM pg_constraint WHERE connamespace = 'public'::regnamespace
		) s WHERE d NOT LIKE '%schema_migrations%' ORDER BY 1`
	}
	var lines []string
	if err := db.Raw(query).Scan(&lines).Error; err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return lines
}

// postgresOnly are the migrations that change only PostgreSQL's schema
// (SQLite gets no statements): on SQLite they change nothing.
var postgresOnly = map[string]bool{"004": true, "005": true, "008": true}

// sameSchema fails the test when two snapshots differ.
func sameSchema(t *testing.T, what string, got, want []string) {
	t.Helper()
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("%s: schema differs (-got +want):\n%s", what, diff)
	}
}

// hasTable reports whether db has the table.
func hasTable(db *gorm.DB, name string) bool { return db.Migrator().HasTable(name) }

// createTable is a migration that creates (and drops) a one-column table.
func createTable(version, table string) migration.Migration {
	return migration.FromSQL(version, "create "+table,
		migration.Same("CREATE TABLE "+table+" (id INTEGER PRIMARY KEY)"),
		migration.Same("DROP TABLE "+table))
}

// failingAfter is a migration that creates a table and then fails.
func failingAfter(version, table string, noTx bool) migration.Migration {
	m := createTable(version, table)
	up := m.Up
	m.Up = func(db *gorm.DB) error {
		if err := up(db); err != nil {
			return err
		}
		return errors.New("boom after creating " + table)
	}
	m.NoTransaction = noTx
	return m
}

// states returns version → state from Status.
func states(t *testing.T, m *migration.MigrationManager) map[string]migration.State {
	t.Helper()
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	out := map[string]migration.State{}
	for _, s := range st {
		out[s.Version] = s.State
	}
	return out
}

// logLines returns "version direction success" for each log row.
func logLines(t *testing.T, m *migration.MigrationManager) []string {
	t.Helper()
	entries, err := m.Log(ctx)
	if err != nil {
		t.Fatalf("Log: %v", err)
	}
	var out []string
	for _, e := range entries {
		ok := "ok"
		if !e.Success {
			ok = "failed"
		}
		out = append(out, strings.Join([]string{e.Version, e.Direction, ok}, " "))
	}
	return out
}

// each runs fn on both engines with an empty database.
func each(t *testing.T, fn func(t *testing.T, tdb *dbtest.TestDB)) {
	dbtest.Run(t, dbtest.Empty, fn)
}
