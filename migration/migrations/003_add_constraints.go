package migrations

import "socialpredict/migration"

// 003: unique constraints, as unique indexes (the one form both engines
// support after the table exists; partial ones cannot be table constraints
// on PostgreSQL). Each also serves the lookup it names.
func init() {
	register(migration.FromSQL("003", "add unique constraints",
		migration.Same(
			// Login and profile lookup by username.
			"CREATE UNIQUE INDEX users_username_key ON users (username)",
			"CREATE UNIQUE INDEX users_display_name_key ON users (display_name)",
			"CREATE UNIQUE INDEX users_email_key ON users (email)",
			// Authentication by API key: lookup by the key's hash.
			"CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash)",
			// Idempotent bet placement: one bet per (user, idempotency key).
			"CREATE UNIQUE INDEX bets_user_idempotency_key ON bets (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
			// One payout set per market: at most one PAYOUT, REFUND or CREATOR_REWARD row per user and market.
			"CREATE UNIQUE INDEX ledger_entries_one_payout_key ON ledger_entries (market_id, user_id, kind) WHERE kind IN ('PAYOUT', 'REFUND', 'CREATOR_REWARD')",
		),
		migration.Same(
			"DROP INDEX ledger_entries_one_payout_key",
			"DROP INDEX bets_user_idempotency_key",
			"DROP INDEX api_keys_key_hash_key",
			"DROP INDEX users_email_key",
			"DROP INDEX users_display_name_key",
			"DROP INDEX users_username_key",
		)))
}
