package opspage_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for sessions outside the server's pool

	"socialpredict/dal"
	"socialpredict/database/dbtest"
	"socialpredict/internal/dbreport"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
	"socialpredict/server"
	"socialpredict/service"
)

// migrated is the application's schema.
var migrated = dbtest.Schema{Name: migrations.Fingerprint(), Migrate: migrations.Up}

// The credentials of the fixture.
const (
	opsToken    = "ops-token-for-the-tests-0123456789"
	adminKey    = "sp_admin-key-for-the-ops-page-tests"
	userKeyName = "regular"
)

// fixture is an ops listener on a fresh database with the application's
// schema, an admin (adminKey), a regular user (userKey) and the ops token.
type fixture struct {
	tdb     *dbtest.TestDB
	url     string // the ops listener's base URL
	userKey string
	logs    *syncBuffer
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newFixture serves the ops listener of a server on a fresh database.
func newFixture(t *testing.T, engine dbtest.Engine) *fixture {
	t.Helper()
	ctx := context.Background()
	tdb := dbtest.New(t, engine, migrated)
	svc := service.New(dal.New(tdb.Handle), service.DefaultEconomics())
	if _, err := svc.Users.EnsureAdmin(ctx, service.NewUser{Username: "admin", DisplayName: "Admin", Email: "admin@example.com"}, adminKey); err != nil {
		t.Fatal(err)
	}
	_, userKey, err := svc.Users.Create(ctx, service.NewUser{Username: userKeyName, DisplayName: "Regular", Email: "regular@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{tdb: tdb, userKey: userKey, logs: &syncBuffer{}}
	cfg := server.DefaultConfig()
	cfg.OpsToken = opsToken
	log := slog.New(slog.NewTextHandler(io.MultiWriter(f.logs, testWriter{t}), nil))
	srv, err := server.New(cfg, server.Options{Services: svc, Logger: log, DebugDB: dbreport.Reporter{
		Source: dbreport.Source{DB: tdb.Handle, Migrations: migration.NewMigrationManager(tdb.DB, migrations.All()), StartedAt: time.Now()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.OpsHandler())
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// testWriter sends the server's log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// request sends a request to the fixture and returns the status and body.
func (f *fixture) request(t *testing.T, method, path, key, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// execAll runs statements on a session of its own (outside the server's
// pool), then publishes its statistics.
func execAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// openPostgres opens a pool of its own on the fixture's PostgreSQL
// database, with an application name the page shows.
func (f *fixture) openPostgres(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", f.tdb.Config.URL+"&application_name=ops-page-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seqAt is the value that puts big_id_seq (an integer serial) at pct
// percent of its range.
func seqAt(pct float64) int64 { return 1 + int64(pct/100*float64(2147483647-1)) }

// postgresConditions creates what the page must show on PostgreSQL:
//   - big: 20,000 rows read by 12 sequential scans (a missing-index
//     candidate) with the unused index big_note_idx and its sequence
//     big_id_seq at 95% of its range;
//
// and returns the pool it used.
func (f *fixture) postgresConditions(t *testing.T) *sql.DB {
	t.Helper()
	db := f.openPostgres(t)
	stmts := []string{
		"CREATE TABLE big (id serial PRIMARY KEY, val integer NOT NULL, note text NOT NULL)",
		"INSERT INTO big (id, val, note) SELECT g, g % 100, 'note ' || g FROM generate_series(1, 20000) g",
		"CREATE INDEX big_note_idx ON big (note)",
		"SELECT pg_stat_force_next_flush()",
		"ANALYZE big",
		fmt.Sprintf("SELECT setval('big_id_seq', %d)", seqAt(95)),
	}
	for i := range 12 {
		stmts = append(stmts, fmt.Sprintf("SELECT count(*) FROM big WHERE val = %d", i))
	}
	execAll(t, db, append(stmts, "SELECT pg_stat_force_next_flush()")...)
	return db
}

// blocked is a session blocked by another one.
type blocked struct {
	holder, waiter int // their pids
	finished       chan struct{}
	err            error // the blocked statement's, once finished is closed
}

// result waits up to d for the blocked statement to end and returns its
// error (context.DeadlineExceeded when it still waits).
func (b *blocked) result(d time.Duration) error {
	select {
	case <-b.finished:
		return b.err
	case <-time.After(d):
		return context.DeadlineExceeded
	}
}

// blockSession opens a transaction that updates big's first row and stays
// idle, then a session that waits to update the same row; it returns when
// the second waits. The holder rolls back when the test ends.
func blockSession(t *testing.T, db *sql.DB) *blocked {
	t.Helper()
	ctx := context.Background()
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waiter, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := &blocked{finished: make(chan struct{})}
	for _, c := range []struct {
		conn *sql.Conn
		pid  *int
	}{{holder, &b.holder}, {waiter, &b.waiter}} {
		if err := c.conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(c.pid); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{"BEGIN", "UPDATE big SET val = val + 1 WHERE id = 1"} {
		if _, err := holder.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		_, b.err = waiter.ExecContext(ctx, "UPDATE big SET val = 0 WHERE id = 1")
		close(b.finished)
	}()
	t.Cleanup(func() {
		_, _ = holder.ExecContext(ctx, "ROLLBACK")
		holder.Close()
		if b.result(10*time.Second) == context.DeadlineExceeded {
			t.Error("the blocked session did not finish")
		}
		waiter.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting bool
		err := db.QueryRowContext(ctx, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", b.waiter).Scan(&waiting)
		if err == nil && waiting {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %d is not waiting for a lock (%v)", b.waiter, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
