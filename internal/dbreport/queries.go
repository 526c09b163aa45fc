package dbreport

import (
	"fmt"
	"time"

	"socialpredict/database/diagnostics"
)

// queries reads pg_stat_statements and summarises the process's own slow
// statements and N+1 findings.
func (b *builder) queries() {
	r, q := b.r, &b.r.Queries
	cfg := b.src.DB.Config().Monitoring
	q.SlowThreshold, q.PlansCaptured = cfg.SlowQueryThreshold, cfg.ExplainSlowQueries && b.pg
	if n := len(r.SlowQueries); n > 0 {
		s := r.SlowQueries[0]
		r.add("queries", "slow_queries", StatusInfo, fmt.Sprintf("%d slow statements kept in memory (over %s); the latest took %s at %s: %s",
			n, q.SlowThreshold, s.Duration.Round(time.Microsecond), s.Caller, oneLine(s.SQL, 120)))
	}
	if n := len(r.NPlusOne); n > 0 {
		e := r.NPlusOne[0]
		r.add("queries", "n_plus_one", StatusInfo, fmt.Sprintf("%d N+1 patterns kept in memory; the latest: %d× at %s: %s", n, e.Count, e.Caller, oneLine(e.SQL, 120)))
	}
	if b.unsupported(&q.Section) {
		return
	}
	st, err := diagnostics.Statements(b.ctx, b.src.DB.GormDB(), b.opts.Statements)
	if b.failed(&q.Section, "queries", err) {
		return
	}
	q.Statements = st
	switch {
	case st.Available:
		for _, s := range st.ByTotalTime {
			if s.Slow {
				r.add("queries", "slow_statements", StatusInfo, fmt.Sprintf("slow (%.1f ms mean over %d calls, %.0f%% of the database's time): %s",
					s.MeanMS, s.Calls, s.SharePct, oneLine(s.Query, 200)))
			}
		}
	case st.Note != "":
		r.add("queries", "pg_stat_statements", StatusInfo, st.Note)
	default:
		r.add("queries", "pg_stat_statements", StatusInfo, "pg_stat_statements is not installed: the slowest and most frequent statements cannot be shown; to enable it: "+joinSteps(st.Enable))
	}
}

// oneLine squeezes a statement onto one line of at most n characters.
func oneLine(s string, n int) string {
	out := make([]rune, 0, len(s))
	space := false
	for _, c := range s {
		if c == '\n' || c == '\t' || c == '\r' || c == ' ' {
			if !space && len(out) > 0 {
				out = append(out, ' ')
			}
			space = true
			continue
		}
		space = false
		out = append(out, c)
	}
	if len(out) > n {
		return string(out[:n]) + "…"
	}
	return string(out)
}

// joinSteps joins steps as "1) a; 2) b".
func joinSteps(steps []string) string {
	out := ""
	for i, s := range steps {
		if i > 0 {
			out += "; "
		}
		out += fmt.Sprintf("%d) %s", i+1, s)
	}
	return out
}
