package dbreport

import (
	"fmt"
	"time"

	"socialpredict/database/diagnostics"
)

// maintenance reads vacuum, analyze, freezing and sequences, and judges
// them: a sequence near its end or a database near transaction-ID
// wraparound is a problem; dead rows and stale statistics look wrong.
func (b *builder) maintenance() {
	m := &b.r.Maintenance
	m.Sequences = []diagnostics.SequenceUsage{}
	if b.unsupported(&m.Section) {
		return
	}
	db := b.src.DB.GormDB()
	rep, err := diagnostics.Maintenance(b.ctx, db)
	if b.failed(&m.Section, "maintenance", err) {
		return
	}
	m.Report = rep
	seqs, err := diagnostics.Sequences(b.ctx, db)
	if b.failed(&m.Section, "maintenance", err) {
		return
	}
	m.Sequences = seqs
	b.vacuumFindings(rep)
	b.wraparoundFindings(rep)
	b.sequenceFindings(seqs)
}

// vacuumFindings: tables with many dead rows, or statistics older than
// many of their rows.
func (b *builder) vacuumFindings(rep *diagnostics.MaintenanceReport) {
	r, o := b.r, b.opts
	var dead, stale []string
	for _, t := range rep.Tables {
		name := t.Schema + "." + t.Table
		if t.DeadRows >= o.DeadRowsMin && t.DeadPct >= o.DeadRowsPct {
			why := "autovacuum has not caught up"
			switch {
			case !rep.Autovacuum:
				why = "autovacuum is off on the server"
			case !t.AutovacuumEnabled:
				why = "autovacuum is off for this table (autovacuum_enabled = false)"
			}
			dead = append(dead, fmt.Sprintf("table %s has %d dead rows (%.0f%% of its rows; last vacuum %s): %s; VACUUM %s", name, t.DeadRows, t.DeadPct, when(t.LastVacuumed()), why, name))
		}
		rows := t.LiveRows + t.DeadRows
		switch {
		case t.LastAnalyzed() == nil && t.LiveRows >= o.StaleRowsMin:
			stale = append(stale, fmt.Sprintf("table %s (%d rows) was never analyzed: the planner guesses its contents; ANALYZE %s", name, t.LiveRows, name))
		case t.ModifiedSinceAnalyze >= o.StaleRowsMin && rows > 0 && 100*float64(t.ModifiedSinceAnalyze)/float64(rows) >= o.StaleRowsPct:
			stale = append(stale, fmt.Sprintf("table %s: %d rows changed since its last analyze (%s), %.0f%% of it: the planner's statistics are stale; ANALYZE %s",
				name, t.ModifiedSinceAnalyze, when(t.LastAnalyzed()), 100*float64(t.ModifiedSinceAnalyze)/float64(rows), name))
		}
	}
	list := func(name, ok string, items []string) {
		if len(items) == 0 {
			r.add("maintenance", name, StatusOK, ok)
		}
		for _, it := range items {
			r.add("maintenance", name, StatusWarn, it)
		}
	}
	list("dead_rows", fmt.Sprintf("no table with %d+ dead rows making %.0f%%+ of it", o.DeadRowsMin, o.DeadRowsPct), dead)
	list("stale_statistics", fmt.Sprintf("no table with %.0f%%+ of its rows (and %d+) changed since its last analyze", o.StaleRowsPct, o.StaleRowsMin), stale)
}

// wraparoundFindings: a database whose transaction-ID age passed
// Options.XIDPct of the limit is a problem.
func (b *builder) wraparoundFindings(rep *diagnostics.MaintenanceReport) {
	if len(rep.Databases) == 0 {
		return
	}
	oldest := rep.Databases[0]
	msg := fmt.Sprintf("oldest database %s: transaction-ID age %d, %.2f%% of the wraparound limit, %d transactions left (autovacuum freezes at %d)",
		oldest.Database, oldest.Age, oldest.UsedPct, oldest.Remaining, rep.FreezeMaxAge)
	if oldest.UsedPct >= b.opts.XIDPct {
		b.r.add("maintenance", "xid_wraparound", StatusFail, msg+fmt.Sprintf("; past %.0f%%: freezing is not keeping up. Find what holds it back (long transactions, idle-in-transaction sessions, prepared transactions, inactive replication slots) and VACUUM (FREEZE) the oldest tables before PostgreSQL stops accepting writes", b.opts.XIDPct))
		return
	}
	b.r.add("maintenance", "xid_wraparound", StatusOK, msg)
}

// sequenceFindings: a sequence past Options.SequencePct of its range is a
// problem.
func (b *builder) sequenceFindings(seqs []diagnostics.SequenceUsage) {
	var near []string
	for _, s := range seqs {
		if s.UsedPct < b.opts.SequencePct {
			continue
		}
		col := ""
		if s.Column != "" {
			col = fmt.Sprintf(" feeding %s (%s)", s.Column, s.ColumnType)
		}
		fix := "ALTER SEQUENCE ... AS bigint and ALTER TABLE ... ALTER COLUMN ... TYPE bigint"
		if s.Cycle {
			fix = "it cycles: it will hand out old values again; widen it"
		}
		near = append(near, fmt.Sprintf("sequence %s.%s%s has used %.1f%% of its range: %d values left before nextval fails; %s",
			s.Schema, s.Sequence, col, s.UsedPct, s.Remaining, fix))
	}
	if len(near) == 0 {
		b.r.add("maintenance", "sequences", StatusOK, fmt.Sprintf("no sequence past %.0f%% of its range", b.opts.SequencePct))
	}
	for _, n := range near {
		b.r.add("maintenance", "sequences", StatusFail, n)
	}
}

// when renders an optional time.
func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
