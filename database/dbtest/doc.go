// Package dbtest gives each test a fresh, real database on each engine:
// SQLite in a temporary file, copied from a file migrated once per schema
// and test process, and PostgreSQL cloned from a template database
// (github.com/peterldowns/pgtestdb), so migrations run once per schema and
// each test still starts from a clean copy.
//
// Production code never imports this package.
//
// PostgreSQL is found at $SOCIALPREDICT_TEST_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). When it is not
// reachable, PostgreSQL tests are skipped with the reason, unless
// SOCIALPREDICT_TEST_REQUIRE_POSTGRES=1, which makes them fail instead.
// ./scripts/test starts a throwaway PostgreSQL when none is reachable.
package dbtest
