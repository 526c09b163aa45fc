package migration

import (
	"context"
	"time"
)

// State is where a migration stands.
type State string

// The states Status reports.
const (
	StateApplied  State = "applied"
	StatePending  State = "pending"
	StateMissing  State = "missing"  // applied, unknown to this binary
	StateModified State = "modified" // applied with another checksum
	StateFailed   State = "failed"   // failed or interrupted outside a transaction
)

// Status is one line of the status table.
type Status struct {
	Version     string        `json:"version"`
	Description string        `json:"description"`
	State       State         `json:"state"`
	AppliedAt   *time.Time    `json:"applied_at,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
	AppliedBy   string        `json:"applied_by,omitempty"`
}

// Status returns every known or recorded migration in version order with its
// state. It changes nothing; the error is for failures to read the history.
func (m *MigrationManager) Status(ctx context.Context) ([]Status, error) {
	hist, err := m.history(m.db.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	var out []Status
	seen := map[string]bool{}
	for _, mig := range m.migrations {
		if seen[mig.Version] {
			continue
		}
		seen[mig.Version] = true
		s := Status{Version: mig.Version, Description: mig.Description, State: StatePending}
		if r, ok := hist[mig.Version]; ok {
			s = fromRecord(r)
			s.Description = mig.Description
			switch {
			case !r.Success:
				s.State = StateFailed
			case r.Checksum != mig.Sum():
				s.State = StateModified
			default:
				s.State = StateApplied
			}
		}
		out = append(out, s)
	}
	for v, r := range hist {
		if !seen[v] {
			s := fromRecord(r)
			s.State = StateMissing
			if !r.Success {
				s.State = StateFailed
			}
			out = append(out, s)
		}
	}
	SortByVersion(out, func(s Status) string { return s.Version })
	return out, nil
}

func fromRecord(r Record) Status {
	at := r.AppliedAt
	return Status{
		Version: r.Version, Description: r.Description, AppliedAt: &at,
		Duration: time.Duration(r.ExecutionUS) * time.Microsecond, AppliedBy: r.AppliedBy,
	}
}
