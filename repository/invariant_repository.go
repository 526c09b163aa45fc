package repository

import (
	"context"
	"fmt"

	"socialpredict/database"
)

// Violation is one broken invariant.
type Violation struct {
	// Check names the invariant.
	Check string `json:"check"`
	// Detail says where and how, with the numbers.
	Detail string `json:"detail"`
}

// String renders the violation for people.
func (v Violation) String() string { return v.Check + ": " + v.Detail }

// InvariantRules are the economics the invariants depend on.
type InvariantRules struct {
	MaximumDebtAllowed, BuySharesFee, InitialBetFee int64
}

// invariantRepository is the GORM InvariantRepository.
type invariantRepository struct{ db *database.DB }

// NewInvariantRepository returns the InvariantRepository on db.
func NewInvariantRepository(db *database.DB) InvariantRepository { return &invariantRepository{db: db} }

// check is one invariant: a query returning one row per violation, with
// the columns the format reads.
type check struct {
	name   string
	query  string
	format string
	args   func(InvariantRules) []any
}

// betLedgerParts sums the ledger rows of each bet into its stake and its
// fee, reading both shapes a bet's debit has had: one BET row holding stake
// and fee (the fee also in its fee column; since migration 007), or a BET
// row for the stake and a BET_FEE row for the fee (before). row_fee is the
// fee column of its BET rows; the rest count rows and bound their users and
// markets, for the checks to compare with the bet.
const betLedgerParts = `SELECT bet_id,
	SUM(CASE WHEN kind = 'BET' THEN -amount - fee ELSE 0 END) AS stake,
	SUM(CASE WHEN kind = 'BET' THEN fee ELSE -amount END) AS fee,
	SUM(CASE WHEN kind = 'BET' THEN fee ELSE 0 END) AS row_fee,
	SUM(CASE WHEN kind = 'BET' THEN 1 ELSE 0 END) AS bet_rows,
	SUM(CASE WHEN kind = 'BET_FEE' THEN 1 ELSE 0 END) AS fee_rows,
	MIN(user_id) AS min_user, MAX(user_id) AS max_user, MIN(market_id) AS min_market, MAX(market_id) AS max_market
FROM ledger_entries WHERE kind IN ('BET', 'BET_FEE') AND bet_id IS NOT NULL GROUP BY bet_id`

var invariantChecks = []check{
	{
		name: "balance equals initial balance plus ledger",
		query: `SELECT u.id, u.username, u.balance, u.initial_balance + COALESCE(l.total, 0)
			FROM users u LEFT JOIN (SELECT user_id, SUM(amount) AS total FROM ledger_entries GROUP BY user_id) l ON l.user_id = u.id
			WHERE u.balance <> u.initial_balance + COALESCE(l.total, 0) ORDER BY u.id`,
		format: "user %v (%v): balance %v, initial balance + ledger = %v",
	},
	{
		name:   "balance at or above the debt floor",
		query:  `SELECT id, username, balance, CAST(? AS bigint) FROM users WHERE balance < ? ORDER BY id`,
		format: "user %v (%v): balance %v is below the floor %v",
		args:   func(r InvariantRules) []any { return []any{-r.MaximumDebtAllowed, -r.MaximumDebtAllowed} },
	},
	{
		name: "market aggregates equal the sums over its bets",
		query: `SELECT m.id, m.yes_stake, m.no_stake, m.volume, m.bet_count,
				COALESCE(b.yes, 0), COALESCE(b.no, 0), COALESCE(b.n, 0)
			FROM markets m LEFT JOIN (
				SELECT market_id, SUM(CASE WHEN outcome = 'YES' THEN amount ELSE 0 END) AS yes,
					SUM(CASE WHEN outcome = 'NO' THEN amount ELSE 0 END) AS no, COUNT(*) AS n
				FROM bets GROUP BY market_id) b ON b.market_id = m.id
			WHERE m.yes_stake <> COALESCE(b.yes, 0) OR m.no_stake <> COALESCE(b.no, 0)
				OR m.volume <> COALESCE(b.yes, 0) + COALESCE(b.no, 0) OR m.bet_count <> COALESCE(b.n, 0)
			ORDER BY m.id`,
		format: "market %v: stakes yes %v no %v volume %v bets %v, but its bets sum to yes %v no %v in %v bets",
	},
	{
		name: "positions equal the sums over the bets",
		query: `SELECT COALESCE(p.user_id, b.user_id), COALESCE(p.market_id, b.market_id),
				COALESCE(p.yes_stake, 0), COALESCE(p.no_stake, 0), COALESCE(p.bet_count, 0),
				COALESCE(b.yes, 0), COALESCE(b.no, 0), COALESCE(b.n, 0)
			FROM positions p FULL JOIN (
				SELECT user_id, market_id, SUM(CASE WHEN outcome = 'YES' THEN amount ELSE 0 END) AS yes,
					SUM(CASE WHEN outcome = 'NO' THEN amount ELSE 0 END) AS no, COUNT(*) AS n
				FROM bets GROUP BY user_id, market_id) b ON b.user_id = p.user_id AND b.market_id = p.market_id
			WHERE p.user_id IS NULL OR b.user_id IS NULL OR p.yes_stake <> b.yes OR p.no_stake <> b.no OR p.bet_count <> b.n
			ORDER BY 1, 2`,
		format: "user %v market %v: position yes %v no %v bets %v, but the bets sum to yes %v no %v in %v bets",
	},
	{
		name: "each bet's ledger charges its stake and its fee",
		query: `WITH l AS (` + betLedgerParts + `)
			SELECT b.id, b.user_id, b.market_id, b.amount, b.fee, COALESCE(l.stake, 0), COALESCE(l.fee, 0),
				COALESCE(l.bet_rows, 0), COALESCE(l.fee_rows, 0)
			FROM bets b LEFT JOIN l ON l.bet_id = b.id
			WHERE l.bet_id IS NULL OR l.stake <> b.amount OR l.fee <> b.fee OR l.bet_rows <> 1
				OR l.fee_rows > 1 OR (l.fee_rows = 1 AND l.row_fee <> 0)
				OR l.min_user <> b.user_id OR l.max_user <> b.user_id OR l.min_market <> b.market_id OR l.max_market <> b.market_id
			ORDER BY b.id`,
		format: "bet %v (user %v, market %v): stake %v and fee %v, but its ledger charges stake %v and fee %v " +
			"in %v BET and %v BET_FEE rows (want one BET row, and a BET_FEE row only beside a BET row without fee, of the bet's user and market)",
	},
	{
		name: "every bet ledger row belongs to a bet",
		query: `SELECT id, user_id, kind, amount FROM ledger_entries
			WHERE kind IN ('BET', 'BET_FEE') AND bet_id IS NULL ORDER BY id`,
		format: "ledger row %v (user %v, kind %v, amount %v) names no bet",
	},
	{
		name: "one first-bet fee per user and market",
		query: `WITH l AS (` + betLedgerParts + `)
			SELECT b.user_id, b.market_id, SUM(CASE WHEN b.fee = CAST(? AS bigint) THEN 1 ELSE 0 END),
				SUM(CASE WHEN l.fee = CAST(? AS bigint) THEN 1 ELSE 0 END), COALESCE(SUM(l.fee), 0),
				CAST(? AS bigint) * COUNT(*) + CAST(? AS bigint)
			FROM bets b LEFT JOIN l ON l.bet_id = b.id
			GROUP BY b.user_id, b.market_id
			HAVING CAST(? AS bigint) > 0 AND (SUM(CASE WHEN b.fee = CAST(? AS bigint) THEN 1 ELSE 0 END) <> 1
				OR SUM(CASE WHEN l.fee = CAST(? AS bigint) THEN 1 ELSE 0 END) <> 1
				OR COALESCE(SUM(l.fee), 0) <> CAST(? AS bigint) * COUNT(*) + CAST(? AS bigint))
			ORDER BY 1, 2`,
		format: "user %v market %v: %v bets paid the first-bet fee (%v by the ledger), the ledger charged %v in fees; want 1, 1 and %v",
		args: func(r InvariantRules) []any {
			first := r.BuySharesFee + r.InitialBetFee
			return []any{first, first, r.BuySharesFee, r.InitialBetFee,
				r.InitialBetFee, first, first, r.BuySharesFee, r.InitialBetFee}
		},
	},
	{
		name: "no bet after its market's resolution",
		query: `SELECT b.id, b.market_id FROM bets b JOIN markets m ON m.id = b.market_id
			WHERE m.resolved_at IS NOT NULL AND b.placed_at > m.resolved_at ORDER BY b.id`,
		format: "bet %v was placed after market %v was resolved",
	},
	{
		name: "an N/A market refunds exactly its volume",
		query: `SELECT m.id, m.volume, COALESCE(SUM(l.amount), 0) FROM markets m
			LEFT JOIN ledger_entries l ON l.market_id = m.id AND l.kind = 'REFUND'
			WHERE m.resolution_result = 'N/A' GROUP BY m.id, m.volume HAVING m.volume <> COALESCE(SUM(l.amount), 0) ORDER BY m.id`,
		format: "market %v: volume %v, refunded %v",
	},
	{
		name: "at most one payout set per market, and only for resolved markets",
		query: `SELECT l.market_id, l.user_id, l.kind, COUNT(*), MIN(m.status)
			FROM ledger_entries l JOIN markets m ON m.id = l.market_id
			WHERE l.kind IN ('PAYOUT', 'REFUND', 'CREATOR_REWARD')
			GROUP BY l.market_id, l.user_id, l.kind
			HAVING COUNT(*) > 1 OR MIN(m.status) <> 'RESOLVED'
			ORDER BY 1, 2`,
		format: "market %v user %v: kind %v appears %v times (market status %v)",
	},
}

func (r *invariantRepository) Check(ctx context.Context, rules InvariantRules) ([]Violation, error) {
	db := r.db.Conn(ctx)
	out := []Violation{}
	for _, ch := range invariantChecks {
		var args []any
		if ch.args != nil {
			args = ch.args(rules)
		}
		rows, err := db.Raw(ch.query, args...).Rows()
		if err != nil {
			return nil, fmt.Errorf("check %q: %w", ch.name, TranslateError(err))
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, TranslateError(err)
			}
			out = append(out, Violation{Check: ch.name, Detail: fmt.Sprintf(ch.format, printable(vals)...)})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, TranslateError(err)
		}
	}
	return out, nil
}

// printable turns driver values ([]byte text) into printable ones.
func printable(vals []any) []any {
	for i, v := range vals {
		if b, ok := v.([]byte); ok {
			vals[i] = string(b)
		}
	}
	return vals
}
