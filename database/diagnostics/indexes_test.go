package diagnostics_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the administrator connection

	"socialpredict/database/dbtest"
	"socialpredict/database/diagnostics"
)

// indexFixture builds, on one session whose statistics it then flushes:
//   - big: 20,000 rows read by 12 sequential scans, with the unused index
//     big_note_idx;
//   - small: the duplicate indexes small_a_1 and small_a_2, and the unique
//     index small_id_a_key, all unused;
//   - dup: the invalid index dup_v_key (a CREATE UNIQUE INDEX CONCURRENTLY
//     that failed on duplicate values).
func indexFixture(t *testing.T, tdb *dbtest.TestDB) {
	t.Helper()
	ctx := context.Background()
	sqlDB, err := tdb.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE big (id integer PRIMARY KEY, val integer NOT NULL, note text NOT NULL)")
	exec("INSERT INTO big SELECT g, g % 100, 'note ' || g FROM generate_series(1, 20000) g")
	exec("CREATE INDEX big_note_idx ON big (note)")
	// Publish the INSERT's row counts before ANALYZE sets them, or they
	// would be added to ANALYZE's count when published later.
	exec("SELECT pg_stat_force_next_flush()")
	exec("ANALYZE big")
	for i := range 12 {
		exec(fmt.Sprintf("SELECT count(*) FROM big WHERE val = %d", i))
	}
	exec("CREATE TABLE small (id integer PRIMARY KEY, a integer)")
	exec("CREATE INDEX small_a_1 ON small (a)")
	exec("CREATE INDEX small_a_2 ON small (a)")
	exec("CREATE UNIQUE INDEX small_id_a_key ON small (id, a)")
	exec("CREATE TABLE dup (v integer)")
	exec("INSERT INTO dup VALUES (1), (1)")
	if _, err := conn.ExecContext(ctx, "CREATE UNIQUE INDEX CONCURRENTLY dup_v_key ON dup (v)"); err == nil {
		t.Fatal("CREATE UNIQUE INDEX CONCURRENTLY on duplicate values succeeded")
	}
	exec("SELECT pg_stat_force_next_flush()")
}

func indexNames(us []diagnostics.IndexUsage) []string {
	var names []string
	for _, u := range us {
		names = append(names, u.Index)
	}
	return names
}

func TestAnalyzeIndexesFindsProblems(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	indexFixture(t, tdb)
	r, err := diagnostics.AnalyzeIndexes(context.Background(), tdb.DB, diagnostics.IndexAnalysisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := indexNames(r.UnusedIndexes), []string{"big_note_idx", "small_a_1", "small_a_2"}; !sameSet(got, want) {
		t.Errorf("unused indexes = %v, want %v", got, want)
	}
	if got := indexNames(r.UnusedUniqueIndexes); !slices.Contains(got, "small_id_a_key") || slices.Contains(got, "big_pkey") {
		t.Errorf("unused unique indexes = %v, want small_id_a_key and no primary key", got)
	}
	if len(r.MissingIndexCandidates) != 1 || r.MissingIndexCandidates[0].Table != "big" {
		t.Fatalf("missing-index candidates = %+v, want big", r.MissingIndexCandidates)
	}
	if big := r.MissingIndexCandidates[0]; big.Rows != 20000 || big.SeqScans < 12 || big.IndexScans != 0 || big.SeqScanShare != 1 {
		t.Errorf("big = %+v", big)
	}
	if len(r.DuplicateIndexes) != 1 || len(r.DuplicateIndexes[0].Indexes) != 2 ||
		r.DuplicateIndexes[0].Indexes[0].Index != "small_a_1" || r.DuplicateIndexes[0].Indexes[1].Index != "small_a_2" {
		t.Errorf("duplicate indexes = %+v, want small_a_1 and small_a_2", r.DuplicateIndexes)
	}
	if got := indexNames(r.InvalidIndexes); !slices.Equal(got, []string{"dup_v_key"}) {
		t.Errorf("invalid indexes = %v, want dup_v_key", got)
	}
	problems := strings.Join(problems(r), "\n")
	for _, want := range []string{"unused index big_note_idx", "missing index? table public.big", "small_a_1 and small_a_2", "invalid index dup_v_key"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	if len(r.CacheHitRatios) != 3 || r.CacheHitRatios[0].Ratio == nil || r.CacheHitRatios[0].Low {
		t.Errorf("cache hit ratios = %+v", r.CacheHitRatios)
	}
	var decoded diagnostics.IndexReport
	if b, err := json.Marshal(r); err != nil || json.Unmarshal(b, &decoded) != nil || len(decoded.UnusedIndexes) != 3 {
		t.Errorf("JSON round trip: %v, %+v", err, decoded)
	}
}

func sameSet(got, want []string) bool {
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	return slices.Equal(got, want)
}

func TestAnalyzeIndexesThresholds(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	indexFixture(t, tdb)
	tests := []struct {
		name        string
		opts        diagnostics.IndexAnalysisOptions
		wantMissing bool
		wantLow     bool
	}{
		{"defaults", diagnostics.IndexAnalysisOptions{}, true, false},
		{"larger tables only", diagnostics.IndexAnalysisOptions{MinRows: 20001}, false, false},
		{"more scans needed", diagnostics.IndexAnalysisOptions{MinSeqScans: 1000}, false, false},
		{"any cache miss is low", diagnostics.IndexAnalysisOptions{MinCacheHitRatio: 1.01, MinCacheBlocks: 1}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := diagnostics.AnalyzeIndexes(context.Background(), tdb.DB, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(r.MissingIndexCandidates) > 0; got != tt.wantMissing {
				t.Errorf("missing-index candidates = %+v, want some: %v", r.MissingIndexCandidates, tt.wantMissing)
			}
			if got := r.CacheHitRatios[0].Low; got != tt.wantLow {
				t.Errorf("tables cache hit ratio = %+v, want low: %v", r.CacheHitRatios[0], tt.wantLow)
			}
		})
	}
}

func TestAnalyzeIndexesClean(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	if err := tdb.DB.Exec("CREATE TABLE t (id integer PRIMARY KEY, code text UNIQUE)").Error; err != nil {
		t.Fatal(err)
	}
	r, err := diagnostics.AnalyzeIndexes(context.Background(), tdb.DB, diagnostics.IndexAnalysisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := problems(r); len(p) != 0 {
		t.Errorf("problems on a clean database: %q", p)
	}
	if got := indexNames(r.UnusedUniqueIndexes); !slices.Equal(got, []string{"t_code_key"}) {
		t.Errorf("unused unique indexes = %v, want t_code_key", got)
	}
	if r.Database == "" || len(r.Notes) == 0 || !strings.Contains(strings.Join(r.Notes, "\n"), "pg_stat_statements") {
		t.Errorf("report = %+v, want a note on pg_stat_statements", r)
	}
}

// TestAnalyzeIndexesStatementsNotLoaded installs pg_stat_statements (as an
// administrator) in a server that does not preload it: the report says so.
func TestAnalyzeIndexesStatementsNotLoaded(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	admin := adminConn(t, tdb)
	var preload string
	if err := admin.QueryRow("SHOW shared_preload_libraries").Scan(&preload); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		t.Skipf("pg_stat_statements is not available: %v", err)
	}
	r, err := diagnostics.AnalyzeIndexes(context.Background(), tdb.DB, diagnostics.IndexAnalysisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(r.Notes, "\n")
	if strings.Contains(preload, "pg_stat_statements") {
		if strings.Contains(notes, "pg_stat_statements") {
			t.Errorf("notes = %q with pg_stat_statements loaded", notes)
		}
		return
	}
	if !strings.Contains(notes, "installed but not loaded") || !strings.Contains(notes, "shared_preload_libraries") {
		t.Errorf("notes = %q, want that pg_stat_statements is not loaded", notes)
	}
}

// adminConn connects as the server's administrator to tdb's database.
func adminConn(t *testing.T, tdb *dbtest.TestDB) *sql.DB {
	t.Helper()
	u, err := url.Parse(dbtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	testURL, err := url.Parse(tdb.Config.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = testURL.Path
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAnalyzeIndexesSQLiteUnsupported(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	_, err := diagnostics.AnalyzeIndexes(context.Background(), tdb.DB, diagnostics.IndexAnalysisOptions{})
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "not supported on sqlite") {
		t.Errorf("err = %v, want errors.ErrUnsupported", err)
	}
}

// problems returns the messages of the findings that make the analysis
// fail: unused, duplicate and invalid indexes, missing-index candidates and
// low cache hit ratios. It is empty when everything is fine.
func problems(r *diagnostics.IndexReport) []string {
	var out []string
	for _, u := range r.UnusedIndexes {
		out = append(out, u.Message)
	}
	for _, d := range r.DuplicateIndexes {
		out = append(out, d.Message)
	}
	for _, i := range r.InvalidIndexes {
		out = append(out, i.Message)
	}
	for _, t := range r.MissingIndexCandidates {
		out = append(out, t.Message)
	}
	for _, c := range r.CacheHitRatios {
		if c.Low {
			out = append(out, c.Message)
		}
	}
	return out
}
