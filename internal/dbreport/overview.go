package dbreport

import (
	"fmt"
	"strings"
	"time"

	"socialpredict/database"
	"socialpredict/database/diagnostics"
	"socialpredict/migration"
)

// overview reads the engine, uptime, a fresh health check and the
// migrations.
func (b *builder) overview() {
	o := &b.r.Overview
	if !b.src.StartedAt.IsZero() {
		o.ProcessStartedAt = b.src.StartedAt.UTC()
		o.ProcessUptime = time.Since(b.src.StartedAt)
	}
	if b.pg {
		info, err := diagnostics.Server(b.ctx, b.src.DB.GormDB())
		if !b.failed(&o.Section, "overview", err) {
			version, _, _ := strings.Cut(info.ServerVersion, " ") // "15.4 (Debian 15.4-1)"
			o.Server, o.Version, o.DatabaseBytes = info, "PostgreSQL "+version, info.DatabaseBytes
		}
	}
	b.health()
	b.migrations()
}

// health runs one health check and turns its checks into findings: a
// warning or a failure of a check is a problem.
func (b *builder) health() {
	r := b.r
	checker := b.src.Health
	if checker == nil {
		checker = b.src.DB.Health()
	}
	rep, err := checker.Check(b.ctx)
	r.Health, r.Pool, r.Overview.HealthState = rep, rep.Pool, rep.State
	if err != nil {
		r.HealthError = err.Error()
	}
	r.Locks = legacyLocks(r.Driver, rep)
	for _, c := range rep.Checks {
		status := map[database.HealthCheckStatus]string{
			database.HealthOK: StatusOK, database.HealthWarn: StatusFail,
			database.HealthFail: StatusFail, database.HealthSkipped: StatusSkipped,
		}[c.Status]
		msg := c.Message
		if c.Name == database.HealthCheckPool {
			msg = "this process's pool: " + msg
		}
		r.add("health", c.Name, status, msg)
	}
}

// legacyLocks returns the locks section /debug/db always had.
func legacyLocks(driver string, rep *database.HealthReport) LegacyLocks {
	if rep.Locks != nil {
		return LegacyLocks{Inspected: true, Report: rep.Locks}
	}
	if driver != database.DriverPostgres {
		return LegacyLocks{Note: "lock inspection does not apply to " + driver + ": it has one database-wide write lock and no sessions to inspect"}
	}
	l := LegacyLocks{Note: "not inspected"}
	if res, ok := rep.Result(database.HealthCheckLocks); ok && res.Message != "" {
		l.Note = res.Message
	}
	return l
}

// migrations reads every migration's state: pending ones look wrong (the
// server runs an older schema than it knows), failed, modified or missing
// ones are problems.
func (b *builder) migrations() {
	r, o := b.r, &b.r.Overview
	o.MigrationCounts = map[string]int{}
	if b.src.Migrations == nil {
		return
	}
	st, err := b.src.Migrations.Status(b.ctx)
	if err != nil {
		r.MigrationsError = err.Error()
		r.add("overview", "migrations", StatusFail, "could not read the migration status: "+err.Error())
		return
	}
	r.Migrations = st
	var bad, pending []string
	for _, s := range st {
		o.MigrationCounts[string(s.State)]++
		switch s.State {
		case migration.StateApplied:
			o.LatestApplied = s.Version
		case migration.StatePending:
			pending = append(pending, s.Version)
		default:
			bad = append(bad, s.Version+" "+string(s.State))
		}
	}
	switch {
	case len(bad) > 0:
		r.add("overview", "migrations", StatusFail, fmt.Sprintf("migrations not in a clean state: %s (see socialpredict migrate status, migrate repair)", strings.Join(bad, ", ")))
	case len(pending) > 0:
		r.add("overview", "migrations", StatusWarn, fmt.Sprintf("%d migrations pending (%s): run socialpredict migrate up", len(pending), strings.Join(pending, ", ")))
	default:
		r.add("overview", "migrations", StatusOK, fmt.Sprintf("%d migrations applied, the latest %s", o.MigrationCounts[string(migration.StateApplied)], o.LatestApplied))
	}
}
