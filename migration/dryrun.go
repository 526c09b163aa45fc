package migration

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// printDry writes the SQL fn would run, captured from a GORM dry-run session
// (statements are built, never sent).
func (m *MigrationManager) printDry(conn *gorm.DB, mig Migration, dir string, fn func(*gorm.DB) error, res *Result) error {
	rec := &sqlRecorder{}
	session := conn.Session(&gorm.Session{DryRun: true, Logger: rec})
	if err := fn(session); err != nil {
		return &MigrationError{Version: mig.Version, Description: mig.Description, Direction: dir, Err: err}
	}
	mode := "in a transaction"
	if mig.NoTransaction {
		mode = "outside a transaction"
	}
	if _, err := fmt.Fprintf(m.dryRun, "-- %s %s: %s (%s)\n", dir, mig.Version, mig.Description, mode); err != nil {
		return err
	}
	for _, stmt := range rec.statements {
		if _, err := fmt.Fprintf(m.dryRun, "%s;\n", stmt); err != nil {
			return err
		}
	}
	res.Steps = append(res.Steps, Step{Version: mig.Version, Description: mig.Description, Direction: dir})
	return nil
}

// sqlRecorder is a GORM logger that keeps the SQL of every statement.
type sqlRecorder struct{ statements []string }

func (r *sqlRecorder) LogMode(logger.LogLevel) logger.Interface { return r }
func (r *sqlRecorder) Info(context.Context, string, ...any)     {}
func (r *sqlRecorder) Warn(context.Context, string, ...any)     {}
func (r *sqlRecorder) Error(context.Context, string, ...any)    {}

// Trace records the statement.
func (r *sqlRecorder) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	sql, _ := fc()
	r.statements = append(r.statements, sql)
}
