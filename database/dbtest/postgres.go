package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"socialpredict/database"
	"socialpredict/internal/confkit"
)

// Environment variables the harness reads.
const (
	// EnvPostgresURL names the PostgreSQL server (as an administrator URL).
	EnvPostgresURL = "SOCIALPREDICT_TEST_POSTGRES_URL"
	// EnvRequirePostgres, set to 1, turns skipped PostgreSQL tests into failures.
	EnvRequirePostgres = "SOCIALPREDICT_TEST_REQUIRE_POSTGRES"
	// DefaultPostgresURL is used when EnvPostgresURL is not set.
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// testRole owns the template and test databases; like the application's
// role it is not a superuser.
var testRole = pgtestdb.Role{
	Username:     "socialpredict_test",
	Password:     "socialpredict_test",
	Capabilities: "NOSUPERUSER NOCREATEDB NOCREATEROLE",
}

var probe struct {
	once sync.Once
	err  error
}

// PostgresURL returns the URL of the PostgreSQL server tests use, as an
// administrator (it creates databases), after checking once per process that
// the server answers. When it does not, the test is skipped with the reason,
// or fails when SOCIALPREDICT_TEST_REQUIRE_POSTGRES=1.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvPostgresURL)
	if u == "" {
		u = DefaultPostgresURL
	}
	probe.once.Do(func() { probe.err = ping(u) })
	if probe.err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s: %v (run ./scripts/test, which starts a throwaway server, or set %s)",
			confkit.RedactURL(u), probe.err, EnvPostgresURL)
		if os.Getenv(EnvRequirePostgres) == "1" {
			tb.Fatalf("%s; %s=1 requires PostgreSQL", msg, EnvRequirePostgres)
		}
		tb.Skip(msg)
	}
	return u
}

func ping(u string) error {
	db, err := sql.Open("pgx", u)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// postgresConfig creates a fresh database cloned from schema's template and
// returns the configuration that opens it: directly, or through the test
// PgBouncer when the tests run through it (ViaPgBouncer).
func postgresConfig(tb testing.TB, schema Schema) database.Config {
	tb.Helper()
	return newPostgres(tb, schema, ViaPgBouncer())
}

// PgBouncerConfig creates a fresh database cloned from schema's template
// and returns the configuration that opens it through the test PgBouncer
// (database.pgbouncer: true), with MigrationsURL the direct connection to
// it, whatever SOCIALPREDICT_TEST_VIA_PGBOUNCER says; the test is skipped,
// or fails, as PgBouncerURL says when there is no PgBouncer. The database
// is dropped as New's are.
func PgBouncerConfig(tb testing.TB, schema Schema) database.Config {
	tb.Helper()
	PgBouncerURL(tb)
	return newPostgres(tb, schema, true)
}

// newPostgres creates the database; viaBouncer routes its configuration
// through the test PgBouncer.
func newPostgres(tb testing.TB, schema Schema, viaBouncer bool) database.Config {
	tb.Helper()
	admin, err := url.Parse(PostgresURL(tb))
	if err != nil {
		tb.Fatalf("dbtest: parse %s: %v", EnvPostgresURL, err)
	}
	password, _ := admin.User.Password()
	role := testRole
	conf := pgtestdb.Config{
		DriverName: "pgx",
		Host:       admin.Hostname(),
		Port:       admin.Port(),
		User:       admin.User.Username(),
		Password:   password,
		Database:   strings.TrimPrefix(admin.Path, "/"),
		Options:    admin.RawQuery,
		TestRole:   &role,
		// PgBouncer keeps its server connections to the test database
		// open after the test's pool closes: end them before the drop.
		ForceTerminateConnections: viaBouncer,
	}
	inst := clone(tb, conf, migrator{schema})
	cfg := testConfig()
	cfg.Driver = database.DriverPostgres
	cfg.URL = inst.URL()
	if viaBouncer {
		cfg.MigrationsURL = cfg.URL
		cfg.URL = throughPgBouncer(tb, cfg.URL)
		cfg.PgBouncer = true
		cfg.PreparedStatements = false
	}
	return cfg
}

// migrator adapts a Schema to pgtestdb's template preparation.
type migrator struct{ schema Schema }

// Hash identifies the template database of the schema.
func (m migrator) Hash() (string, error) { return m.schema.hash(), nil }

// Migrate applies the schema to the new template database.
func (m migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	if m.schema.Migrate == nil {
		return nil
	}
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: db}), &gorm.Config{
		Logger: logger.Discard, DisableAutomaticPing: true,
	})
	if err != nil {
		return err
	}
	return m.schema.Migrate(ctx, gdb)
}
