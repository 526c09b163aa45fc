package migration

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// apply runs one migration in one direction and records it. A transactional
// migration commits together with its history and log rows, or not at all.
// A non-transactional one is recorded as failed before it starts and marked
// successful after, so a crash or error leaves a failed state that blocks
// further runs until repair. Failures are logged after the rollback, with a
// context the caller cannot cancel.
func (m *MigrationManager) apply(conn *gorm.DB, mig Migration, dir string, res *Result) error {
	fn := mig.Up
	if dir == DirectionDown {
		fn = mig.Down
	}
	if fn == nil {
		return &MigrationError{Version: mig.Version, Description: mig.Description, Direction: dir, Err: ErrIrreversible}
	}
	if m.dryRun != nil {
		return m.printDry(conn, mig, dir, fn, res)
	}
	bg := conn.WithContext(context.WithoutCancel(conn.Statement.Context))
	started := m.now()
	t0 := time.Now()
	var err error
	if mig.NoTransaction {
		err = m.applyOutsideTx(conn, bg, mig, dir, fn, started, t0)
	} else {
		err = conn.Transaction(func(tx *gorm.DB) error {
			if err := fn(tx); err != nil {
				return err
			}
			return m.record(tx, mig, dir, started, time.Since(t0))
		})
	}
	elapsed := time.Since(t0)
	if err != nil {
		if logErr := m.recordFailure(bg, mig, dir, started, elapsed, err); logErr != nil {
			// A cancelled query closes a PostgreSQL connection: log through the pool.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(conn.Statement.Context), 10*time.Second)
			logErr = m.recordFailure(m.db.WithContext(fctx), mig, dir, started, elapsed, err)
			cancel()
			if logErr != nil {
				err = errors.Join(err, fmt.Errorf("log the failure: %w", logErr))
			}
		}
		m.log.Error("migration failed", "version", mig.Version, "description", mig.Description, "direction", dir, "error", err)
		return &MigrationError{Version: mig.Version, Description: mig.Description, Direction: dir, NoTransaction: mig.NoTransaction, Err: err}
	}
	m.log.Info("migration "+dir, "version", mig.Version, "description", mig.Description, "duration", elapsed)
	if m.metrics != nil {
		m.metrics.MigrationsApplied.WithLabelValues(dir).Inc()
	}
	res.Steps = append(res.Steps, Step{Version: mig.Version, Description: mig.Description, Direction: dir, Duration: elapsed})
	return nil
}

// applyOutsideTx runs a non-transactional migration between a "failed"
// history row and its success.
func (m *MigrationManager) applyOutsideTx(conn, bg *gorm.DB, mig Migration, dir string, fn func(*gorm.DB) error, started, t0 time.Time) error {
	pending := Record{Version: mig.Version, Description: mig.Description, Checksum: mig.Sum(), AppliedAt: started, AppliedBy: m.appliedBy}
	var mark *gorm.DB
	if dir == DirectionUp {
		mark = bg.Create(&pending)
	} else {
		mark = bg.Model(&Record{}).Where("version = ?", mig.Version).Update("success", false)
	}
	if mark.Error != nil {
		return mark.Error
	}
	if err := fn(conn); err != nil {
		return err
	}
	return m.record(bg, mig, dir, started, time.Since(t0))
}

// logEntry is the log row of one step; runErr is nil for a success.
func (m *MigrationManager) logEntry(mig Migration, dir string, started time.Time, elapsed time.Duration, runErr error) *LogEntry {
	e := &LogEntry{
		Version: mig.Version, Description: mig.Description, Direction: dir, Success: runErr == nil,
		StartedAt: started, FinishedAt: started.Add(elapsed), ExecutionUS: elapsed.Microseconds(), AppliedBy: m.appliedBy,
	}
	if runErr != nil {
		e.Detail = runErr.Error()
	}
	return e
}

// recordFailure appends the log row of a failed step.
func (m *MigrationManager) recordFailure(db *gorm.DB, mig Migration, dir string, started time.Time, elapsed time.Duration, runErr error) error {
	return db.Create(m.logEntry(mig, dir, started, elapsed, runErr)).Error
}

// record writes the history change and the log row of a successful step.
func (m *MigrationManager) record(db *gorm.DB, mig Migration, dir string, started time.Time, elapsed time.Duration) error {
	var err error
	switch {
	case dir == DirectionDown:
		err = db.Where("version = ?", mig.Version).Delete(&Record{}).Error
	case mig.NoTransaction:
		err = db.Model(&Record{}).Where("version = ?", mig.Version).
			Updates(map[string]any{"success": true, "execution_us": elapsed.Microseconds()}).Error
	default:
		err = db.Create(&Record{
			Version: mig.Version, Description: mig.Description, Checksum: mig.Sum(), AppliedAt: started,
			ExecutionUS: elapsed.Microseconds(), AppliedBy: m.appliedBy, Success: true,
		}).Error
	}
	if err != nil {
		return err
	}
	return db.Create(m.logEntry(mig, dir, started, elapsed, nil)).Error
}
