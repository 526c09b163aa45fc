package dbtest

import (
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"

	"socialpredict/internal/confkit"
)

// Environment variables of the PgBouncer runs.
const (
	// EnvPgBouncerURL names a PgBouncer in transaction pooling mode in front
	// of the server at EnvPostgresURL, reaching every database of it
	// ("* = host=... port=..." in its [databases]); scripts/test starts one.
	EnvPgBouncerURL = "SOCIALPREDICT_TEST_PGBOUNCER_URL"
	// EnvViaPgBouncer, set to 1, makes the Postgres engine connect through
	// the PgBouncer at EnvPgBouncerURL (with database.pgbouncer: true): the
	// database is still created directly, then every connection of the
	// test goes through PgBouncer. ForEachEngine then runs the Postgres
	// engine only (the SQLite half ran in the direct run). scripts/test
	// reruns the money-path packages this way.
	EnvViaPgBouncer = "SOCIALPREDICT_TEST_VIA_PGBOUNCER"
	// EnvPgBouncer, set to 0, turns the PgBouncer tests off: they skip
	// even under SOCIALPREDICT_TEST_REQUIRE_POSTGRES=1.
	EnvPgBouncer = "SOCIALPREDICT_TEST_PGBOUNCER"
)

// ViaPgBouncer reports whether PostgreSQL tests connect through PgBouncer
// (SOCIALPREDICT_TEST_VIA_PGBOUNCER=1).
func ViaPgBouncer() bool { return os.Getenv(EnvViaPgBouncer) == "1" }

var bouncerProbe struct {
	once sync.Once
	err  error
}

// PgBouncerURL returns the URL of the test PgBouncer, after checking once
// per process that it answers. When it is not set or does not answer, the
// test is skipped with the reason, or fails when
// SOCIALPREDICT_TEST_REQUIRE_POSTGRES=1 (unless SOCIALPREDICT_TEST_PGBOUNCER=0).
func PgBouncerURL(tb testing.TB) string {
	tb.Helper()
	if os.Getenv(EnvPgBouncer) == "0" {
		tb.Skip(EnvPgBouncer + "=0: no PgBouncer tests")
	}
	u := os.Getenv(EnvPgBouncerURL)
	bouncerProbe.once.Do(func() {
		if u == "" {
			bouncerProbe.err = fmt.Errorf("%s is not set", EnvPgBouncerURL)
			return
		}
		bouncerProbe.err = ping(u)
	})
	if bouncerProbe.err != nil {
		msg := fmt.Sprintf("no PgBouncer for the tests (%s): %v (./scripts/test starts one)", confkit.RedactURL(u), bouncerProbe.err)
		if os.Getenv(EnvRequirePostgres) == "1" {
			tb.Fatalf("%s; %s=1 requires it", msg, EnvRequirePostgres)
		}
		tb.Skip(msg)
	}
	return u
}

// throughPgBouncer returns the URL of a test database (direct) rewritten to
// reach the same database, as the same role, through the test PgBouncer.
func throughPgBouncer(tb testing.TB, direct string) string {
	tb.Helper()
	b, err := url.Parse(PgBouncerURL(tb))
	if err != nil {
		tb.Fatalf("dbtest: parse %s: %v", EnvPgBouncerURL, err)
	}
	d, err := url.Parse(direct)
	if err != nil {
		tb.Fatalf("dbtest: parse the test database URL: %v", err)
	}
	d.Host = b.Host
	return d.String()
}

// SkipViaPgBouncer skips a test that relies on session state (or on
// reaching the server's backends directly) when the tests run through
// PgBouncer, saying why.
func SkipViaPgBouncer(tb testing.TB, why string) {
	tb.Helper()
	if ViaPgBouncer() {
		tb.Skip("not through PgBouncer's transaction pooling: " + why)
	}
}
