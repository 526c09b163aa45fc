package dbtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
)

// Engine names a database engine the tests run on.
type Engine string

// The engines.
const (
	// SQLite is the embedded engine, a temporary file per test.
	SQLite Engine = database.DriverSQLite
	// Postgres is PostgreSQL, a database cloned from a template per test.
	Postgres Engine = database.DriverPostgres
)

// Engines lists every engine, in the order Run uses them.
var Engines = []Engine{SQLite, Postgres}

// Schema prepares a fresh database for tests. The migration function of the
// schema package plugs in here.
type Schema struct {
	// Name identifies the schema's content: PostgreSQL template databases are
	// shared between tests, and between test runs, whose schemas have the same
	// Name. Change it whenever Migrate would produce a different database
	// (a hash of the migrations' checksums does that).
	Name string
	// Migrate brings an empty database to the schema; nil leaves it empty.
	Migrate func(ctx context.Context, db *gorm.DB) error
}

// Empty is a schema with no tables.
var Empty = Schema{Name: "empty"}

// hash is the template identity pgtestdb uses.
func (s Schema) hash() string {
	sum := sha256.Sum256([]byte("socialpredict/dbtest:" + s.Name))
	return hex.EncodeToString(sum[:])
}

// TestDB is one fresh test database.
type TestDB struct {
	// Engine is the database engine.
	Engine Engine
	// Handle is the database's handle, closed when the test ends.
	Handle *database.DB
	// DB is Handle's GORM pool, for tests that run SQL of their own.
	DB *gorm.DB
	// Config opens the same database again (another pool, another process).
	Config database.Config
}

// New returns a fresh database on engine with schema applied. It is closed,
// and on PostgreSQL dropped (unless the test failed), when tb ends.
// PostgreSQL tests are skipped, or fail, as the package documentation says
// when no server is reachable.
func New(tb testing.TB, engine Engine, schema Schema) *TestDB {
	tb.Helper()
	var cfg database.Config
	switch engine {
	case SQLite:
		cfg = sqliteConfig(tb)
	case Postgres:
		cfg = postgresConfig(tb, schema)
	default:
		tb.Fatalf("dbtest: unknown engine %q", engine)
	}
	ctx := context.Background()
	if engine == SQLite && schema.Migrate != nil {
		// A copy of the schema's migrated file, as PostgreSQL clones its
		// template: the migrations run once per schema and process.
		if err := copySQLiteTemplate(cfg.SQLite.Path, schema); err != nil {
			tb.Fatalf("dbtest: migrate sqlite to %s: %v", schema.Name, err)
		}
	}
	h, err := database.NewDatabase(ctx, cfg, database.WithLogger(Logger()))
	if err != nil {
		tb.Fatalf("dbtest: open %s: %v", engine, err)
	}
	db := h.GormDB()
	tb.Cleanup(func() {
		if inUse := sqlDBOf(db).Stats().InUse; inUse != 0 {
			tb.Errorf("dbtest: connection leak: %d %s connections still in use when the test ended", inUse, engine)
		}
		if err := h.Close(); err != nil {
			tb.Errorf("dbtest: close %s: %v", engine, err)
		}
	})
	return &TestDB{Engine: engine, DB: db, Handle: h, Config: cfg}
}

// ForEachEngine is the one "for each engine" runner: it runs fn as one
// subtest per engine ("sqlite", "postgres"). Every test it runs has a
// database of its own, so the test and its subtests run in parallel with
// other parallel tests (t.Parallel): call it first in a test, and only from
// tests that share nothing else (no t.Setenv, no process-wide state).
func ForEachEngine(t *testing.T, fn func(t *testing.T, engine Engine)) {
	t.Helper()
	t.Parallel()
	for _, engine := range Engines {
		if engine == SQLite && ViaPgBouncer() {
			continue // the run through PgBouncer is PostgreSQL's alone
		}
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			fn(t, engine)
		})
	}
}

// Run runs fn as one subtest per engine (see ForEachEngine), each with a
// fresh database migrated to schema.
func Run(t *testing.T, schema Schema, fn func(t *testing.T, tdb *TestDB)) {
	t.Helper()
	ForEachEngine(t, func(t *testing.T, engine Engine) { fn(t, New(t, engine, schema)) })
}

// testConfig returns test-friendly settings for a database: a small pool and a
// connection retry that gives up quickly.
func testConfig() database.Config {
	cfg := database.DefaultConfig()
	cfg.ConnectionPool.MaxOpenConns = 10
	cfg.ConnectionPool.MaxIdleConns = 10
	cfg.ConnectRetry.Attempts = 2
	cfg.ConnectRetry.InitialBackoff = 50 * time.Millisecond
	cfg.ConnectRetry.MaxBackoff = 100 * time.Millisecond
	cfg.Monitoring.LogLevel = "silent"
	return cfg
}

func sqliteConfig(tb testing.TB) database.Config {
	cfg := testConfig()
	cfg.Driver = database.DriverSQLite
	cfg.SQLite.Path = filepath.Join(tb.TempDir(), "test.db")
	return cfg
}

// Logger returns the logger test databases log to: discarded, unless
// SOCIALPREDICT_TEST_LOG=1 sends debug output to standard error.
func Logger() *slog.Logger {
	if os.Getenv("SOCIALPREDICT_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// sqlDBOf returns the pool behind db.
func sqlDBOf(db *gorm.DB) *sql.DB {
	s, err := db.DB()
	if err != nil {
		panic(err) // a *gorm.DB opened by NewDatabase always has a *sql.DB
	}
	return s
}

// ClosedPort returns a TCP port on 127.0.0.1 that nothing listens on.
func ClosedPort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
