package migration

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

var errNoDryRun = errors.New("dry run is only for up, down, to and redo")

// Baseline records every known migration up to and including version as
// applied, without running it: for a database whose schema already exists
// (created by hand or by an older tool). It needs an empty history
// (ErrNotEmpty otherwise) and a known version (ErrUnknownVersion).
func (m *MigrationManager) Baseline(ctx context.Context, version string) (*Result, error) {
	limit, err := m.limit(version)
	if err != nil {
		return nil, err
	}
	if m.dryRun != nil {
		return nil, errNoDryRun
	}
	return m.write(ctx, func(conn *gorm.DB, hist map[string]Record, res *Result) error {
		if len(hist) > 0 {
			return fmt.Errorf("%w: %d migrations are recorded; baseline is for a database without migration history", ErrNotEmpty, len(hist))
		}
		now := m.now()
		return conn.Transaction(func(tx *gorm.DB) error {
			for _, mig := range m.migrations {
				if n, _ := mig.number(); n > limit {
					break
				}
				rec := Record{Version: mig.Version, Description: mig.Description, Checksum: mig.Sum(), AppliedAt: now, AppliedBy: m.appliedBy, Success: true}
				if err := tx.Create(&rec).Error; err != nil {
					return err
				}
				if err := tx.Create(m.logEntry(mig, DirectionBaseline, now, 0, nil)).Error; err != nil {
					return err
				}
				res.Steps = append(res.Steps, Step{Version: mig.Version, Description: mig.Description, Direction: DirectionBaseline})
			}
			return nil
		})
	})
}

// Repair clears failed states after a manual fix, and realigns the recorded
// checksum of modified migrations with the binary's. A failed migration's
// history row is removed, so the next Up runs it again; with markApplied it
// is instead marked as applied (when the manual fix completed it). Each
// change is logged with direction "repair".
func (m *MigrationManager) Repair(ctx context.Context, markApplied bool) (*Result, error) {
	if m.dryRun != nil {
		return nil, errNoDryRun
	}
	return m.write(ctx, func(conn *gorm.DB, hist map[string]Record, res *Result) error {
		known := map[string]Migration{}
		for _, mig := range m.migrations {
			known[mig.Version] = mig
		}
		now := m.now()
		return conn.Transaction(func(tx *gorm.DB) error {
			for _, v := range sortedVersions(hist) {
				r := hist[v]
				mig, isKnown := known[v]
				if !isKnown {
					mig = Migration{Version: v, Description: r.Description}
				}
				var change *gorm.DB
				var what string
				switch {
				case !r.Success && markApplied && isKnown:
					what = "marked applied"
					change = tx.Model(&Record{}).Where("version = ?", v).Updates(map[string]any{"success": true, "checksum": mig.Sum()})
				case !r.Success:
					what = "cleared failed state"
					change = tx.Where("version = ?", v).Delete(&Record{})
				case isKnown && r.Checksum != mig.Sum():
					what = "realigned checksum"
					change = tx.Model(&Record{}).Where("version = ?", v).Update("checksum", mig.Sum())
				default:
					continue
				}
				if change.Error != nil {
					return change.Error
				}
				entry := m.logEntry(mig, DirectionRepair, now, time.Duration(0), nil)
				entry.Detail = what
				if err := tx.Create(entry).Error; err != nil {
					return err
				}
				m.log.Info("migration repaired", "version", v, "change", what)
				res.Steps = append(res.Steps, Step{Version: v, Description: mig.Description + " (" + what + ")", Direction: DirectionRepair})
			}
			return nil
		})
	})
}
