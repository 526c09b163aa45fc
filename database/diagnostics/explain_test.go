package diagnostics_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/database/diagnostics"
)

// explainItems creates the table items(id, name) with three rows.
func explainItems(t *testing.T, db *gorm.DB) {
	t.Helper()
	for _, q := range []string{
		"CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)",
		"INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')",
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// countItems returns the number of rows of items.
func countItems(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Raw("SELECT count(*) FROM items").Scan(&n).Error; err != nil {
		t.Fatalf("count items: %v", err)
	}
	return n
}

// placeholder returns the engine's first positional placeholder.
func placeholder(e dbtest.Engine) string {
	if e == dbtest.Postgres {
		return "$1"
	}
	return "?"
}

func TestExplainReturnsPlan(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		explainItems(t, tdb.DB)
		ctx := context.Background()
		tests := []struct {
			name  string
			query string
			args  []any
			want  string // in Text
		}{
			{"scan", "SELECT * FROM items WHERE name = 'b'", nil, "items"},
			{"placeholder and semicolon", "  SELECT name FROM items WHERE id = " + placeholder(tdb.Engine) + " ;\n-- done\n", []any{2}, "items"},
			{"insert", "INSERT INTO items (id, name) SELECT id + 10, name FROM items", nil, "items"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p, err := diagnostics.Explain(ctx, tdb.DB, tt.query, tt.args, diagnostics.ExplainOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if p.Driver != string(tdb.Engine) || p.Analyzed || strings.HasSuffix(p.Query, ";") {
					t.Errorf("plan = %+v", p)
				}
				if p.Summary.NodeType == "" || !strings.Contains(p.Text, tt.want) {
					t.Errorf("summary %q, text:\n%s", p.Summary, p.Text)
				}
				if _, err := json.Marshal(p); err != nil {
					t.Errorf("marshal: %v", err)
				}
				switch tdb.Engine {
				case dbtest.Postgres:
					if !json.Valid(p.Raw) || p.Root == nil || p.Summary.EstimatedCost <= 0 {
						t.Errorf("postgres plan: raw %s, root %v, summary %+v", p.Raw, p.Root, p.Summary)
					}
				case dbtest.SQLite:
					if len(p.Steps) == 0 || !strings.HasPrefix(p.Text, "QUERY PLAN\n") {
						t.Errorf("sqlite plan: steps %v, text:\n%s", p.Steps, p.Text)
					}
				}
			})
		}
		if got := countItems(t, tdb.DB); got != 3 {
			t.Errorf("items has %d rows after explaining an INSERT, want 3", got)
		}
	})
}

func TestExplainRefusesBeforeSending(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		if err := tdb.DB.Exec("CREATE TABLE users (id integer PRIMARY KEY)").Error; err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		tests := []struct {
			query string
			want  error
		}{
			{"SELECT 1; DROP TABLE users", diagnostics.ErrMultipleStatements},
			{"SELECT 1;DROP TABLE users;", diagnostics.ErrMultipleStatements},
			{"SELECT 1;;", diagnostics.ErrMultipleStatements},
			{"SELECT 1 /* ; */ ; -- ok\n DROP TABLE users", diagnostics.ErrMultipleStatements},
			{"", diagnostics.ErrEmptyQuery},
			{" ; -- nothing\n", diagnostics.ErrEmptyQuery},
			{"SELECT 'unterminated; DROP TABLE users", diagnostics.ErrUnterminatedQuery},
		}
		for _, tt := range tests {
			_, err := diagnostics.Explain(ctx, tdb.DB, tt.query, nil, diagnostics.ExplainOptions{Analyze: tdb.Engine == dbtest.Postgres})
			if !errors.Is(err, tt.want) {
				t.Errorf("Explain(%q) = %v, want %v", tt.query, err, tt.want)
			}
		}
		var n int64
		if err := tdb.DB.Raw("SELECT count(*) FROM users").Scan(&n).Error; err != nil {
			t.Errorf("table users is gone: %v", err)
		}

		// On a closed pool anything sent would fail with "database is
		// closed": the refusal comes first.
		closedDB := dbtest.New(t, tdb.Engine, dbtest.Empty).Handle
		closed := closedDB.GormDB()
		if err := closedDB.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := diagnostics.Explain(ctx, closed, "SELECT 1; DROP TABLE users", nil, diagnostics.ExplainOptions{}); !errors.Is(err, diagnostics.ErrMultipleStatements) {
			t.Errorf("on a closed pool: %v, want ErrMultipleStatements", err)
		}
		if _, err := diagnostics.Explain(ctx, closed, "SELECT 1", nil, diagnostics.ExplainOptions{}); err == nil {
			t.Errorf("a single statement on a closed pool succeeded: was anything sent?")
		}
	})
}

func TestExplainAnalyzePostgres(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	explainItems(t, tdb.DB)
	ctx := context.Background()
	tests := []struct {
		name, query, node string
	}{
		{"insert", "INSERT INTO items (id, name) SELECT g, 'x' FROM generate_series(10, 500) g", "Insert"},
		{"delete", "DELETE FROM items", "Delete"},
		{"update", "UPDATE items SET name = 'changed'", "Update"},
		{"select", "SELECT * FROM items WHERE id = 2", "Scan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := diagnostics.Explain(ctx, tdb.DB, tt.query, nil, diagnostics.ExplainOptions{Analyze: true})
			if err != nil {
				t.Fatal(err)
			}
			s := p.Summary
			if !p.Analyzed || !strings.Contains(s.NodeType, tt.node) || s.ExecutionTimeMS <= 0 || s.PlanningTimeMS <= 0 || p.Root.ActualLoops != 1 {
				t.Errorf("summary %+v, root %+v", s, p.Root)
			}
			t.Logf("%s", p.Text)
			if !strings.Contains(p.Text, "actual time=") || !strings.Contains(p.Text, "Execution Time:") {
				t.Errorf("text lacks actual times:\n%s", p.Text)
			}
			if got := countItems(t, tdb.DB); got != 3 {
				t.Errorf("items has %d rows after EXPLAIN ANALYZE, want 3", got)
			}
			var changed int64
			if err := tdb.DB.Raw("SELECT count(*) FROM items WHERE name = 'changed'").Scan(&changed).Error; err != nil || changed != 0 {
				t.Errorf("%d rows changed (%v), want 0", changed, err)
			}
		})
	}
}

func TestExplainAnalyzeInsideTransaction(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	explainItems(t, tdb.DB)
	tm := database.NewTransactionManager(tdb.DB)
	err := tm.Transact(context.Background(), func(ctx context.Context) error {
		if err := database.Conn(ctx, tdb.DB).Exec("INSERT INTO items VALUES (4, 'd')").Error; err != nil {
			return err
		}
		// On the transaction, Explain sees its uncommitted row, and undoes
		// only itself.
		tx := database.Conn(ctx, tdb.DB)
		p, err := diagnostics.Explain(ctx, tx, "DELETE FROM items WHERE id >= 2", nil, diagnostics.ExplainOptions{Analyze: true})
		if err != nil {
			return err
		}
		if got := p.Root.Plans[0].ActualRows; got != 3 {
			t.Errorf("deleted %v rows, want 3 (2, 3 and the transaction's 4)", got)
		}
		// On the pool, it runs on another connection, even though ctx
		// carries the transaction (as for a plan captured in the background).
		p, err = diagnostics.Explain(ctx, tdb.DB, "DELETE FROM items WHERE id >= 2", nil, diagnostics.ExplainOptions{Analyze: true})
		if err != nil {
			return err
		}
		if got := p.Root.Plans[0].ActualRows; got != 2 {
			t.Errorf("on the pool: deleted %v rows, want 2 (2 and 3: the transaction's 4 is not committed)", got)
		}
		var timeout string
		if err := tx.Raw("SHOW statement_timeout").Scan(&timeout).Error; err != nil || timeout != "0" {
			t.Errorf("statement_timeout in the transaction = %q (%v), want 0", timeout, err)
		}
		// A failed EXPLAIN leaves the transaction usable.
		if _, err := diagnostics.Explain(ctx, tx, "SELECT * FROM missing_table", nil, diagnostics.ExplainOptions{}); err == nil {
			t.Error("explaining a missing table succeeded")
		}
		return database.Conn(ctx, tdb.DB).Exec("INSERT INTO items VALUES (5, 'e')").Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := countItems(t, tdb.DB); got != 5 {
		t.Errorf("items has %d rows, want 5", got)
	}
}

func TestExplainTimeout(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	ctx := context.Background()
	// The statement outlasts the timeout by far, so that returning early
	// tells the timeout from the statement's end on a loaded machine (the
	// server cancels it: nothing lingers).
	start := time.Now()
	_, err := diagnostics.Explain(ctx, tdb.DB, "SELECT pg_sleep(30)", nil, diagnostics.ExplainOptions{Analyze: true, Timeout: 200 * time.Millisecond})
	if !errors.Is(err, diagnostics.ErrExplainTimeout) {
		t.Fatalf("err = %v, want ErrExplainTimeout", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %s, want about 200ms (well before the 30s statement ends)", d)
	}
	// Without Analyze nothing runs: no timeout.
	if _, err := diagnostics.Explain(ctx, tdb.DB, "SELECT pg_sleep(30)", nil, diagnostics.ExplainOptions{Timeout: 200 * time.Millisecond}); err != nil {
		t.Errorf("plain EXPLAIN: %v", err)
	}
	// The timeout was local to Explain's transaction.
	var timeout string
	if err := tdb.DB.Raw("SHOW statement_timeout").Scan(&timeout).Error; err != nil || timeout != "0" {
		t.Errorf("statement_timeout = %q (%v), want 0", timeout, err)
	}
}

func TestExplainAnalyzeSQLiteUnsupported(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	_, err := diagnostics.Explain(context.Background(), tdb.DB, "SELECT 1", nil, diagnostics.ExplainOptions{Analyze: true})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("err = %v, want errors.ErrUnsupported", err)
	}
}

func TestSingleStatement(t *testing.T) {
	const pg, lite = database.DriverPostgres, database.DriverSQLite
	tests := []struct {
		name, driver, query string
		want                string
		err                 error
	}{
		{"plain", pg, "SELECT 1", "SELECT 1", nil},
		{"trailing semicolon and space", pg, " \n\tSELECT 1 ;  \n", "SELECT 1", nil},
		{"trailing comments", pg, "SELECT 1; -- bye\n/* and */", "SELECT 1", nil},
		{"semicolon in string", pg, "SELECT ';' || 'it''s;'", "SELECT ';' || 'it''s;'", nil},
		{"semicolon in identifier", pg, `SELECT 1 AS "a;""b"`, `SELECT 1 AS "a;""b"`, nil},
		{"semicolon in line comment", pg, "SELECT 1 -- ; DROP TABLE users\n", "SELECT 1 -- ; DROP TABLE users", nil},
		{"semicolon in nested comment", pg, "SELECT /* a /* b; */ ; */ 1", "SELECT /* a /* b; */ ; */ 1", nil},
		{"dollar quote", pg, "SELECT $$;$$, $f$ ; $$ $f$", "SELECT $$;$$, $f$ ; $$ $f$", nil},
		{"escape string", pg, `SELECT E'\'; DROP TABLE users; --'`, `SELECT E'\'; DROP TABLE users; --'`, nil},
		{"parameters", pg, "SELECT $1, $2;", "SELECT $1, $2", nil},
		{"multiple", pg, "SELECT 1; DROP TABLE users", "", diagnostics.ErrMultipleStatements},
		{"multiple after comment", pg, "SELECT 1 /* x */; DELETE FROM t", "", diagnostics.ErrMultipleStatements},
		{"two semicolons", pg, "SELECT 1;;", "", diagnostics.ErrMultipleStatements},
		{"identifier with dollars", pg, "SELECT 1 AS a$x$; DROP TABLE users; --$x$", "", diagnostics.ErrMultipleStatements},
		{"plain string backslash", pg, `SELECT '\'; DROP TABLE users; --'`, "", diagnostics.ErrMultipleStatements},
		{"dollar quote after number", pg, "SELECT 1$x$ ; $x$", "SELECT 1$x$ ; $x$", nil},
		{"carriage return ends comment", pg, "SELECT 1 --c\r; DROP TABLE users", "", diagnostics.ErrMultipleStatements},
		{"empty", pg, "", "", diagnostics.ErrEmptyQuery},
		{"only comments", pg, "-- x\n/* y */ ;", "", diagnostics.ErrEmptyQuery},
		{"unterminated string", pg, "SELECT 'a", "", diagnostics.ErrUnterminatedQuery},
		{"unterminated identifier", pg, `SELECT "a`, "", diagnostics.ErrUnterminatedQuery},
		{"unterminated comment", pg, "SELECT 1 /* /* */", "", diagnostics.ErrUnterminatedQuery},
		{"unterminated dollar quote", pg, "SELECT $a$ x $b$", "", diagnostics.ErrUnterminatedQuery},

		{"sqlite plain", lite, "SELECT 1;", "SELECT 1", nil},
		{"sqlite backticks and brackets", lite, "SELECT `a;` AS [b;c] FROM t", "SELECT `a;` AS [b;c] FROM t", nil},
		{"sqlite comments do not nest", lite, "SELECT 1 /* /* */ ; DROP TABLE users; */", "", diagnostics.ErrMultipleStatements},
		{"sqlite has no escape strings", lite, `SELECT E'\'; DROP TABLE users; --'`, "", diagnostics.ErrMultipleStatements},
		{"sqlite has no dollar quotes", lite, "SELECT $$;$$", "", diagnostics.ErrMultipleStatements},
		{"sqlite variable suffix", lite, "SELECT $a('); DROP TABLE users; --')", "", diagnostics.ErrMultipleStatements},
		{"sqlite variable hides semicolon", lite, "SELECT $a(;)", "SELECT $a(;)", nil},
		{"sqlite carriage return does not end comment", lite, "SELECT 1 --c\r; DROP TABLE users", "SELECT 1 --c\r; DROP TABLE users", nil},
		{"sqlite empty", lite, " ; ", "", diagnostics.ErrEmptyQuery},
		{"sqlite unterminated bracket", lite, "SELECT [a", "", diagnostics.ErrUnterminatedQuery},
		{"sqlite empty comment", lite, "SELECT 1 /**/", "SELECT 1 /**/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := diagnostics.SingleStatement(tt.query, tt.driver)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("SingleStatement(%q) = %q, %v; want %q, %v", tt.query, got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzSingleStatement(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SELECT 1;", "SELECT ';'", `SELECT "a;b"`, "SELECT $$;$$", "SELECT $t$ ; $t$",
		`SELECT E'\';'`, "SELECT 1 -- ;", "SELECT /* /* ; */ */ 1", "SELECT `a;`, [b;]", "SELECT $a(;)",
		"SELECT 1; DROP TABLE users", "", ";", "SELECT 'x", "SELECT a$b$; x",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, q string, sqlite bool) {
		driver := database.DriverPostgres
		if sqlite {
			driver = database.DriverSQLite
		}
		got, err := diagnostics.SingleStatement(q, driver)
		if err != nil {
			if !errors.Is(err, diagnostics.ErrEmptyQuery) && !errors.Is(err, diagnostics.ErrMultipleStatements) && !errors.Is(err, diagnostics.ErrUnterminatedQuery) {
				t.Fatalf("SingleStatement(%q): undocumented error %v", q, err)
			}
			return
		}
		// The statement is stable: checking it again changes nothing.
		if again, err := diagnostics.SingleStatement(got, driver); err != nil || again != got {
			t.Fatalf("SingleStatement(%q) = %q, then %q, %v", q, got, again, err)
		}
		// Whatever it holds, a statement after a top-level ';' is refused.
		for _, sep := range []string{"\n;SELECT 1", "\n; DROP TABLE users;"} {
			if _, err := diagnostics.SingleStatement(q+sep, driver); !errors.Is(err, diagnostics.ErrMultipleStatements) {
				t.Fatalf("SingleStatement(%q): %v, want ErrMultipleStatements", q+sep, err)
			}
		}
	})
}
