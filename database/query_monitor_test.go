package database_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gorm.io/gorm"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/models"
)

// monitored opens another pool on tdb's database with the query monitor
// logging to rec and recording metrics in a fresh registry.
func monitored(t *testing.T, tdb *dbtest.TestDB, rec *recorder, change func(*database.MonitoringConfig)) (*gorm.DB, *prometheus.Registry) {
	t.Helper()
	cfg := tdb.Config
	cfg.Monitoring.SlowQueryThreshold = 50 * time.Millisecond
	if change != nil {
		change(&cfg.Monitoring)
	}
	reg := prometheus.NewRegistry()
	db, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(slog.New(rec)), database.WithMetrics(database.NewMetrics(reg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.GormDB(), reg
}

// slowRecords returns the attributes of each "slow query" record.
func (r *recorder) slowRecords() []map[string]slog.Value {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]slog.Value
	for _, rec := range r.records {
		if rec.Message != "slow query" {
			continue
		}
		attrs := map[string]slog.Value{}
		rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
		out = append(out, attrs)
	}
	return out
}

func TestSlowQueryLog(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	for _, logArgs := range []bool{false, true} {
		rec := &recorder{}
		// A threshold the fast statement never reaches, even on a loaded
		// machine; the slow one sleeps past it.
		db, reg := monitored(t, tdb, rec, func(m *database.MonitoringConfig) {
			m.LogQueryArgs = logArgs
			m.SlowQueryThreshold = time.Second
		})
		ctx := database.WithOperationID(context.Background(), "req-42")
		if err := db.WithContext(ctx).Exec("SELECT pg_sleep(1.1), CAST(? AS text)", "secret-arg").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("SELECT 1").Error; err != nil { // fast: not logged
			t.Fatal(err)
		}
		slow := rec.slowRecords()
		if len(slow) != 1 {
			t.Fatalf("log_query_args=%v: %d slow query records, want 1:\n%s", logArgs, len(slow), rec.text())
		}
		s := slow[0]
		if !strings.Contains(s["sql"].String(), "pg_sleep") || s["duration"].Duration() < 100*time.Millisecond ||
			!strings.Contains(s["caller"].String(), "query_monitor_test.go") || s["operation_id"].String() != "req-42" {
			t.Errorf("slow query record: %v", s)
		}
		if _, has := s["rows"]; !has {
			t.Errorf("slow query record lacks rows: %v", s)
		}
		_, hasArgs := s["args"]
		if hasArgs != logArgs || strings.Contains(rec.text(), "secret-arg") != logArgs {
			t.Errorf("log_query_args=%v but args logged: %v\n%s", logArgs, hasArgs, rec.text())
		}
		if got := testutil.ToFloat64(mustCollector(t, reg, "db_client_slow_queries_total")); got != 1 {
			t.Errorf("slow query counter %v, want 1", got)
		}
	}
}

// mustCollector returns a registered collector of one family, as a
// collector testutil can read (the sum of its series).
func mustCollector(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	return familyCollector{reg: reg, name: name}
}

// familyCollector re-exposes one family of a registry.
type familyCollector struct {
	reg  *prometheus.Registry
	name string
}

func (f familyCollector) Describe(chan<- *prometheus.Desc) {}
func (f familyCollector) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := f.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != f.name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(f.name, "sum", nil, nil), prometheus.UntypedValue, sum)
	}
}

func TestMetricsMoveAndArePinned(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db, reg := monitored(t, tdb, &recorder{}, nil)
		if err := db.Exec("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)").Error; err != nil {
			t.Fatal(err)
		}
		before := testutil.ToFloat64(mustCollector(t, reg, "db_client_operation_duration_seconds"))
		for i := range 5 {
			db.Exec("INSERT INTO things (id, name) VALUES (?, ?)", i+1, "n"+string(rune('a'+i)))
		}
		if err := db.Exec("INSERT INTO things (id, name) VALUES (99, 'na')").Error; err == nil {
			t.Fatal("duplicate accepted")
		}
		if got := testutil.ToFloat64(mustCollector(t, reg, "db_client_operation_duration_seconds")); got < before+6 {
			t.Errorf("histogram count %v → %v, want at least 6 more", before, got)
		}
		if got := testutil.ToFloat64(mustCollector(t, reg, "db_client_errors_total")); got != 1 {
			t.Errorf("error counter %v, want 1", got)
		}
		wantClass := map[dbtest.Engine]string{dbtest.Postgres: "23", dbtest.SQLite: "sqlite_19"}[tdb.Engine]
		if n := testutil.CollectAndCount(familyLabels{reg, "db_client_errors_total", "error_class", wantClass}); n != 1 {
			t.Errorf("no error series with error_class=%s", wantClass)
		}
		// Names and label sets are an interface: pin them.
		want := map[string][]string{
			"db_client_operation_duration_seconds": {"db_system", "operation", "table"},
			"db_client_errors_total":               {"db_system", "error_class"},
			"go_sql_open_connections":              {"db_name"},
			"go_sql_in_use_connections":            {"db_name"},
			"go_sql_idle_connections":              {"db_name"},
			"go_sql_wait_count_total":              {"db_name"},
			"go_sql_wait_duration_seconds_total":   {"db_name"},
			"go_sql_max_idle_closed_total":         {"db_name"},
			"go_sql_max_lifetime_closed_total":     {"db_name"},
			"go_sql_max_idle_time_closed_total":    {"db_name"},
			"go_sql_max_open_connections":          {"db_name"},
		}
		got := labelSets(t, reg)
		for name, labels := range want {
			if diff := cmp.Diff(got[name], labels); diff != "" {
				t.Errorf("%s labels (-got +want):\n%s", name, diff)
			}
		}
		problems, err := testutil.GatherAndLint(reg)
		if err != nil || len(problems) > 0 {
			t.Errorf("metrics do not pass promtool's lint: %v %v", problems, err)
		}
	})
}

// familyLabels collects the series of one family whose label has a value.
type familyLabels struct {
	reg               *prometheus.Registry
	name, label, want string
}

func (f familyLabels) Describe(chan<- *prometheus.Desc) {}
func (f familyLabels) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := f.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != f.name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == f.label && l.GetValue() == f.want {
					ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(f.name, "x", nil, nil), prometheus.UntypedValue, 1)
				}
			}
		}
	}
}

// labelSets returns each family's sorted label names.
func labelSets(t *testing.T, reg *prometheus.Registry) map[string][]string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		var names []string
		for _, l := range mf.GetMetric()[0].GetLabel() {
			names = append(names, l.GetName())
		}
		slices.Sort(names)
		out[mf.GetName()] = names
	}
	return out
}

func TestNPlusOneDetection(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		var ids []int64
		for range 15 {
			ids = append(ids, daltest.User(t, d).ID)
		}
		ctx, scope := database.WithQueryScope(context.Background())
		for _, id := range ids { // the N+1 pattern: one query per row
			if _, err := d.Users().GetByID(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		found := scope.Findings()
		if len(found) != 1 || found[0].Count != 11 || !strings.Contains(found[0].Caller, "query_monitor_test.go") {
			t.Errorf("findings %+v, want one at the loop in this file, reported at the 11th query", found)
		}

		ctx, scope = database.WithQueryScope(context.Background())
		var users []models.User
		if err := daltest.DB(t, d).WithContext(ctx).Where("id IN ?", ids).Find(&users).Error; err != nil || len(users) != 15 {
			t.Fatal(err)
		}
		if found := scope.Findings(); len(found) != 0 {
			t.Errorf("one IN query reported as N+1: %+v", found)
		}
	})
}

func TestQueryBudgetHelpers(t *testing.T) {
	t.Parallel()
	d, _ := daltest.New(t, dbtest.SQLite)
	u := daltest.User(t, d)
	n := dbtest.MaxQueries(t, 2, func(ctx context.Context) {
		ctx = dbtest.NoNPlusOne(t, ctx)
		if _, err := d.Users().GetByID(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	})
	if n != 1 {
		t.Errorf("GetByID issued %d statements, want 1", n)
	}
}

func TestSlowSelectPlanIsLogged(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	rec := &recorder{}
	db, _ := monitored(t, tdb, rec, func(m *database.MonitoringConfig) { m.ExplainSlowQueries = true })
	if err := db.Exec("SELECT pg_sleep(0.1)").Error; err != nil {
		t.Fatal(err)
	}
	// The plan is logged in the background: wait for it.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(rec.text(), "slow query plan") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(rec.text(), "slow query plan") || !strings.Contains(rec.text(), "summary=Result") {
		t.Errorf("no plan logged for the slow SELECT:\n%s", rec.text())
	}
}

// TestSlowSelectPlanHidesArguments: PostgreSQL prints a statement's bound
// arguments as literals in its plan ("Index Cond: (relname =
// 'value'::name)"), so the logged plan of a slow SELECT masks them unless
// log_query_args is on, as the slow query log does.
func TestSlowSelectPlanHidesArguments(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	const secret = "secret_argument_value"
	for _, logArgs := range []bool{false, true} {
		rec := &recorder{}
		db, _ := monitored(t, tdb, rec, func(m *database.MonitoringConfig) {
			m.ExplainSlowQueries, m.LogQueryArgs = true, logArgs
		})
		// One row whatever the argument, so that pg_sleep runs and the
		// query is slow; the argument is in the join condition.
		q := "SELECT pg_sleep(0.1), c.relname FROM (SELECT 1) s LEFT JOIN pg_class c ON c.relname = ?"
		if err := db.Exec(q, secret).Error; err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(rec.text(), "slow query plan") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // paces the polling: the logged plan is the condition
		}
		text := rec.text()
		if !strings.Contains(text, "slow query plan") || !strings.Contains(text, "pg_class") {
			t.Fatalf("log_query_args=%v: no plan logged for the slow SELECT:\n%s", logArgs, text)
		}
		if strings.Contains(text, secret) != logArgs {
			t.Errorf("log_query_args=%v: the argument %s in the logged plan: %v, want %v:\n%s",
				logArgs, secret, strings.Contains(text, secret), logArgs, text)
		}
	}
}
