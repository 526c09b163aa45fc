package migration

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ProblemKind classifies what Validate finds.
type ProblemKind string

// The problems Validate reports.
const (
	// ProblemDuplicate: two migrations share a version.
	ProblemDuplicate ProblemKind = "duplicate"
	// ProblemBadVersion: a version is not a string of digits.
	ProblemBadVersion ProblemKind = "bad-version"
	// ProblemMissing: applied in the database, unknown to this binary.
	ProblemMissing ProblemKind = "missing"
	// ProblemModified: applied with a different checksum than the binary's.
	ProblemModified ProblemKind = "modified"
	// ProblemOutOfOrder: pending, but older than the newest applied migration.
	ProblemOutOfOrder ProblemKind = "out-of-order"
	// ProblemNoDown: the migration cannot be reverted.
	ProblemNoDown ProblemKind = "no-down"
	// ProblemFailed: a non-transactional migration failed or was interrupted.
	ProblemFailed ProblemKind = "failed"
)

// Problem is one finding of Validate.
type Problem struct {
	Kind    ProblemKind `json:"kind"`
	Version string      `json:"version"`
	Detail  string      `json:"detail"`
}

// String renders the problem for people.
func (p Problem) String() string { return fmt.Sprintf("%s %s: %s", p.Kind, p.Version, p.Detail) }

// Validate compares the known migrations with the history and returns every
// problem found (none: an empty slice). It changes nothing and does not
// create the history tables. The error is for failures to read the history.
func (m *MigrationManager) Validate(ctx context.Context) ([]Problem, error) {
	hist, err := m.history(m.db.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	return m.problems(hist), nil
}

func (m *MigrationManager) problems(hist map[string]Record) []Problem {
	var out []Problem
	known := map[string]Migration{}
	var newestApplied uint64
	for v, r := range hist {
		if n, err := (Migration{Version: v}).number(); err == nil && r.Success && n > newestApplied {
			newestApplied = n
		}
	}
	for _, mig := range m.migrations {
		n, err := mig.number()
		if err != nil {
			out = append(out, Problem{ProblemBadVersion, mig.Version, err.Error()})
		}
		if prev, dup := known[mig.Version]; dup {
			out = append(out, Problem{ProblemDuplicate, mig.Version, fmt.Sprintf("%q and %q share the version", prev.Description, mig.Description)})
			continue
		}
		known[mig.Version] = mig
		if mig.Down == nil {
			out = append(out, Problem{ProblemNoDown, mig.Version, mig.Description + " has no Down: it cannot be reverted"})
		}
		r, applied := hist[mig.Version]
		switch {
		case !applied:
			if err == nil && n < newestApplied {
				out = append(out, Problem{ProblemOutOfOrder, mig.Version, mig.Description + " is pending but older than the newest applied migration"})
			}
		case !r.Success:
			out = append(out, Problem{ProblemFailed, mig.Version, mig.Description + " failed or was interrupted outside a transaction; fix the database by hand, then run `migrate repair`"})
		case r.Checksum != mig.Sum():
			out = append(out, Problem{ProblemModified, mig.Version, mig.Description + " was changed after it was applied (checksum differs)"})
		}
	}
	for _, v := range sortedVersions(hist) {
		if _, ok := known[v]; !ok {
			r := hist[v]
			if !r.Success {
				out = append(out, Problem{ProblemFailed, v, r.Description + " failed or was interrupted outside a transaction; fix the database by hand, then run `migrate repair`"})
			}
			out = append(out, Problem{ProblemMissing, v, r.Description + " is applied in the database but unknown to this binary"})
		}
	}
	return out
}

// checkRunnable refuses to run when the history or the migrations are in a
// state where running could do damage. Up also refuses on out-of-order
// pending migrations unless WithOutOfOrder was given. Other problems are
// logged as warnings.
func (m *MigrationManager) checkRunnable(hist map[string]Record, up bool) error {
	var failed, invalid []string
	for _, p := range m.problems(hist) {
		switch {
		case p.Kind == ProblemFailed:
			failed = append(failed, p.String())
		case p.Kind == ProblemDuplicate, p.Kind == ProblemBadVersion,
			up && p.Kind == ProblemModified,
			up && p.Kind == ProblemOutOfOrder && !m.allowOutOfOrder:
			invalid = append(invalid, p.String())
		case p.Kind != ProblemNoDown:
			m.log.Warn("migration problem", "problem", p.String())
		}
	}
	var errs []error
	if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("%w; nothing was run:\n  %s", ErrFailedState, strings.Join(failed, "\n  ")))
	}
	if len(invalid) > 0 {
		errs = append(errs, fmt.Errorf("%w; nothing was run (see `migrate validate`):\n  %s", ErrInvalid, strings.Join(invalid, "\n  ")))
	}
	return errors.Join(errs...)
}

// sortedVersions returns the versions recorded in hist in version order.
func sortedVersions(hist map[string]Record) []string {
	out := make([]string, 0, len(hist))
	for v := range hist {
		out = append(out, v)
	}
	SortByVersion(out, func(v string) string { return v })
	return out
}

// ErrNotCurrent is returned by CheckCurrent when the schema is not the one
// this binary expects.
var ErrNotCurrent = errors.New("database schema is not current")

// CheckCurrent returns nil when every known migration is applied and none is
// modified, failed or unknown; otherwise an error matching ErrNotCurrent that
// lists what is pending or wrong. The server calls it at start-up and
// refuses to serve a database whose schema is behind or modified.
func (m *MigrationManager) CheckCurrent(ctx context.Context) error {
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	var wrong []string
	for _, s := range st {
		if s.State != StateApplied {
			wrong = append(wrong, s.Version+" "+s.Description+": "+string(s.State))
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("%w (run `socialpredict migrate status`):\n  %s", ErrNotCurrent, strings.Join(wrong, "\n  "))
	}
	return nil
}
