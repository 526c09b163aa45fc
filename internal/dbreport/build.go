package dbreport

import (
	"context"
	"time"

	"socialpredict/database"
	"socialpredict/migration"
)

// Source is what a report is built from.
type Source struct {
	// DB is the database handle; required.
	DB *database.DB
	// Migrations gives the migration status (nil: not shown).
	Migrations *migration.MigrationManager
	// Health is the checker whose fresh check the report includes (nil:
	// DB.Health()). db doctor passes a one-shot checker with its own
	// thresholds.
	Health *database.DatabaseHealthChecker
	// StartedAt is when the process started (zero: unknown).
	StartedAt time.Time
}

// notOnSQLite is what a PostgreSQL-only section says on SQLite.
const notOnSQLite = "not on SQLite"

// Build reads every section and judges it. It never fails as a whole: a
// section that could not be read says why in its Error, and becomes a
// failed finding. The caller bounds the time with ctx.
func Build(ctx context.Context, src Source, opts Options) *Report {
	opts = opts.withDefaults()
	start := time.Now()
	db := src.DB
	r := &Report{
		Driver: db.Driver(), Target: db.Config().Target(), GeneratedAt: start.UTC(),
		SlowQueries: []database.SlowQuery{}, NPlusOne: []database.NPlusOneEvent{},
		Migrations: []migration.Status{}, Findings: []Finding{},
	}
	if mon := db.Monitor(); mon != nil {
		r.SlowQueries = append(r.SlowQueries, mon.RecentSlow()...)
		r.NPlusOne = append(r.NPlusOne, mon.RecentNPlusOne()...)
	}
	b := &builder{ctx: ctx, src: src, opts: opts, r: r, pg: db.Driver() == database.DriverPostgres}
	b.overview()
	b.sqlite()
	b.queries()
	b.connections()
	b.sessions()
	b.indexes()
	b.space()
	b.maintenance()
	b.replication()
	b.settings()
	b.tables()
	r.summarize()
	r.Duration = time.Since(start)
	return r
}

// builder carries what the section builders share.
type builder struct {
	ctx  context.Context
	src  Source
	opts Options
	r    *Report
	pg   bool
}

// failed records a section's read error: the section's Error and a failed
// finding. It returns true when err is not nil.
func (b *builder) failed(sec *Section, section string, err error) bool {
	if err == nil {
		return false
	}
	sec.Error = err.Error()
	b.r.add(section, "read", StatusFail, "could not read: "+err.Error())
	return true
}

// unsupported marks a section that does not apply to this engine; it
// returns true when it does not.
func (b *builder) unsupported(sec *Section) bool {
	if b.pg {
		return false
	}
	sec.NotApplicable = notOnSQLite
	return true
}
