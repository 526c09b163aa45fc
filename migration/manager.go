package migration

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"slices"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
)

// MigrationManager applies and reverts migrations and keeps their history.
// Every operation that changes the schema holds the migration lock for its
// whole run, so concurrent runners (goroutines or processes) apply each
// migration exactly once: a second runner waits, then finds nothing to do.
type MigrationManager struct {
	db              *gorm.DB
	migrations      []Migration
	log             *slog.Logger
	lockTimeout     time.Duration
	appliedBy       string
	dryRun          io.Writer
	allowOutOfOrder bool
	now             func() time.Time
	metrics         *database.Metrics
	// pooled: db goes through a transaction pooler (see
	// WithTransactionPooling).
	pooled bool
}

// Option configures a MigrationManager.
type Option func(*MigrationManager)

// WithLogger logs each step to log (default slog.Default()).
func WithLogger(log *slog.Logger) Option { return func(m *MigrationManager) { m.log = log } }

// WithLockTimeout sets how long to wait for another runner (default 10 minutes).
func WithLockTimeout(d time.Duration) Option {
	return func(m *MigrationManager) { m.lockTimeout = d }
}

// WithAppliedBy sets who is recorded as applying migrations (default user@host).
func WithAppliedBy(who string) Option { return func(m *MigrationManager) { m.appliedBy = who } }

// WithDryRun makes Up, UpTo, Down, DownTo and Redo write the SQL they would
// run to w instead of running it; nothing in the database changes and no
// lock is taken.
func WithDryRun(w io.Writer) Option { return func(m *MigrationManager) { m.dryRun = w } }

// WithOutOfOrder allows applying pending migrations whose version is lower
// than that of the newest applied one (by default Up refuses).
func WithOutOfOrder() Option { return func(m *MigrationManager) { m.allowOutOfOrder = true } }

// WithMetrics counts applied and reverted migrations in
// db_migrations_applied_total{direction}.
func WithMetrics(m *database.Metrics) Option { return func(mm *MigrationManager) { mm.metrics = m } }

// WithNowFunc sets the clock used for history timestamps (default: db's,
// the database handle's one clock).
func WithNowFunc(now func() time.Time) Option { return func(m *MigrationManager) { m.now = now } }

// WithTransactionPooling says db goes through PgBouncer (or another pooler)
// in transaction mode: the manager then reads the history and status as
// usual but refuses every operation that changes the schema with
// ErrTransactionPooling, since the migration lock would not hold.
func WithTransactionPooling() Option { return func(m *MigrationManager) { m.pooled = true } }

// NewMigrationManager returns a manager of migrations on db. The migrations
// are sorted by version; problems with them (duplicate or malformed
// versions) are reported by Validate and make Up refuse.
func NewMigrationManager(db *gorm.DB, migrations []Migration, opts ...Option) *MigrationManager {
	m := &MigrationManager{
		db:          db,
		migrations:  slices.Clone(migrations),
		log:         slog.Default(),
		lockTimeout: 10 * time.Minute,
		appliedBy:   defaultAppliedBy(),
		now:         func() time.Time { return db.NowFunc().UTC() },
	}
	for _, o := range opts {
		o(m)
	}
	SortByVersion(m.migrations, func(mig Migration) string { return mig.Version })
	return m
}

func defaultAppliedBy() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if host, err := os.Hostname(); err == nil {
		name += "@" + host
	}
	return name
}

// Step is one migration run (or, in a dry run, printed) by an operation.
type Step struct {
	Version     string
	Description string
	Direction   string
	Duration    time.Duration
}

// Result lists the steps an operation took, in order.
type Result struct {
	Steps []Step
	// DryRun is set when nothing was changed.
	DryRun bool
}

// Migrate applies every pending migration (the plan's name for Up).
func (m *MigrationManager) Migrate(ctx context.Context) error {
	_, err := m.Up(ctx)
	return err
}

// Up applies every pending migration in version order. It refuses, changing
// nothing, when a migration is in a failed state (ErrFailedState) or
// validation finds duplicate, malformed, modified or out-of-order migrations
// (ErrInvalid). A migration that fails returns a *MigrationError; the ones
// before it stay applied.
func (m *MigrationManager) Up(ctx context.Context) (*Result, error) { return m.UpTo(ctx, "") }

// UpTo is Up that stops after version target ("" for all). An unknown
// target is ErrUnknownVersion.
func (m *MigrationManager) UpTo(ctx context.Context, target string) (*Result, error) {
	limit, err := m.limit(target)
	if err != nil {
		return nil, err
	}
	return m.write(ctx, func(conn *gorm.DB, hist map[string]Record, res *Result) error {
		if err := m.checkRunnable(hist, true); err != nil {
			return err
		}
		for _, mig := range m.migrations {
			n, _ := mig.number()
			if n > limit {
				break
			}
			if _, applied := hist[mig.Version]; applied {
				continue
			}
			if err := m.apply(conn, mig, DirectionUp, res); err != nil {
				return err
			}
		}
		return nil
	})
}

// Down reverts the n most recently applied migrations (fewer when fewer are
// applied). It returns ErrIrreversible for a migration without Down and
// ErrUnknownVersion for an applied migration this binary does not know,
// before changing anything.
func (m *MigrationManager) Down(ctx context.Context, n int) (*Result, error) {
	if n < 1 {
		return nil, fmt.Errorf("down: count must be at least 1, got %d", n)
	}
	return m.write(ctx, func(conn *gorm.DB, hist map[string]Record, res *Result) error {
		targets, err := m.revertible(hist, func(i int, _ uint64) bool { return i < n })
		if err != nil {
			return err
		}
		return m.revert(conn, targets, res)
	})
}

// DownTo reverts every applied migration whose version is above target;
// "0" reverts them all.
func (m *MigrationManager) DownTo(ctx context.Context, target string) (*Result, error) {
	limit := uint64(0)
	if target != "0" {
		var err error
		if limit, err = m.limit(target); err != nil {
			return nil, err
		}
	}
	return m.write(ctx, func(conn *gorm.DB, hist map[string]Record, res *Result) error {
		targets, err := m.revertible(hist, func(_ int, v uint64) bool { return v > limit })
		if err != nil {
			return err
		}
		return m.revert(conn, targets, res)
	})
}

// Redo reverts the most recently applied migration and applies it again.
func (m *MigrationManager) Redo(ctx context.Context) (*Result, error) {
	return m.write(ctx, func(conn *gorm.DB, hist map[string]Record, res *Result) error {
		targets, err := m.revertible(hist, func(i int, _ uint64) bool { return i < 1 })
		if err != nil {
			return err
		}
		if len(targets) == 0 {
			return fmt.Errorf("redo: no migration is applied")
		}
		if err := m.revert(conn, targets, res); err != nil {
			return err
		}
		return m.apply(conn, targets[0], DirectionUp, res)
	})
}

// limit returns the numeric value of a known target version, or the maximum
// for "".
func (m *MigrationManager) limit(target string) (uint64, error) {
	if target == "" {
		return ^uint64(0), nil
	}
	for _, mig := range m.migrations {
		if mig.Version == target {
			return mig.number()
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownVersion, target)
}

// revertible returns, newest first, the applied migrations that keep(i, v)
// selects, where i counts applied migrations from the newest and v is the
// version number. It fails before anything runs when one of them cannot be
// reverted.
func (m *MigrationManager) revertible(hist map[string]Record, keep func(i int, v uint64) bool) ([]Migration, error) {
	if err := m.checkRunnable(hist, false); err != nil {
		return nil, err
	}
	known := map[string]Migration{}
	for _, mig := range m.migrations {
		known[mig.Version] = mig
	}
	versions := make([]string, 0, len(hist))
	for v := range hist {
		versions = append(versions, v)
	}
	SortByVersion(versions, func(v string) string { return v })
	slices.Reverse(versions) // newest first
	var out []Migration
	for i, v := range versions {
		n, _ := Migration{Version: v}.number()
		if !keep(i, n) {
			break
		}
		mig, ok := known[v]
		if !ok {
			return nil, fmt.Errorf("%w: %s is applied in the database but not known to this binary, so it cannot be reverted", ErrUnknownVersion, v)
		}
		if mig.Down == nil {
			return nil, fmt.Errorf("%w: %s", ErrIrreversible, mig)
		}
		out = append(out, mig)
	}
	return out, nil
}

func (m *MigrationManager) revert(conn *gorm.DB, targets []Migration, res *Result) error {
	for _, mig := range targets {
		if err := m.apply(conn, mig, DirectionDown, res); err != nil {
			return err
		}
	}
	return nil
}

// CompareVersions orders two versions numerically ("2" before "010"); when
// either is not a string of digits it compares them as text.
func CompareVersions(a, b string) int {
	an, aerr := Migration{Version: a}.number()
	bn, berr := Migration{Version: b}.number()
	if aerr != nil || berr != nil {
		return cmp.Compare(a, b)
	}
	return cmp.Compare(an, bn)
}

// SortByVersion sorts items in place in the order of their versions (see
// CompareVersions), keeping the order of items with equal versions: the one
// version order of migrations, statuses and history.
func SortByVersion[T any](items []T, version func(T) string) {
	slices.SortStableFunc(items, func(a, b T) int { return CompareVersions(version(a), version(b)) })
}

// write runs fn on one dedicated connection holding the migration lock, with
// the history tables present and read. In a dry run it takes no lock and
// creates nothing.
func (m *MigrationManager) write(ctx context.Context, fn func(conn *gorm.DB, hist map[string]Record, res *Result) error) (*Result, error) {
	res := &Result{DryRun: m.dryRun != nil}
	if m.pooled && m.dryRun == nil {
		return res, ErrTransactionPooling
	}
	err := m.db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		// A fresh session on the dedicated connection, so that each chained
		// call starts a new statement.
		conn = conn.Session(&gorm.Session{NewDB: true})
		if m.dryRun != nil {
			hist, err := m.history(conn)
			if err != nil {
				return err
			}
			return fn(conn, hist, res)
		}
		unlock, err := m.acquireLock(ctx, conn)
		if err != nil {
			return err
		}
		defer unlock()
		if err := ensureHistory(conn); err != nil {
			return fmt.Errorf("create migration history tables: %w", err)
		}
		hist, err := readHistory(conn)
		if err != nil {
			return fmt.Errorf("read migration history: %w", err)
		}
		return fn(conn, hist, res)
	})
	return res, err
}

// history reads the history without creating its tables: empty when they do
// not exist yet.
func (m *MigrationManager) history(conn *gorm.DB) (map[string]Record, error) {
	if !historyExists(conn) {
		return map[string]Record{}, nil
	}
	hist, err := readHistory(conn)
	if err != nil {
		return nil, fmt.Errorf("read migration history: %w", err)
	}
	return hist, nil
}

// Log returns the append-only log of every run, oldest first (empty before
// the first run).
func (m *MigrationManager) Log(ctx context.Context) ([]LogEntry, error) {
	db := m.db.WithContext(ctx)
	if !db.Migrator().HasTable(LogTable) {
		return nil, nil
	}
	return readLog(db)
}

// To migrates up or down until exactly the known migrations up to target are
// applied: it reverts those above target, then applies those pending at or
// below it. "0" reverts everything.
func (m *MigrationManager) To(ctx context.Context, target string) (*Result, error) {
	res, err := m.DownTo(ctx, target)
	if err != nil || target == "0" {
		return res, err
	}
	up, err := m.UpTo(ctx, target)
	if up != nil {
		res.Steps = append(res.Steps, up.Steps...)
	}
	return res, err
}
