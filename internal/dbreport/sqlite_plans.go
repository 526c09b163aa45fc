package dbreport

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"socialpredict/database/diagnostics"
)

// projectQuery is one of the queries the repositories run, in the shape
// SQLite sees (placeholders for the arguments).
type projectQuery struct{ name, sql string }

// projectQueries are the project's frequent queries (see repository/ and
// migration 002, whose comments name the query each index serves): on
// SQLite, which counts no index use, their plans say which indexes serve
// and which tables are read in full.
var projectQueries = []projectQuery{
	{"user by API key", "SELECT * FROM users WHERE id = (SELECT user_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL)"},
	{"user by username", "SELECT * FROM users WHERE username = ?"},
	{"users in creation order", "SELECT * FROM users ORDER BY created_at, id LIMIT 50"},
	{"leaderboard", "SELECT * FROM users ORDER BY balance DESC, id LIMIT 50"},
	{"a user's API keys", "SELECT * FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY id"},
	{"open markets closing soonest", "SELECT * FROM markets WHERE status = ? ORDER BY closes_at, id LIMIT 50"},
	{"markets by creator", "SELECT * FROM markets WHERE creator_id = ? ORDER BY created_at DESC, id DESC LIMIT 50"},
	{"markets in creation order", "SELECT * FROM markets ORDER BY created_at DESC, id DESC LIMIT 50"},
	{"a market's bets", "SELECT * FROM bets WHERE market_id = ? ORDER BY placed_at, id LIMIT 50"},
	{"a user's bets", "SELECT * FROM bets WHERE user_id = ? ORDER BY placed_at DESC, id DESC LIMIT 50"},
	{"a bet by idempotency key", "SELECT * FROM bets WHERE user_id = ? AND idempotency_key = ?"},
	{"a market's latest bet", "SELECT placed_at FROM bets WHERE market_id = ? ORDER BY placed_at DESC LIMIT 1"},
	{"a user's ledger", "SELECT * FROM ledger_entries WHERE user_id = ? ORDER BY created_at, id LIMIT 50"},
	{"a user's balance from the ledger", "SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE user_id = ?"},
	{"a market's payouts", "SELECT * FROM ledger_entries WHERE market_id = ? AND kind = ?"},
	{"a market's positions", "SELECT * FROM positions WHERE market_id = ? ORDER BY user_id"},
	{"a user's positions", "SELECT * FROM positions WHERE user_id = ?"},
}

// planIndex finds the index a plan step uses; planScan a table it reads in
// full.
var (
	planIndex = regexp.MustCompile(`USING (?:COVERING )?INDEX (\S+)`)
	planScan  = regexp.MustCompile(`^SCAN (\S+)$`)
)

// sqlitePlans plans the project's queries and lists the indexes none of
// them uses, unique ones aside (information: SQLite keeps no usage counts).
func (b *builder) sqlitePlans() {
	r, x := b.r, &b.r.Indexes
	db := b.src.DB.GormDB()
	used := map[string]bool{}
	var scans []string
	planned := 0
	for _, q := range projectQueries {
		p := QueryPlan{Name: q.name, SQL: q.sql, Indexes: []string{}, Scans: []string{}}
		// SQLite plans at prepare time; the driver wants a value for
		// every placeholder, which the plan does not depend on.
		args := make([]any, strings.Count(q.sql, "?"))
		for i := range args {
			args[i] = 1
		}
		plan, err := diagnostics.Explain(b.ctx, db, q.sql, args, diagnostics.ExplainOptions{})
		if err != nil {
			p.Error = err.Error()
			x.Plans = append(x.Plans, p)
			continue
		}
		p.Plan = plan.Text
		planned++
		for _, s := range plan.Steps {
			if m := planIndex.FindStringSubmatch(s.Detail); m != nil {
				p.Indexes = append(p.Indexes, m[1])
				used[m[1]] = true
			}
			if m := planScan.FindStringSubmatch(s.Detail); m != nil {
				p.Scans = append(p.Scans, m[1])
				scans = append(scans, fmt.Sprintf("%s reads table %s in full", q.name, m[1]))
			}
		}
		x.Plans = append(x.Plans, p)
	}
	if r.SQLite == nil || r.SQLite.File == nil {
		return
	}
	for _, o := range r.SQLite.File.Objects {
		// Unique indexes enforce uniqueness whoever reads them; automatic
		// ones (no SQL) back a constraint.
		unique := strings.HasPrefix(strings.ToUpper(o.SQL), "CREATE UNIQUE")
		if o.Type == "index" && o.SQL != "" && !unique && !used[o.Name] {
			x.Unused = append(x.Unused, o.Name)
		}
	}
	slices.Sort(x.Unused)
	switch {
	case planned == 0:
		r.add("indexes", "query_plans", StatusSkipped, "none of the project's queries could be planned: the application's tables are missing (socialpredict migrate up)")
	case len(scans) > 0:
		r.add("indexes", "query_plans", StatusInfo, "of the project's queries, "+strings.Join(scans, "; "))
	default:
		r.add("indexes", "query_plans", StatusOK, fmt.Sprintf("each of the %d project queries planned uses an index", planned))
	}
	if len(x.Unused) > 0 {
		r.add("indexes", "unused_indexes", StatusInfo, fmt.Sprintf("indexes none of the project's queries uses (SQLite counts no index use; other queries may need them): %s", strings.Join(x.Unused, ", ")))
	}
}
