package migrations_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/migration/migrations"
	"socialpredict/repository"
)

// schema is the full schema, for tests.
var schema = dbtest.Schema{Name: migrations.Fingerprint(), Migrate: migrations.Up}

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fixtures inserts two users (ids 1 and 2), a market (1), a bet (1), a
// position and a payout; ids come from the engine, as in production.
func fixtures(t *testing.T, db *gorm.DB) {
	t.Helper()
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO users (username, display_name, email, balance, created_at, updated_at) VALUES ('alice', 'Alice', 'alice@example.com', 0, ?, ?)", []any{now, now}},
		{"INSERT INTO users (username, display_name, email, balance, created_at, updated_at) VALUES ('bob', 'Bob', 'bob@example.com', 0, ?, ?)", []any{now, now}},
		{"INSERT INTO markets (creator_id, question_title, closes_at, created_at, updated_at) VALUES (1, 'Will it rain', ?, ?, ?)", []any{now.Add(48 * time.Hour), now, now}},
		{"INSERT INTO bets (user_id, market_id, outcome, amount, probability_after, placed_at, idempotency_key) VALUES (1, 1, 'YES', 10, 0.75, ?, 'k1')", []any{now}},
		{"INSERT INTO positions (user_id, market_id, yes_stake, bet_count, first_bet_at, updated_at) VALUES (1, 1, 10, 1, ?, ?)", []any{now, now}},
		{"INSERT INTO ledger_entries (user_id, market_id, kind, amount, balance_after, created_at) VALUES (1, 1, 'PAYOUT', 5, 5, ?)", []any{now}},
	} {
		if err := db.Exec(stmt.sql, stmt.args...).Error; err != nil {
			t.Fatalf("fixture %q: %v", stmt.sql, err)
		}
	}
}

func TestConstraintsRejectBadRows(t *testing.T) {
	user := func(username, display, email, userType string) (string, []any) {
		return "INSERT INTO users (username, display_name, email, user_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
			[]any{username, display, email, userType, now, now}
	}
	market := func(creator int, title, description, yes, status string, result any, resolvedAt any, yesStake, volume int, p float64) (string, []any) {
		return `INSERT INTO markets (creator_id, question_title, description, yes_label, status, resolution_result, resolved_at,
			yes_stake, volume, probability, closes_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{creator, title, description, yes, status, result, resolvedAt, yesStake, volume, p, now, now, now}
	}
	bet := func(userID, marketID int, outcome string, amount, fee int, p float64, key any) (string, []any) {
		return "INSERT INTO bets (user_id, market_id, outcome, amount, fee, probability_after, placed_at, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			[]any{userID, marketID, outcome, amount, fee, p, now, key}
	}
	ledger := func(userID int, marketID any, betID any, kind string, amount int) (string, []any) {
		return "INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, balance_after, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
			[]any{userID, marketID, betID, kind, amount, now}
	}
	// feeRow is a ledger row of user 1 on market 1 (bet 1) with a fee (migration 007).
	feeRow := func(kind string, amount, fee int) (string, []any) {
		return "INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, fee, balance_after, created_at) VALUES (1, 1, 1, ?, ?, ?, 0, ?)",
			[]any{kind, amount, fee, now}
	}
	apiKey := func(userID int, hash string) (string, []any) {
		return "INSERT INTO api_keys (user_id, key_hash, key_prefix, created_at) VALUES (?, ?, 'sp_', ?)", []any{userID, hash, now}
	}
	hash := strings.Repeat("a", 64)
	type row struct {
		sql  string
		args []any
	}
	r := func(sql string, args []any) row { return row{sql, args} }
	tests := []struct {
		name      string
		setup     []row // rows that must succeed first
		bad       row
		wantErr   error
		wantField string
	}{
		{name: "username with capitals", bad: r(user("Carol", "Carol", "c@example.com", "REGULAR")), wantErr: errs.ErrInvalidInput, wantField: "username"},
		{name: "username too short", bad: r(user("ab", "Ab", "ab@example.com", "REGULAR")), wantErr: errs.ErrInvalidInput, wantField: "username"},
		{name: "username too long", bad: r(user(strings.Repeat("x", 31), "X", "x@example.com", "REGULAR")), wantErr: errs.ErrInvalidInput, wantField: "username"},
		{name: "empty display name", bad: r(user("carol", "", "c@example.com", "REGULAR")), wantErr: errs.ErrInvalidInput, wantField: "display_name"},
		{name: "email without at", bad: r(user("carol", "Carol", "carol.example.com", "REGULAR")), wantErr: errs.ErrInvalidInput, wantField: "email"},
		{name: "unknown user type", bad: r(user("carol", "Carol", "c@example.com", "ROOT")), wantErr: errs.ErrInvalidInput, wantField: "user_type"},
		{name: "duplicate username", bad: r(user("alice", "Alice 2", "a2@example.com", "REGULAR")), wantErr: errs.ErrConflict, wantField: "username"},
		{name: "duplicate display name", bad: r(user("alice2", "Alice", "a2@example.com", "REGULAR")), wantErr: errs.ErrConflict, wantField: "display_name"},
		{name: "duplicate email", bad: r(user("alice2", "Alice 2", "alice@example.com", "REGULAR")), wantErr: errs.ErrConflict, wantField: "email"},
		{name: "null email", bad: row{"INSERT INTO users (username, display_name, email, created_at, updated_at) VALUES ('carol', 'Carol', NULL, ?, ?)", []any{now, now}},
			wantErr: errs.ErrInvalidInput, wantField: "email"},

		{name: "api key hash of wrong length", bad: r(apiKey(1, "abc")), wantErr: errs.ErrInvalidInput, wantField: "key_hash"},
		{name: "duplicate api key hash", setup: []row{r(apiKey(1, hash))}, bad: r(apiKey(2, hash)), wantErr: errs.ErrConflict, wantField: "key_hash"},
		{name: "api key of unknown user", bad: r(apiKey(99, hash)), wantErr: errs.ErrInvalidReference},

		{name: "empty title", bad: r(market(1, "", "", "YES", "OPEN", nil, nil, 0, 0, 0.5)), wantErr: errs.ErrInvalidInput, wantField: "question_title"},
		{name: "title too long", bad: r(market(1, strings.Repeat("q", 161), "", "YES", "OPEN", nil, nil, 0, 0, 0.5)), wantErr: errs.ErrInvalidInput, wantField: "question_title"},
		{name: "description too long", bad: r(market(1, "Q", strings.Repeat("d", 2001), "YES", "OPEN", nil, nil, 0, 0, 0.5)), wantErr: errs.ErrInvalidInput, wantField: "description"},
		{name: "label too long", bad: r(market(1, "Q", "", strings.Repeat("y", 21), "OPEN", nil, nil, 0, 0, 0.5)), wantErr: errs.ErrInvalidInput, wantField: "yes_label"},
		{name: "unknown status", bad: r(market(1, "Q", "", "YES", "PAUSED", nil, nil, 0, 0, 0.5)), wantErr: errs.ErrInvalidInput, wantField: "status"},
		{name: "resolved without result", bad: r(market(1, "Q", "", "YES", "RESOLVED", nil, now, 0, 0, 0.5)), wantErr: errs.ErrInvalidInput, wantField: "resolution"},
		{name: "unknown result", bad: r(market(1, "Q", "", "YES", "RESOLVED", "MAYBE", now, 0, 0, 0.5)), wantErr: errs.ErrInvalidInput, wantField: "resolution"},
		{name: "open with result", bad: r(market(1, "Q", "", "YES", "OPEN", "YES", nil, 0, 0, 0.5)), wantErr: errs.ErrInvalidInput, wantField: "resolution"},
		{name: "volume not the sum of stakes", bad: r(market(1, "Q", "", "YES", "OPEN", nil, nil, 5, 7, 0.5)), wantErr: errs.ErrInvalidInput, wantField: "stakes"},
		{name: "probability above one", bad: r(market(1, "Q", "", "YES", "OPEN", nil, nil, 0, 0, 1.5)), wantErr: errs.ErrInvalidInput, wantField: "probability"},
		{name: "market of unknown creator", bad: r(market(99, "Q", "", "YES", "OPEN", nil, nil, 0, 0, 0.5)), wantErr: errs.ErrInvalidReference},

		{name: "unknown outcome", bad: r(bet(1, 1, "MAYBE", 5, 0, 0.5, nil)), wantErr: errs.ErrInvalidInput, wantField: "outcome"},
		{name: "zero amount", bad: r(bet(1, 1, "YES", 0, 0, 0.5, nil)), wantErr: errs.ErrInvalidInput, wantField: "amount"},
		{name: "negative amount", bad: r(bet(1, 1, "NO", -5, 0, 0.5, nil)), wantErr: errs.ErrInvalidInput, wantField: "amount"},
		{name: "negative fee", bad: r(bet(1, 1, "NO", 5, -1, 0.5, nil)), wantErr: errs.ErrInvalidInput, wantField: "fee"},
		{name: "probability below zero", bad: r(bet(1, 1, "NO", 5, 0, -0.1, nil)), wantErr: errs.ErrInvalidInput, wantField: "probability_after"},
		{name: "bet on unknown market", bad: r(bet(1, 99, "YES", 5, 0, 0.5, nil)), wantErr: errs.ErrInvalidReference},
		{name: "bet by unknown user", bad: r(bet(99, 1, "YES", 5, 0, 0.5, nil)), wantErr: errs.ErrInvalidReference},
		{name: "repeated idempotency key", bad: r(bet(1, 1, "NO", 5, 0, 0.5, "k1")), wantErr: errs.ErrConflict, wantField: "user_id, idempotency_key"},

		{name: "second position row", bad: row{"INSERT INTO positions (user_id, market_id, no_stake, bet_count, first_bet_at, updated_at) VALUES (1, 1, 3, 1, ?, ?)", []any{now, now}},
			wantErr: errs.ErrConflict, wantField: "user_id, market_id"},
		{name: "position without bets", bad: row{"INSERT INTO positions (user_id, market_id, bet_count, first_bet_at, updated_at) VALUES (2, 1, 0, ?, ?)", []any{now, now}},
			wantErr: errs.ErrInvalidInput, wantField: "stakes"},

		{name: "unknown ledger kind", bad: r(ledger(1, 1, nil, "GIFT", 5)), wantErr: errs.ErrInvalidInput, wantField: "kind"},
		{name: "zero ledger amount", bad: r(ledger(1, 1, nil, "BET", 0)), wantErr: errs.ErrInvalidInput, wantField: "amount"},
		{name: "bet ledger row without market", bad: r(ledger(1, nil, nil, "BET", -5)), wantErr: errs.ErrInvalidInput, wantField: "market"},
		{name: "ledger row of unknown bet", bad: r(ledger(1, 1, 99, "BET", -5)), wantErr: errs.ErrInvalidReference},
		{name: "second payout", bad: r(ledger(1, 1, nil, "PAYOUT", 7)), wantErr: errs.ErrConflict, wantField: "market_id, user_id, kind"},
		{name: "negative ledger fee", bad: r(feeRow("BET", -5, -1)), wantErr: errs.ErrInvalidInput, wantField: "fee"},
		{name: "fee on a row not a bet's", bad: r(feeRow("ADJUSTMENT", -5, 1)), wantErr: errs.ErrInvalidInput, wantField: "fee"},
		{name: "fee on a BET_FEE row", bad: r(feeRow("BET_FEE", -5, 1)), wantErr: errs.ErrInvalidInput, wantField: "fee"},
		{name: "bet fee as large as its debit", bad: r(feeRow("BET", -5, 5)), wantErr: errs.ErrInvalidInput, wantField: "fee"},
		{name: "bet fee on a credit", bad: r(feeRow("BET", 5, 1)), wantErr: errs.ErrInvalidInput, wantField: "fee"},
	}
	dbtest.Run(t, schema, func(t *testing.T, tdb *dbtest.TestDB) {
		fixtures(t, tdb.DB)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tdb.DB.Transaction(func(tx *gorm.DB) error {
					for _, s := range tt.setup {
						if err := tx.Exec(s.sql, s.args...).Error; err != nil {
							t.Fatalf("setup: %v", err)
						}
					}
					err := repository.TranslateError(tx.Exec(tt.bad.sql, tt.bad.args...).Error)
					if !errors.Is(err, tt.wantErr) {
						t.Errorf("err = %v, want %v", err, tt.wantErr)
					}
					var ce *errs.ConstraintError
					if tt.wantField != "" && (!errors.As(err, &ce) || ce.Field != tt.wantField) {
						t.Errorf("err %v: field %q, want %q", err, fieldOf(ce), tt.wantField)
					}
					return errRollback // leave the fixtures as they were
				})
				if !errors.Is(err, errRollback) {
					t.Fatalf("transaction: %v", err)
				}
			})
		}
	})
}

var errRollback = errors.New("rollback")

func fieldOf(ce *errs.ConstraintError) string {
	if ce == nil {
		return "<none>"
	}
	return ce.Field
}

func TestConstraintsAcceptGoodRows(t *testing.T) {
	dbtest.Run(t, schema, func(t *testing.T, tdb *dbtest.TestDB) {
		fixtures(t, tdb.DB)
		for _, stmt := range []string{
			// Bets without idempotency keys never conflict; the same key is fine for another user.
			"INSERT INTO bets (user_id, market_id, outcome, amount, probability_after, placed_at) VALUES (1, 1, 'NO', 5, 0.5, ?)",
			"INSERT INTO bets (user_id, market_id, outcome, amount, probability_after, placed_at) VALUES (1, 1, 'NO', 5, 0.5, ?)",
			"INSERT INTO bets (user_id, market_id, outcome, amount, probability_after, placed_at, idempotency_key) VALUES (2, 1, 'YES', 5, 0.5, ?, 'k1')",
			// An adjustment needs no market; several bets' ledger rows per user and market are fine.
			"INSERT INTO ledger_entries (user_id, kind, amount, balance_after, created_at) VALUES (1, 'ADJUSTMENT', 100, 100, ?)",
			"INSERT INTO ledger_entries (user_id, market_id, kind, amount, balance_after, created_at) VALUES (1, 1, 'BET', -5, 95, ?)",
			"INSERT INTO ledger_entries (user_id, market_id, kind, amount, balance_after, created_at) VALUES (1, 1, 'BET', -5, 90, ?)",
			// A bet's one row with its fee (migration 007), and the two rows of before.
			"INSERT INTO ledger_entries (user_id, market_id, kind, amount, fee, balance_after, created_at) VALUES (1, 1, 'BET', -6, 1, 84, ?)",
			"INSERT INTO ledger_entries (user_id, market_id, kind, amount, fee, balance_after, created_at) VALUES (1, 1, 'BET_FEE', -1, 0, 83, ?)",
			// A creator reward beside a payout for the same user and market.
			"INSERT INTO ledger_entries (user_id, market_id, kind, amount, balance_after, created_at) VALUES (1, 1, 'CREATOR_REWARD', 1, 91, ?)",
		} {
			if err := tdb.DB.Exec(stmt, now).Error; err != nil {
				t.Errorf("%s: %v", stmt, err)
			}
		}
		// A resolved market with a result.
		err := tdb.DB.Exec(`UPDATE markets SET status = 'RESOLVED', resolution_result = 'N/A', resolved_at = ? WHERE id = 1`, now).Error
		if err != nil {
			t.Errorf("resolve: %v", err)
		}
		// Deleting a user deletes their API keys.
		if err := tdb.DB.Exec("INSERT INTO users (username, display_name, email, created_at, updated_at) VALUES ('carol', 'Carol', 'c@example.com', ?, ?)", now, now).Error; err != nil {
			t.Fatal(err)
		}
		if err := tdb.DB.Exec("INSERT INTO api_keys (user_id, key_hash, key_prefix, created_at) VALUES ((SELECT id FROM users WHERE username = 'carol'), ?, 'sp_', ?)", strings.Repeat("b", 64), now).Error; err != nil {
			t.Fatal(err)
		}
		if err := tdb.DB.WithContext(context.Background()).Exec("DELETE FROM users WHERE username = 'carol'").Error; err != nil {
			t.Errorf("delete user with API key: %v", err)
		}
		// A user with bets cannot be deleted.
		if err := repository.TranslateError(tdb.DB.Exec("DELETE FROM users WHERE id = 1").Error); !errors.Is(err, errs.ErrInvalidReference) {
			t.Errorf("delete user with bets: err = %v, want ErrInvalidReference", err)
		}
	})
}
