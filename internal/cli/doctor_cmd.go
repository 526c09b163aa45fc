package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"socialpredict/database/diagnostics"
	"socialpredict/internal/dbreport"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
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

// dbDoctorCommand is `socialpredict db doctor`: the findings of the ops
// page's report, exiting non-zero on any problem.
func (a *app) dbDoctorCommand() *cobra.Command {
	var (
		asJSON, strict bool
		threshold      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose the database as the ops page does; exit non-zero on any problem",
		Long: `Diagnose the configured database and print each finding, the same ones the
ops listener's /debug/db page shows:

  overview     the migrations: failed, modified or missing ones are problems,
               pending ones a warning
  health       the health checks of db health: this command's own pool, the
               test query, blocked sessions, and statements running or sessions
               idle in a transaction longer than --threshold
  sqlite       SQLite: integrity_check, free pages, WAL size, planner statistics
  queries      PostgreSQL: slow statements from pg_stat_statements, or how to
               enable it
  connections  PostgreSQL: the server's connections against max_connections
  locks        PostgreSQL: the sessions blocking others
  indexes      PostgreSQL: unused, duplicate and invalid indexes, tables of
               10,000+ rows read mostly by sequential scans (missing-index
               candidates), estimated bloat; SQLite: the plans of the
               project's own queries and the indexes none of them uses
  cache        PostgreSQL: buffer cache hit ratio of tables and indexes (low:
               below 0.90 over 10,000+ block accesses), and of the database
  maintenance  PostgreSQL: dead rows, stale statistics, transaction-ID
               wraparound (past 50% of the limit), sequences past 90% of
               their range
  replication  PostgreSQL: inactive slots retaining 1 GiB+ of WAL, lagging
               replicas
  settings     PostgreSQL: settings that look wrong, with the reason

Each finding is ok, info, warn (looks wrong), fail (a problem) or skipped.
The exit status is non-zero when a check fails, or with --strict when one
warns. --json prints the whole report, as /debug/db?format=json does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if threshold <= 0 {
				return fmt.Errorf("--threshold must be greater than 0, got %s", threshold)
			}
			ctx := cmd.Context()
			db, cfg, err := a.openDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			checker, err := a.oneShotHealthChecker(db, cfg, threshold)
			if err != nil {
				return err
			}
			mgr := migration.NewMigrationManager(db.GormDB(), migrations.All())
			r := dbreport.Build(ctx, dbreport.Source{DB: db, Migrations: mgr, Health: checker},
				dbreport.Options{LongRunning: threshold, IdleInTransaction: threshold, IntegrityCheck: true})
			out := cmd.OutOrStdout()
			if asJSON {
				err = doctorJSON(out, r)
			} else {
				err = dbreport.WriteText(out, r, strict)
			}
			if err != nil {
				return err
			}
			if n := r.ProblemCount(strict); n > 0 {
				return fmt.Errorf("%w: %d checks failed", errDoctorFailed, n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the whole report as JSON")
	cmd.Flags().BoolVar(&strict, "strict", false, "count warnings (values that look wrong) as problems")
	cmd.Flags().DurationVar(&threshold, "threshold", 30*time.Second,
		"report statements running, and sessions idle in a transaction, longer than this (PostgreSQL)")
	return cmd
}

// doctorJSON writes v as indented JSON.
func doctorJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
