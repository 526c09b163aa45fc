package cli

import (
	"context"
	"time"

	"socialpredict/database"
	"socialpredict/database/diagnostics"
	"socialpredict/migration"
)

// dbReport is the JSON of /debug/db.
type dbReport struct {
	Driver      string    `json:"driver"`
	GeneratedAt time.Time `json:"generated_at"`
	// Pool is the connection pool when the health check started (the same
	// as health.pool): open, in use, idle connections and the waits for one.
	Pool database.PoolHealth `json:"pool"`
	// SlowQueries are the latest slow statements, newest first
	// (monitoring.recent_slow_queries of them at most), without their
	// arguments.
	SlowQueries []database.SlowQuery `json:"slow_queries"`
	// NPlusOne are the latest N+1 findings, newest first
	// (monitoring.recent_n_plus_one of them at most).
	NPlusOne []database.NPlusOneEvent `json:"n_plus_one"`
	// Locks are the blocked, long-running and idle-in-transaction sessions.
	Locks dbLocks `json:"locks"`
	// Health is a fresh health check: pool, test query, response times,
	// leaked transactions and (PostgreSQL) locks and sessions.
	Health *database.HealthReport `json:"health"`
	// HealthError is set when the check itself failed.
	HealthError string `json:"health_error,omitempty"`
	// Migrations is every migration's state.
	Migrations      []migration.Status `json:"migrations"`
	MigrationsError string             `json:"migrations_error,omitempty"`
}

// dbLocks is the locks section of /debug/db: the health check's lock
// report (PostgreSQL), or why there is none.
type dbLocks struct {
	// Inspected tells whether the sessions were inspected.
	Inspected bool `json:"inspected"`
	// Note says why they were not (SQLite has no lock inspection).
	Note string `json:"note,omitempty"`
	// Report is the health check's lock report when Inspected.
	Report *diagnostics.LockReport `json:"report,omitempty"`
}

// debugReport returns the /debug/db report builder over db.
func debugReport(db *database.DB, mgr *migration.MigrationManager) func(ctx context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		r := dbReport{Driver: db.Driver(), GeneratedAt: time.Now().UTC(),
			SlowQueries: []database.SlowQuery{}, NPlusOne: []database.NPlusOneEvent{}}
		if mon := db.Monitor(); mon != nil {
			r.SlowQueries = append(r.SlowQueries, mon.RecentSlow()...)
			r.NPlusOne = append(r.NPlusOne, mon.RecentNPlusOne()...)
		}
		rep, err := db.Health().Check(ctx)
		r.Health, r.Pool, r.Locks = rep, rep.Pool, locksOf(db.Driver(), rep)
		if err != nil {
			r.HealthError = err.Error()
		}
		if r.Migrations, err = mgr.Status(ctx); err != nil {
			r.MigrationsError = err.Error()
		}
		return r, nil
	}
}

// locksOf returns the locks section of a health report.
func locksOf(driver string, rep *database.HealthReport) dbLocks {
	if rep.Locks != nil {
		return dbLocks{Inspected: true, Report: rep.Locks}
	}
	if driver != database.DriverPostgres {
		return dbLocks{Note: "lock inspection does not apply to " + driver + ": it has one database-wide write lock and no sessions to inspect"}
	}
	l := dbLocks{Note: "not inspected"}
	if res, ok := rep.Result(database.HealthCheckLocks); ok && res.Message != "" {
		l.Note = res.Message
	}
	return l
}
