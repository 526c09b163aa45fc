package dbreport_test

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for sessions outside the handle's pool

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/internal/dbreport"
)

// build builds the report of tdb with opts, checking health with checker
// (nil: the handle's own).
func build(t *testing.T, db *database.DB, checker *database.DatabaseHealthChecker, opts dbreport.Options) *dbreport.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return dbreport.Build(ctx, dbreport.Source{DB: db, Health: checker}, opts)
}

// findings returns the findings of a check.
func findings(r *dbreport.Report, section, name string) []dbreport.Finding {
	var out []dbreport.Finding
	for _, f := range r.FindingsOf(section) {
		if f.Name == name {
			out = append(out, f)
		}
	}
	return out
}

// expect checks that the check section/name has a finding of status whose
// message contains every one of wants.
func expect(t *testing.T, r *dbreport.Report, section, name, status string, wants ...string) {
	t.Helper()
	fs := findings(r, section, name)
	for _, f := range fs {
		if f.Status != status {
			continue
		}
		ok := true
		for _, w := range wants {
			ok = ok && strings.Contains(f.Message, w)
		}
		if ok {
			return
		}
	}
	t.Errorf("no %s finding %s/%s with %q; got %+v", status, section, name, wants, fs)
}

// open opens a pool of its own on a test database, as its role (admin
// false) or as the server's administrator (admin true).
func open(t *testing.T, tdb *dbtest.TestDB, admin bool) *sql.DB {
	t.Helper()
	u, err := url.Parse(tdb.Config.URL)
	if err != nil {
		t.Fatal(err)
	}
	if admin {
		a, err := url.Parse(dbtest.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		u.User = a.User
	}
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// run runs statements in order on one session of db, then publishes the
// session's statistics (PostgreSQL).
func run(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range append(stmts, "SELECT pg_stat_force_next_flush()") {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// dbName is the name of a PostgreSQL test database.
func dbName(t *testing.T, tdb *dbtest.TestDB) string {
	t.Helper()
	u, err := url.Parse(tdb.Config.URL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// conn takes one session of db for the test.
func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pid is a session's backend process id.
func pid(t *testing.T, c *sql.Conn) int {
	t.Helper()
	var p int
	if err := c.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor waits up to 10 seconds for a query to return true.
func waitFor(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		err := db.QueryRow(query, args...).Scan(&ok)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after 10s (%v)", query, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
