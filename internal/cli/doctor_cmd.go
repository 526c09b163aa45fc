package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"socialpredict/config"
	"socialpredict/database"
	"socialpredict/database/diagnostics"
)

// dbExplainCommand is `socialpredict db explain QUERY`: the plan of one
// statement, as text or JSON.
func (a *app) dbExplainCommand() *cobra.Command {
	var (
		opts   diagnostics.ExplainOptions
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "explain QUERY",
		Short: "Print the execution plan of one SQL statement",
		Long: `Print the plan the configured database chooses for QUERY, a single SQL
statement (a trailing semicolon is allowed; a second statement is refused
before anything is sent).

PostgreSQL: EXPLAIN (FORMAT JSON), printed like PostgreSQL's text format, in
a read-only transaction that is rolled back. With --analyze the statement
really runs (EXPLAIN ANALYZE, BUFFERS) and the plan shows actual times and
rows, inside a transaction that is always rolled back, so an INSERT, UPDATE
or DELETE changes nothing (sequence increments are not undone); it is
cancelled after --timeout.

SQLite: EXPLAIN QUERY PLAN (no costs or timings; --analyze is not supported).`,
		Example: `  socialpredict db explain "SELECT * FROM bets WHERE market_id = 42 ORDER BY placed_at"
  socialpredict db explain --analyze --json "DELETE FROM bets WHERE amount = 0"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, _, err := a.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			plan, err := diagnostics.Explain(cmd.Context(), db.GormDB(), args[0], nil, opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return doctorJSON(out, plan)
			}
			var b strings.Builder
			b.WriteString(plan.Text)
			if s := plan.Summary.String(); s != "" {
				b.WriteString("\nsummary: " + s + "\n")
			}
			for _, n := range plan.Notes {
				b.WriteString("note: " + n + "\n")
			}
			_, err = io.WriteString(out, b.String())
			return err
		},
	}
	cmd.Flags().BoolVar(&opts.Analyze, "analyze", false, "run the statement (PostgreSQL), in a transaction that is rolled back, and show actual times")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", diagnostics.DefaultExplainTimeout, "cancel the statement after this long (PostgreSQL)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON (with PostgreSQL's JSON plan under \"plan\")")
	return cmd
}

// errDoctorFailed is matched by the error of db doctor when a check failed.
var errDoctorFailed = errors.New("db doctor found problems")

// The statuses of a doctor check.
const (
	doctorOK      = "ok"      // nothing to fix
	doctorFail    = "fail"    // a problem: the command exits non-zero
	doctorInfo    = "info"    // worth reading, not a problem
	doctorSkipped = "skipped" // does not apply, or could not run here
)

// doctorCheck is one line of the doctor's report.
type doctorCheck struct {
	// Section groups checks: indexes, cache, statements, health.
	Section string `json:"section"`
	// Name identifies the check within its section.
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// doctorReport is what db doctor prints (as JSON with --json).
type doctorReport struct {
	Driver   string        `json:"driver"`
	Target   string        `json:"target"`
	Checks   []doctorCheck `json:"checks"`
	Failures int           `json:"failures"`
	// Indexes and Health are the full reports the checks come from.
	Indexes *diagnostics.IndexReport `json:"indexes,omitempty"`
	Health  *database.HealthReport   `json:"health,omitempty"`
}

func (r *doctorReport) add(section, name, status, message string) {
	r.Checks = append(r.Checks, doctorCheck{Section: section, Name: name, Status: status, Message: message})
	if status == doctorFail {
		r.Failures++
	}
}

// dbDoctorCommand is `socialpredict db doctor`: index usage, cache, slow
// statements, locks, sessions and pool, exiting non-zero on any problem.
func (a *app) dbDoctorCommand() *cobra.Command {
	var (
		asJSON    bool
		threshold time.Duration
	)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose indexes, cache, slow statements and locks; exit non-zero on any problem",
		Long: `Diagnose the configured database and print each finding:

  indexes     PostgreSQL: unused indexes (never scanned; unique ones are listed
              but kept), duplicate and invalid indexes, and tables of 10,000+
              rows read mostly by sequential scans (missing-index candidates),
              from the statistics since they were last reset
  cache       PostgreSQL: buffer cache hit ratio of tables and indexes (low:
              below 0.90 over 10,000+ block accesses), and of the database
  statements  PostgreSQL: the statements with the most total time, from
              pg_stat_statements when it is installed and preloaded
  health      the health checks of db health: this command's own pool, the
              test query, blocked sessions, and statements running or sessions
              idle in a transaction longer than --threshold

Unused, duplicate or invalid indexes, missing-index candidates, a low cache
hit ratio and any health warning are problems: the exit status is then
non-zero. On SQLite only the health checks apply.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if threshold <= 0 {
				return fmt.Errorf("--threshold must be greater than 0, got %s", threshold)
			}
			db, cfg, err := a.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			r := &doctorReport{Driver: db.Driver(), Target: cfg.Database.Target()}
			doctorIndexes(cmd.Context(), db, r)
			doctorHealth(cmd.Context(), db, a, cfg, threshold, r)
			out := cmd.OutOrStdout()
			if asJSON {
				err = doctorJSON(out, r)
			} else {
				err = doctorPrint(out, r)
			}
			if err != nil {
				return err
			}
			if r.Failures > 0 {
				return fmt.Errorf("%w: %d checks failed", errDoctorFailed, r.Failures)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().DurationVar(&threshold, "threshold", 30*time.Second,
		"report statements running, and sessions idle in a transaction, longer than this (PostgreSQL)")
	return cmd
}

// doctorIndexes adds the index, cache and statement checks of
// diagnostics.AnalyzeIndexes.
func doctorIndexes(ctx context.Context, db *database.DB, r *doctorReport) {
	rep, err := diagnostics.AnalyzeIndexes(ctx, db.GormDB(), diagnostics.IndexAnalysisOptions{})
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		r.add("indexes", "index_usage", doctorSkipped, err.Error())
		return
	case err != nil:
		r.add("indexes", "index_usage", doctorFail, "could not analyse: "+err.Error())
		return
	}
	r.Indexes = rep
	each := func(name, okMessage string, messages []string) {
		if len(messages) == 0 {
			r.add("indexes", name, doctorOK, okMessage)
		}
		for _, m := range messages {
			r.add("indexes", name, doctorFail, m)
		}
	}
	var unused, missing, dups, invalid, unique []string
	for _, u := range rep.UnusedIndexes {
		unused = append(unused, u.Message)
	}
	for _, t := range rep.MissingIndexCandidates {
		missing = append(missing, t.Message)
	}
	for _, d := range rep.DuplicateIndexes {
		dups = append(dups, d.Message)
	}
	for _, i := range rep.InvalidIndexes {
		invalid = append(invalid, i.Message)
	}
	th := rep.Thresholds
	each("unused_indexes", "no index left unused, counting from statistics "+doctorSince(rep), unused)
	each("missing_indexes", fmt.Sprintf("no table of %d+ rows read mostly by sequential scans", th.MinRows), missing)
	each("duplicate_indexes", "no duplicate index", dups)
	each("invalid_indexes", "no invalid index", invalid)
	for _, u := range rep.UnusedUniqueIndexes {
		unique = append(unique, u.Index)
	}
	if len(unique) > 0 {
		r.add("indexes", "unused_unique_indexes", doctorInfo, fmt.Sprintf("%d unique indexes never scanned, kept because they enforce uniqueness: %s",
			len(unique), strings.Join(unique, ", ")))
	}
	for _, c := range rep.CacheHitRatios {
		status := doctorOK
		if c.Low {
			status = doctorFail
		}
		r.add("cache", c.Scope, status, c.Message)
	}
	for _, s := range rep.SlowStatements {
		msg := s.Message
		if s.Slow {
			msg = "slow (20+ ms mean over 100+ calls): " + msg
		}
		r.add("statements", "slowest", doctorInfo, msg)
	}
	for _, n := range rep.Notes {
		r.add("statements", "pg_stat_statements", doctorSkipped, n)
	}
}

// doctorSince says from when the report's counters count.
func doctorSince(rep *diagnostics.IndexReport) string {
	if rep.StatsReset == nil {
		return "the start"
	}
	return "reset at " + rep.StatsReset.UTC().Format(time.RFC3339)
}

// doctorHealth adds the checks of one database health check (pool, test
// query, response time, transactions, locks, sessions): a warning or a
// failure is a problem.
func doctorHealth(ctx context.Context, db *database.DB, a *app, cfg *config.Loaded, threshold time.Duration, r *doctorReport) {
	checker, err := a.oneShotHealthChecker(db, cfg, threshold)
	if err != nil {
		r.add("health", "health", doctorFail, "could not check: "+err.Error())
		return
	}
	rep, _ := checker.Check(ctx) // an unhealthy database shows as a failed query check
	r.Health = rep
	for _, c := range rep.Checks {
		status := map[database.HealthCheckStatus]string{
			database.HealthOK: doctorOK, database.HealthWarn: doctorFail,
			database.HealthFail: doctorFail, database.HealthSkipped: doctorSkipped,
		}[c.Status]
		msg := c.Message
		if c.Name == database.HealthCheckPool {
			msg = "this command's own pool: " + msg
		}
		r.add("health", c.Name, status, msg)
	}
}

// doctorPrint writes the report for people: one line per check, grouped by
// section, then the verdict.
func doctorPrint(w io.Writer, r *doctorReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "db doctor: %s (%s)\n", r.Target, r.Driver)
	section := ""
	for _, c := range r.Checks {
		if c.Section != section {
			section = c.Section
			fmt.Fprintf(&b, "\n%s\n", section)
		}
		status := c.Status
		if status == doctorFail {
			status = "FAIL"
		}
		fmt.Fprintf(&b, "  %-8s %s: %s\n", status, c.Name, c.Message)
	}
	if r.Failures > 0 {
		fmt.Fprintf(&b, "\n%d checks failed\n", r.Failures)
	} else {
		b.WriteString("\nok: no problem found\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// doctorJSON writes v as indented JSON.
func doctorJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
