package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"socialpredict/database"
	"socialpredict/database/dbtest"
)

// runHealth runs `db health` with args in an environment holding only env,
// and returns its standard output and error.
func runHealth(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	e := Env{Stdout: &out, Stderr: &errOut}
	for k, v := range env {
		e.Environ = append(e.Environ, k+"="+v)
	}
	cmd := (&app{env: e}).dbHealthCommand()
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	if errOut.Len() > 0 {
		t.Logf("stderr:\n%s", errOut.String())
	}
	return out.String(), err
}

// healthEnv returns the environment that points the command at tdb.
func healthEnv(t *testing.T, tdb *dbtest.TestDB) map[string]string {
	t.Helper()
	if tdb.Engine == dbtest.Postgres {
		return map[string]string{"DATABASE_URL": tdb.Config.URL}
	}
	return map[string]string{"SOCIALPREDICT_DATABASE_SQLITE_PATH": tdb.Config.SQLite.Path}
}

func TestDBHealthTable(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		out, err := runHealth(t, healthEnv(t, tdb))
		if err != nil {
			t.Fatalf("db health: %v\n%s", err, out)
		}
		wants := []string{"CHECK", "STATUS", "DETAIL", "pool ", "query ", "response_time ", "transactions ", "locks ",
			"sessions ", "state: healthy (" + string(tdb.Engine)}
		if tdb.Engine == dbtest.SQLite {
			wants = append(wants, "not supported on sqlite")
		}
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestDBHealthJSON(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		out, err := runHealth(t, healthEnv(t, tdb), "--json")
		if err != nil {
			t.Fatalf("db health --json: %v\n%s", err, out)
		}
		var r database.HealthReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("output is not a report: %v\n%s", err, out)
		}
		if r.State != database.Healthy || r.Driver != string(tdb.Engine) || len(r.Checks) != 6 {
			t.Errorf("report = %+v, want healthy on %s with 6 checks", r, tdb.Engine)
		}
	})
}

func TestDBHealthUnhealthyExitsNonZero(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	env := healthEnv(t, tdb)
	env["SOCIALPREDICT_DATABASE_HEALTH_CHECK_TIMEOUT"] = "1ns" // the test query cannot answer in time
	for _, args := range [][]string{nil, {"--json"}} {
		t.Run(strings.Join(append([]string{"args"}, args...), " "), func(t *testing.T) {
			out, err := runHealth(t, env, args...)
			if !errors.Is(err, database.ErrUnhealthy) {
				t.Errorf("err = %v, want ErrUnhealthy", err)
			}
			if !strings.Contains(out, "unhealthy") {
				t.Errorf("the report was not printed:\n%s", out)
			}
		})
	}
}

func TestDBHealthShowsLingeringSessions(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	sqlDB, err := tdb.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"BEGIN", "SELECT 1"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer healthRollback(t, conn)

	out, err := runHealth(t, healthEnv(t, tdb), "--threshold", "1ms")
	if err != nil {
		t.Fatalf("db health on a degraded database: %v (want exit status 0)\n%s", err, out)
	}
	for _, want := range []string{"idle in transaction: pid " + strconv.Itoa(pid), "state: degraded"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDBHealthRejectsBadThreshold(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	if _, err := runHealth(t, map[string]string{"SOCIALPREDICT_DATABASE_SQLITE_PATH": path}, "--threshold", "0s"); err == nil {
		t.Error("db health --threshold 0s succeeded, want an error")
	}
}

func healthRollback(t *testing.T, conn *sql.Conn) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Error(err)
	}
}
