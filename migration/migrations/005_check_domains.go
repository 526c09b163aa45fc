package migrations

import (
	"fmt"
	"strings"

	"socialpredict/migration"
)

// 005: the single-column CHECK constraints of the tables a bet writes
// (users, markets, bets, ledger_entries) become domains, one per column,
// each named like the constraint it replaces and holding the same check
// under the same name (PostgreSQL only; SQLite keeps its table CHECKs).
//
// Why: PostgreSQL evaluates every CHECK of a table on every UPDATE, changed
// columns or not, and re-reads their expressions each time a statement
// starts writing the table: each bet's balance update re-checked the username
// regular expression. A domain is checked only where a value is converted
// to it (an inserted value, a SET expression), from a cached expression; an
// unchanged column is not checked again. Multi-column CHECKs stay table
// constraints. A domain violation names no table: repository.TranslateError
// reads table and field from the constraint's name
// (<table>_<field>_<suffix>), as it does for SQLite's messages.
//
// The domains are created empty, the columns switched to them (binary
// compatible: no table rewrite), the table CHECKs dropped, then the checks
// added to the domains, which validates the existing rows.
func init() {
	register(migration.FromSQL("005", "check constraints as domains",
		migration.SQL{Postgres: domainsUp()},
		migration.SQL{Postgres: domainsDown()}))
}

// columnDomain is one single-column CHECK turned into a domain.
type columnDomain struct {
	table, column, name, baseType string
	// check is the condition on the column, with {{v}} for the value:
	// the column in the table CHECK, VALUE in the domain's.
	check string
}

// columnDomains are the domains, in table order as 001 declares the
// CHECKs. Part of this migration: never change them once released.
var columnDomains = []columnDomain{
	{"users", "username", "users_username_format", "text", "{{v}} ~ '^[a-z0-9_]{3,30}$'"},
	{"users", "display_name", "users_display_name_length", "text", "char_length({{v}}) BETWEEN 1 AND 50"},
	{"users", "email", "users_email_format", "text", "char_length({{v}}) BETWEEN 3 AND 254 AND {{v}} LIKE '%_@_%'"},
	{"users", "user_type", "users_user_type_valid", "text", "{{v}} IN ('ADMIN', 'REGULAR')"},
	{"markets", "question_title", "markets_question_title_length", "text", "char_length({{v}}) BETWEEN 1 AND 160"},
	{"markets", "description", "markets_description_length", "text", "char_length({{v}}) <= 2000"},
	{"markets", "yes_label", "markets_yes_label_length", "text", "char_length({{v}}) BETWEEN 1 AND 20"},
	{"markets", "no_label", "markets_no_label_length", "text", "char_length({{v}}) BETWEEN 1 AND 20"},
	{"markets", "status", "markets_status_valid", "text", "{{v}} IN ('OPEN', 'CLOSED', 'RESOLVED')"},
	{"markets", "probability", "markets_probability_range", "double precision", "{{v}} >= 0 AND {{v}} <= 1"},
	{"bets", "outcome", "bets_outcome_valid", "text", "{{v}} IN ('YES', 'NO')"},
	{"bets", "amount", "bets_amount_positive", "bigint", "{{v}} > 0"},
	{"bets", "fee", "bets_fee_nonnegative", "bigint", "{{v}} >= 0"},
	{"bets", "probability_after", "bets_probability_after_range", "double precision", "{{v}} >= 0 AND {{v}} <= 1"},
	{"bets", "idempotency_key", "bets_idempotency_key_length", "text", "{{v}} IS NULL OR char_length({{v}}) BETWEEN 1 AND 100"},
	{"ledger_entries", "kind", "ledger_entries_kind_valid", "text",
		"{{v}} IN ('BET', 'BET_FEE', 'MARKET_CREATION', 'PAYOUT', 'REFUND', 'CREATOR_REWARD', 'ADJUSTMENT')"},
	{"ledger_entries", "amount", "ledger_entries_amount_nonzero", "bigint", "{{v}} <> 0"},
}

func (d columnDomain) checkOn(v string) string { return strings.ReplaceAll(d.check, "{{v}}", v) }

// domainTables returns the tables of columnDomains, in order, each once.
func domainTables() []string {
	var out []string
	for _, d := range columnDomains {
		if len(out) == 0 || out[len(out)-1] != d.table {
			out = append(out, d.table)
		}
	}
	return out
}

// alterEach returns one ALTER TABLE per table, with clause(d) for each of
// its domains.
func alterEach(clause func(columnDomain) []string) []string {
	var out []string
	for _, t := range domainTables() {
		var clauses []string
		for _, d := range columnDomains {
			if d.table == t {
				clauses = append(clauses, clause(d)...)
			}
		}
		out = append(out, "ALTER TABLE "+t+"\n\t"+strings.Join(clauses, ",\n\t"))
	}
	return out
}

func domainsUp() []string {
	var out []string
	for _, d := range columnDomains {
		out = append(out, fmt.Sprintf("CREATE DOMAIN %s AS %s", d.name, d.baseType))
	}
	out = append(out, alterEach(func(d columnDomain) []string {
		return []string{"ALTER COLUMN " + d.column + " TYPE " + d.name, "DROP CONSTRAINT " + d.name}
	})...)
	for _, d := range columnDomains {
		out = append(out, fmt.Sprintf("ALTER DOMAIN %s ADD CONSTRAINT %s CHECK (%s)", d.name, d.name, d.checkOn("VALUE")))
	}
	return out
}

func domainsDown() []string {
	out := alterEach(func(d columnDomain) []string {
		return []string{"ALTER COLUMN " + d.column + " TYPE " + d.baseType,
			fmt.Sprintf("ADD CONSTRAINT %s CHECK (%s)", d.name, d.checkOn(d.column))}
	})
	for _, d := range columnDomains {
		out = append(out, "DROP DOMAIN "+d.name)
	}
	return out
}
