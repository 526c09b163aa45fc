package dbreport

import (
	"fmt"
	"strings"
	"time"

	"socialpredict/database/diagnostics"
)

// indexes analyses index usage and cache hits, and estimates bloat
// (PostgreSQL); on SQLite it plans the project's own queries instead.
func (b *builder) indexes() {
	x := &b.r.Indexes
	if !b.pg {
		b.sqlitePlans()
		return
	}
	db := b.src.DB.GormDB()
	rep, err := diagnostics.AnalyzeIndexes(b.ctx, db, b.opts.Indexes)
	if b.failed(&x.Section, "indexes", err) {
		return
	}
	x.Analysis = rep
	b.indexFindings(rep)
	bloat, err := diagnostics.EstimateBloat(b.ctx, db, b.opts.Rows)
	if b.failed(&x.Section, "indexes", err) {
		return
	}
	x.Bloat = bloat
	b.bloatFindings("table_bloat", "table", bloat.Tables)
	b.bloatFindings("index_bloat", "index", bloat.Indexes)
}

// indexFindings judges the index and cache analysis: unused, duplicate and
// invalid indexes, missing-index candidates and a low cache hit ratio are
// problems.
func (b *builder) indexFindings(rep *diagnostics.IndexReport) {
	r := b.r
	each := func(name, okMessage string, messages []string) {
		if len(messages) == 0 {
			r.add("indexes", name, StatusOK, okMessage)
		}
		for _, m := range messages {
			r.add("indexes", name, StatusFail, m)
		}
	}
	var unused, missing, dups, invalid, unique []string
	for _, u := range rep.UnusedIndexes {
		unused = append(unused, u.Message)
	}
	for _, t := range rep.MissingIndexCandidates {
		missing = append(missing, t.Message)
	}
	for _, d := range rep.DuplicateIndexes {
		dups = append(dups, d.Message)
	}
	for _, i := range rep.InvalidIndexes {
		invalid = append(invalid, i.Message)
	}
	since := "the start"
	if rep.StatsReset != nil {
		since = "reset at " + rep.StatsReset.UTC().Format(time.RFC3339)
	}
	each("unused_indexes", "no index left unused, counting from statistics "+since, unused)
	each("missing_indexes", fmt.Sprintf("no table of %d+ rows read mostly by sequential scans", rep.Thresholds.MinRows), missing)
	each("duplicate_indexes", "no duplicate index", dups)
	each("invalid_indexes", "no invalid index", invalid)
	for _, u := range rep.UnusedUniqueIndexes {
		unique = append(unique, u.Index)
	}
	if len(unique) > 0 {
		r.add("indexes", "unused_unique_indexes", StatusInfo, fmt.Sprintf("%d unique indexes never scanned, kept because they enforce uniqueness: %s",
			len(unique), strings.Join(unique, ", ")))
	}
	for _, c := range rep.CacheHitRatios {
		status := StatusOK
		if c.Low {
			status = StatusFail
		}
		r.add("cache", c.Scope, status, c.Message)
	}
}

// bloatFindings judges bloat estimates: waste past both thresholds looks
// wrong (an estimate, so a warning).
func (b *builder) bloatFindings(name, kind string, list []diagnostics.Bloat) {
	found := false
	for _, x := range list {
		if x.WastedPct < b.opts.BloatPct || x.WastedBytes < b.opts.BloatBytes {
			continue
		}
		found = true
		what, fix := x.Schema+"."+x.Table, "VACUUM FULL (it locks the table) or pg_repack"
		if kind == "index" {
			what, fix = x.Index+" on "+what, "REINDEX INDEX CONCURRENTLY "+x.Index
		}
		b.r.add("indexes", name, StatusWarn, fmt.Sprintf("%s %s is about %.0f%% bloat: %s of %s wasted (estimated from its statistics); %s reclaims it",
			kind, what, x.WastedPct, diagnostics.ByteSize(x.WastedBytes), diagnostics.ByteSize(x.Bytes), fix))
	}
	if !found {
		b.r.add("indexes", name, StatusOK, fmt.Sprintf("no %s estimated %.0f%%+ bloated with %s+ wasted", kind, b.opts.BloatPct, diagnostics.ByteSize(b.opts.BloatBytes)))
	}
}
