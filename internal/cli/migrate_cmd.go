package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"socialpredict/migration"
)

// migrateFlags are the flags the migrate subcommands share.
type migrateFlags struct {
	dryRun      bool
	all         bool
	json        bool
	markApplied bool
	outOfOrder  bool
	lockTimeout time.Duration
	dir         string
}

func (a *app) migrateCommand() *cobra.Command {
	f := &migrateFlags{}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, revert and inspect schema migrations",
		Long: `Manage the numbered schema migrations embedded in this binary.

Every change runs under a lock (a PostgreSQL advisory lock, or a file lock
beside the SQLite database), so concurrent deploys apply each migration once:
a second runner waits up to --lock-timeout, then finds nothing to do. Each
migration and its history row commit together; one marked NoTransaction that
fails leaves a failed state that blocks further runs until "migrate repair".
History: table schema_migrations; every run is logged in schema_migrations_log.`,
	}
	cmd.PersistentFlags().DurationVar(&f.lockTimeout, "lock-timeout", 10*time.Minute, "how long to wait for another runner")
	cmd.PersistentFlags().BoolVar(&f.outOfOrder, "out-of-order", false, "apply pending migrations older than the newest applied one")

	dry := func(c *cobra.Command) *cobra.Command {
		c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the SQL that would run and change nothing")
		return c
	}
	jsonFlag := func(c *cobra.Command) *cobra.Command {
		c.Flags().BoolVar(&f.json, "json", false, "print JSON")
		return c
	}
	run := func(op func(ctx context.Context, m *migration.MigrationManager, args []string) (*migration.Result, error)) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, args []string) error {
			return a.withManager(c, f, func(m *migration.MigrationManager) error {
				res, err := op(c.Context(), m, args)
				printResult(c.OutOrStdout(), res)
				return err
			})
		}
	}

	up := dry(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: run(func(ctx context.Context, m *migration.MigrationManager, _ []string) (*migration.Result, error) {
			return m.Up(ctx)
		}),
	})
	down := dry(&cobra.Command{
		Use:   "down [N]",
		Short: "Revert the last N applied migrations (default 1; reverting all needs --all)",
		Args:  cobra.MaximumNArgs(1),
		RunE: run(func(ctx context.Context, m *migration.MigrationManager, args []string) (*migration.Result, error) {
			if f.all {
				return m.DownTo(ctx, "0")
			}
			n := 1
			if len(args) == 1 {
				var err error
				if n, err = strconv.Atoi(args[0]); err != nil || n < 1 {
					return nil, fmt.Errorf("down: N must be a positive number, got %q", args[0])
				}
			}
			applied, err := appliedCount(ctx, m)
			if err != nil {
				return nil, err
			}
			if n >= applied && applied > 0 {
				return nil, fmt.Errorf("down %d would revert all %d applied migrations; pass --all to do that", n, applied)
			}
			return m.Down(ctx, n)
		}),
	})
	down.Flags().BoolVar(&f.all, "all", false, "revert every applied migration")
	to := dry(&cobra.Command{
		Use:   "to VERSION",
		Short: "Migrate up or down until exactly the migrations up to VERSION are applied (0 with --all: none)",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, m *migration.MigrationManager, args []string) (*migration.Result, error) {
			if args[0] == "0" && !f.all {
				return nil, errors.New("to 0 reverts every migration; pass --all to do that")
			}
			return m.To(ctx, args[0])
		}),
	})
	to.Flags().BoolVar(&f.all, "all", false, "allow VERSION 0 (revert everything)")
	redo := dry(&cobra.Command{
		Use:   "redo",
		Short: "Revert the last applied migration and apply it again",
		Args:  cobra.NoArgs,
		RunE: run(func(ctx context.Context, m *migration.MigrationManager, _ []string) (*migration.Result, error) {
			return m.Redo(ctx)
		}),
	})
	baseline := &cobra.Command{
		Use:   "baseline VERSION",
		Short: "Record migrations up to VERSION as applied without running them (for an existing schema)",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, m *migration.MigrationManager, args []string) (*migration.Result, error) {
			return m.Baseline(ctx, args[0])
		}),
	}
	repair := &cobra.Command{
		Use:   "repair",
		Short: "Clear failed states after a manual fix, and realign checksums of modified migrations",
		Long: `Clear the failed state a non-transactional migration left behind, after you
have fixed the database by hand: by default the failed migration is removed
from the history so that the next "migrate up" runs it again; with
--mark-applied it is recorded as applied instead (when your fix completed it).
Repair also realigns the recorded checksum of migrations edited after they
were applied. Every change is written to the migration log.`,
		Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, m *migration.MigrationManager, _ []string) (*migration.Result, error) {
			return m.Repair(ctx, f.markApplied)
		}),
	}
	repair.Flags().BoolVar(&f.markApplied, "mark-applied", false, "record failed migrations as applied instead of pending")

	status := jsonFlag(&cobra.Command{
		Use:   "status",
		Short: "Show each migration: version, description, state, applied at, duration",
		Long: `Show every migration known to this binary or recorded in the database, with
its state: applied, pending, missing (applied but unknown to this binary),
modified (applied with another checksum) or failed.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return a.withManager(c, f, func(m *migration.MigrationManager) error {
				st, err := m.Status(c.Context())
				if err != nil {
					return err
				}
				if f.json {
					return writeJSON(c.OutOrStdout(), st)
				}
				return printStatus(c.OutOrStdout(), st)
			})
		},
	})
	validate := jsonFlag(&cobra.Command{
		Use:   "validate",
		Short: "Check migrations against the history; exit non-zero on any problem",
		Long: `Report duplicate versions, migrations applied in the database but unknown to
this binary, checksum drift, pending migrations older than the newest applied
one, migrations without Down, and failed states. Exits non-zero when any is
found.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return a.withManager(c, f, func(m *migration.MigrationManager) error {
				problems, err := m.Validate(c.Context())
				if err != nil {
					return err
				}
				if f.json {
					err = writeJSON(c.OutOrStdout(), problems)
				} else {
					for _, p := range problems {
						fmt.Fprintln(c.OutOrStdout(), p)
					}
					if len(problems) == 0 {
						fmt.Fprintln(c.OutOrStdout(), "ok: no problem found")
					}
				}
				if err == nil && len(problems) > 0 {
					err = fmt.Errorf("%w: %d problems", migration.ErrInvalid, len(problems))
				}
				return err
			})
		},
	})
	history := &cobra.Command{
		Use:   "history",
		Short: "Print the log of every migration run (up, down, baseline, repair, failures)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return a.withManager(c, f, func(m *migration.MigrationManager) error {
				entries, err := m.Log(c.Context())
				if err != nil {
					return err
				}
				return printLog(c.OutOrStdout(), entries)
			})
		},
	}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Scaffold the next numbered migration file (run from the repository root)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			path, err := migration.Create(f.dir, args[0])
			if err == nil {
				fmt.Fprintf(c.OutOrStdout(), "created %s\n", path)
			}
			return err
		},
	}
	create.Flags().StringVar(&f.dir, "dir", "migration/migrations", "folder of the migrations package")

	cmd.AddCommand(up, down, to, redo, status, validate, history, create, baseline, repair)
	return cmd
}

// withManager opens the database and runs fn with a manager of the
// embedded migrations.
func (a *app) withManager(c *cobra.Command, f *migrateFlags, fn func(*migration.MigrationManager) error) error {
	cfg, err := a.load()
	if err != nil {
		return err
	}
	opts := []migration.Option{migration.WithLockTimeout(f.lockTimeout)}
	if f.dryRun {
		opts = append(opts, migration.WithDryRun(c.OutOrStdout()))
	}
	if f.outOfOrder {
		opts = append(opts, migration.WithOutOfOrder())
	}
	mgr, closeDB, err := a.openMigrations(c.Context(), cfg, opts...)
	if err != nil {
		return err
	}
	defer closeDB()
	return fn(mgr)
}

// appliedCount returns how many migrations are recorded as applied.
func appliedCount(ctx context.Context, m *migration.MigrationManager) (int, error) {
	st, err := m.Status(ctx)
	n := 0
	for _, s := range st {
		if s.State != migration.StatePending {
			n++
		}
	}
	return n, err
}

var verbs = map[string]string{
	migration.DirectionUp: "applied", migration.DirectionDown: "reverted",
	migration.DirectionBaseline: "baselined", migration.DirectionRepair: "repaired",
}

func printResult(w io.Writer, res *migration.Result) {
	if res == nil {
		return
	}
	if len(res.Steps) == 0 && !res.DryRun {
		fmt.Fprintln(w, "nothing to do")
	}
	for _, s := range res.Steps {
		if res.DryRun {
			continue // the SQL was printed
		}
		fmt.Fprintf(w, "%s %s %s (%s)\n", verbs[s.Direction], s.Version, s.Description, s.Duration.Round(time.Microsecond))
	}
}

func printStatus(w io.Writer, st []migration.Status) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tDESCRIPTION\tSTATE\tAPPLIED AT\tDURATION")
	for _, s := range st {
		at, dur := "-", "-"
		if s.AppliedAt != nil {
			at = s.AppliedAt.UTC().Format(time.RFC3339)
			dur = s.Duration.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Version, s.Description, s.State, at, dur)
	}
	return tw.Flush()
}

func printLog(w io.Writer, entries []migration.LogEntry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED AT\tVERSION\tDIRECTION\tRESULT\tDURATION\tBY\tDETAIL")
	for _, e := range entries {
		result := "ok"
		if !e.Success {
			result = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.StartedAt.UTC().Format(time.RFC3339), e.Version, e.Direction, result,
			time.Duration(e.ExecutionUS)*time.Microsecond, e.AppliedBy, firstLine(e.Detail))
	}
	return tw.Flush()
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
