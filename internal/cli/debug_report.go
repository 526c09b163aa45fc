package cli

import (
	"context"
	"time"

	"socialpredict/database"
	"socialpredict/migration"
)

// dbReport is the JSON of /debug/db.
type dbReport struct {
	Driver      string    `json:"driver"`
	GeneratedAt time.Time `json:"generated_at"`
	// Health is a fresh health check: pool, test query, response times,
	// leaked transactions and (PostgreSQL) locks and sessions.
	Health *database.HealthReport `json:"health"`
	// HealthError is set when the check itself failed.
	HealthError string `json:"health_error,omitempty"`
	// Migrations is every migration's state.
	Migrations      []migration.Status `json:"migrations"`
	MigrationsError string             `json:"migrations_error,omitempty"`
}

// debugReport returns the /debug/db report builder over db.
func debugReport(db *database.DB, mgr *migration.MigrationManager) func(ctx context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		r := dbReport{Driver: db.Driver(), GeneratedAt: time.Now().UTC()}
		rep, err := db.Health().Check(ctx)
		r.Health = rep
		if err != nil {
			r.HealthError = err.Error()
		}
		if r.Migrations, err = mgr.Status(ctx); err != nil {
			r.MigrationsError = err.Error()
		}
		return r, nil
	}
}
