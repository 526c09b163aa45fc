package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"socialpredict/config"
	"socialpredict/database"
)

// dbHealthCommand is `socialpredict db health`: one health check, printed as
// a table or as JSON, exiting non-zero when the database is unhealthy.
func (a *app) dbHealthCommand() *cobra.Command {
	var (
		asJSON    bool
		threshold time.Duration
	)
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check the database once and print each check; exit non-zero when unhealthy",
		Long: `Run one health check of the configured database and print each check with its
status (ok, warn, fail, skipped) and what it found:

  pool           connections open, in use and idle, waits; exhausted when every
                 connection is in use
  query          the test query (SELECT 1), within database.health_check.timeout
  response_time  percentiles of the test query times (one, here)
  transactions   leaked transactions: tracked inside a running server only
  locks          PostgreSQL: sessions blocked by others (pg_blocking_pids)
  sessions       PostgreSQL: statements running, and sessions idle in a
                 transaction, longer than --threshold

The state is healthy, degraded (a check warns) or unhealthy (the test query
failed: a single check counts as health_check.retries failures). The exit
status is non-zero when the state is unhealthy.`,
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
			checker, err := a.oneShotHealthChecker(db, cfg, threshold)
			if err != nil {
				return err
			}
			report, checkErr := checker.Check(cmd.Context())
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				err = enc.Encode(report)
			} else {
				err = printHealth(cmd.OutOrStdout(), report)
			}
			if checkErr != nil {
				return checkErr
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().DurationVar(&threshold, "threshold", 30*time.Second,
		"report statements running, and sessions idle in a transaction, longer than this (PostgreSQL)")
	return cmd
}

// printHealth writes the report as a table of checks, then the details of
// what the checks found.
func printHealth(w io.Writer, r *database.HealthReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Status, c.Message)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for _, tx := range r.LongTransactions {
		fmt.Fprintf(&b, "\ntransaction open for %s, begun by:\n%s", tx.HeldFor.Round(time.Millisecond), healthIndent(tx.Stack))
	}
	if l := r.Locks; l != nil {
		for _, s := range l.Blocked {
			fmt.Fprintf(&b, "\nblocked: pid %d (%s, %s) blocked by %v for %s on %s: %s\n", s.PID, s.User, s.Application,
				s.BlockedBy, s.Waiting.Round(time.Millisecond), s.WaitEvent, s.Query)
		}
		for _, s := range l.LongRunning {
			fmt.Fprintf(&b, "\nlong-running: pid %d (%s, %s) for %s: %s\n", s.PID, s.User, s.Application,
				s.Duration.Round(time.Millisecond), s.Query)
		}
		for _, s := range l.IdleInTransaction {
			fmt.Fprintf(&b, "\n%s: pid %d (%s, %s) for %s, last statement: %s\n", s.State, s.PID, s.User, s.Application,
				s.Duration.Round(time.Millisecond), s.Query)
		}
	}
	fmt.Fprintf(&b, "\nstate: %s (%s, checked in %s)\n", r.State, r.Driver, r.Duration.Round(time.Microsecond))
	_, err := io.WriteString(w, b.String())
	return err
}

// healthIndent indents every line of s by four spaces.
func healthIndent(s string) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	return "    " + strings.Join(lines, "    ") + "\n"
}

// oneShotHealthChecker returns a checker for a single check from the command
// line, as db health and db doctor run it: one failure is the verdict, and
// sessions are long past threshold.
func (a *app) oneShotHealthChecker(db *database.DB, cfg *config.Loaded, threshold time.Duration) (*database.DatabaseHealthChecker, error) {
	hc := cfg.Database.HealthCheck
	hc.Retries = 1
	return database.NewHealthChecker(db, hc,
		database.WithHealthMaxOpenConns(cfg.Database.ConnectionPool.MaxOpenConns),
		database.WithHealthLogger(a.logger(cfg)),
		database.WithHealthLongRunning(threshold), database.WithHealthIdleInTransaction(threshold))
}
