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
	"socialpredict/database/diagnostics"
	"socialpredict/errs"
	"socialpredict/internal/dbreport"
)

// Each finding of db doctor and the ops page, from its condition created
// on a real PostgreSQL database.

func TestFindingsIndexes(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	stmts := []string{
		"CREATE TABLE big (id integer PRIMARY KEY, val integer NOT NULL, note text NOT NULL)",
		"INSERT INTO big SELECT g, g % 100, 'note ' || g FROM generate_series(1, 20000) g",
		"CREATE INDEX big_note_idx ON big (note)",
		"SELECT pg_stat_force_next_flush()",
		"ANALYZE big",
		"CREATE TABLE small (id integer PRIMARY KEY, a integer, code text UNIQUE)",
		"CREATE INDEX small_a_1 ON small (a)",
		"CREATE INDEX small_a_2 ON small (a)",
		"CREATE TABLE dup (v integer)",
		"INSERT INTO dup VALUES (1), (1)",
	}
	for i := range 12 {
		stmts = append(stmts, fmt.Sprintf("SELECT count(*) FROM big WHERE val = %d", i))
	}
	db := open(t, tdb, false)
	run(t, db, stmts...)
	if _, err := db.Exec("CREATE UNIQUE INDEX CONCURRENTLY dup_v_key ON dup (v)"); err == nil {
		t.Fatal("CREATE UNIQUE INDEX CONCURRENTLY on duplicate values succeeded")
	}
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	expect(t, r, "indexes", "unused_indexes", dbreport.StatusFail, "big_note_idx on public.big")
	expect(t, r, "indexes", "missing_indexes", dbreport.StatusFail, "public.big (20000 rows")
	expect(t, r, "indexes", "duplicate_indexes", dbreport.StatusFail, "small_a_1 and small_a_2")
	expect(t, r, "indexes", "invalid_indexes", dbreport.StatusFail, "dup_v_key")
	expect(t, r, "indexes", "unused_unique_indexes", dbreport.StatusInfo, "small_code_key")
	if r.Problems < 5 {
		t.Errorf("%d problems, want at least 5: %+v", r.Problems, r.Findings)
	}

	// The cache hit ratio: low against a threshold no real ratio reaches.
	r = build(t, tdb.Handle, nil, dbreport.Options{Indexes: diagnostics.IndexAnalysisOptions{MinCacheHitRatio: 0.999999, MinCacheBlocks: 1}})
	expect(t, r, "cache", "tables", dbreport.StatusFail, "low tables cache hit ratio")
}

func TestFindingBloat(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	run(t, open(t, tdb, false),
		"CREATE TABLE churn (id integer PRIMARY KEY, note text NOT NULL)",
		"INSERT INTO churn SELECT g, 'note ' || g FROM generate_series(1, 100000) g",
		"DELETE FROM churn WHERE id % 10 <> 0",
		"VACUUM churn", "ANALYZE churn")
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	expect(t, r, "indexes", "table_bloat", dbreport.StatusOK, "no table")
	r = build(t, tdb.Handle, nil, dbreport.Options{BloatBytes: 1 << 20})
	expect(t, r, "indexes", "table_bloat", dbreport.StatusWarn, "table public.churn is about 9", "VACUUM FULL")
	expect(t, r, "indexes", "index_bloat", dbreport.StatusWarn, "index churn_pkey on public.churn", "REINDEX INDEX CONCURRENTLY churn_pkey")
}

func TestFindingDeadRowsAndStaleStatistics(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	run(t, open(t, tdb, false),
		"CREATE TABLE churn (id integer PRIMARY KEY) WITH (autovacuum_enabled = false)",
		"INSERT INTO churn SELECT g FROM generate_series(1, 20000) g",
		// Publish the INSERT's counts before ANALYZE sets them.
		"SELECT pg_stat_force_next_flush()",
		"ANALYZE churn",
		"DELETE FROM churn WHERE id > 5000",
		"CREATE TABLE fresh (id integer PRIMARY KEY) WITH (autovacuum_enabled = false)",
		"INSERT INTO fresh SELECT g FROM generate_series(1, 12000) g")
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	expect(t, r, "maintenance", "dead_rows", dbreport.StatusWarn, "public.churn has 15000 dead rows (75%", "VACUUM public.churn")
	expect(t, r, "maintenance", "stale_statistics", dbreport.StatusWarn, "public.churn: 15000 rows changed since its last analyze")
	expect(t, r, "maintenance", "stale_statistics", dbreport.StatusWarn, "public.fresh (12000 rows) was never analyzed")
	if r.Problems != 0 {
		t.Errorf("dead rows and stale statistics are warnings, got problems: %+v", r.Findings)
	}
}

func TestFindingSequence(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	run(t, open(t, tdb, false),
		"CREATE TABLE t (id serial PRIMARY KEY)",
		"CREATE TABLE wide (id bigserial PRIMARY KEY)",
		"CREATE SEQUENCE narrow AS bigint",
		"SELECT setval('t_id_seq', 2040109466)", // 95% of an integer column
		"SELECT setval('narrow', 2040109466)")   // 0% of a bigint
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	expect(t, r, "maintenance", "sequences", dbreport.StatusFail, "public.t_id_seq feeding t.id (integer) has used 95.0% of its range", "107374181 values left")
	if n := len(findings(r, "maintenance", "sequences")); n != 1 {
		t.Errorf("%d sequence findings, want only t_id_seq's", n)
	}
}

func TestFindingXIDWraparound(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	r := build(t, tdb.Handle, nil, dbreport.Options{})
	expect(t, r, "maintenance", "xid_wraparound", dbreport.StatusOK, "transaction-ID age")
	// No database can be aged two billion transactions in a test: the
	// condition is a limit below this server's real ages.
	r = build(t, tdb.Handle, nil, dbreport.Options{XIDPct: 1e-9})
	expect(t, r, "maintenance", "xid_wraparound", dbreport.StatusFail, "freezing is not keeping up")
}

func TestFindingLocksAndSessions(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	db := open(t, tdb, false)
	run(t, db, "CREATE TABLE t (id integer PRIMARY KEY, v integer)", "INSERT INTO t VALUES (1, 0)")
	ctx := context.Background()
	holder, waiter := conn(t, db), conn(t, db)
	holderPID, waiterPID := pid(t, holder), pid(t, waiter)
	for _, q := range []string{"BEGIN", "UPDATE t SET v = 1 WHERE id = 1"} {
		if _, err := holder.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := waiter.ExecContext(ctx, "UPDATE t SET v = 2 WHERE id = 1")
		done <- err
	}()
	defer func() {
		if _, err := holder.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Errorf("the blocked update: %v", err)
		}
	}()
	waitFor(t, db, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", waiterPID)
	time.Sleep(150 * time.Millisecond) // the holder idles in its transaction
	checker, err := database.NewHealthChecker(tdb.Handle, tdb.Config.HealthCheck,
		database.WithHealthIdleInTransaction(100*time.Millisecond), database.WithHealthLongRunning(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r := build(t, tdb.Handle, checker, dbreport.Options{IdleInTransaction: 100 * time.Millisecond, LongRunning: 100 * time.Millisecond})
	expect(t, r, "health", "locks", dbreport.StatusFail, fmt.Sprintf("pid %d blocked by %d", waiterPID, holderPID))
	expect(t, r, "health", "sessions", dbreport.StatusFail, "1 statements running longer than 100ms, 1 sessions idle in transaction")
	expect(t, r, "locks", "blocking", dbreport.StatusInfo, fmt.Sprintf("pid %d (idle in transaction", holderPID), "UPDATE t SET v = 1")
	s := r.Sessions
	if len(s.Blocked) != 1 || s.Blocked[0].PID != waiterPID || len(s.Blocking) != 1 || s.Blocking[0].PID != holderPID ||
		len(s.IdleInTransaction) != 1 || s.IdleInTransaction[0].PID != holderPID || len(s.LongRunning) != 1 || s.LongRunning[0].PID != waiterPID {
		t.Errorf("sessions %+v, want %d blocked and long-running, %d blocking and idle in transaction", s, waiterPID, holderPID)
	}
	// The actions: cancel the waiter, terminate the holder.
	if res, err := dbreport.Act(ctx, tdb.Handle, dbreport.Action{Name: dbreport.ActionCancel, PID: waiterPID}); err != nil || !strings.Contains(res.Message, "cancelled") {
		t.Errorf("cancel = %+v, %v", res, err)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "57014") {
		t.Errorf("the cancelled update ended with %v, want SQLSTATE 57014", err)
	}
	done <- nil
	if res, err := dbreport.Act(ctx, tdb.Handle, dbreport.Action{Name: dbreport.ActionTerminate, PID: holderPID}); err != nil || !strings.Contains(res.Message, "terminated") {
		t.Errorf("terminate = %+v, %v", res, err)
	}
	if _, err := holder.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Error("the terminated session still answers")
	}
	holder = conn(t, db) // for the deferred ROLLBACK
}

// TestActionsPostgres: ANALYZE from the allow-list only, with or without
// the schema; signals only to this database's sessions; integrity_check
// does not apply.
func TestActionsPostgres(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	ctx := context.Background()
	run(t, open(t, tdb, false), `CREATE TABLE "Odd ""name""" (id integer PRIMARY KEY)`, `INSERT INTO "Odd ""name""" VALUES (1)`)
	for _, name := range []string{`Odd "name"`, `public.Odd "name"`} {
		res, err := dbreport.Act(ctx, tdb.Handle, dbreport.Action{Name: dbreport.ActionAnalyze, Table: name})
		if err != nil || res.Message != `analyzed public.Odd "name"` {
			t.Errorf("analyze %s = %+v, %v", name, res, err)
		}
	}
	var analyzed bool
	if err := tdb.DB.Raw(`SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'Odd "name"'`).Scan(&analyzed).Error; err != nil || !analyzed {
		t.Errorf("last_analyze of the table: set %v (%v), want set", analyzed, err)
	}
	for _, c := range []struct {
		a    dbreport.Action
		want error
	}{
		{dbreport.Action{Name: dbreport.ActionAnalyze, Table: "pg_catalog.pg_class"}, errs.ErrInvalidInput},
		{dbreport.Action{Name: dbreport.ActionAnalyze, Table: `Odd "name"; DROP TABLE x`}, errs.ErrInvalidInput},
		{dbreport.Action{Name: dbreport.ActionCancel, PID: 1}, errs.ErrNotFound},
		{dbreport.Action{Name: dbreport.ActionTerminate, PID: -4}, errs.ErrInvalidInput},
		{dbreport.Action{Name: dbreport.ActionIntegrityCheck}, errs.ErrConflict},
	} {
		if _, err := dbreport.Act(ctx, tdb.Handle, c.a); !errors.Is(err, c.want) {
			t.Errorf("%s = %v, want %v", c.a, err, c.want)
		}
	}
}
