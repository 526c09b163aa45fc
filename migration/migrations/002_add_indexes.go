package migrations

import "socialpredict/migration"

// 002: indexes for every query the repositories and services run. Each
// comment names the query it serves. Primary keys and the unique
// constraints of 003 serve lookups by id, by username, by email, by API key
// hash, and a user's positions (positions' primary key starts with user_id).
func init() {
	register(migration.FromSQL("002", "add indexes",
		migration.SQL{
			Postgres: append(indexes002(),
				// Username prefix search (LIKE 'abc%') under a non-C collation.
				"CREATE INDEX users_username_pattern_idx ON users (username text_pattern_ops)"),
			SQLite: indexes002(),
		},
		migration.SQL{
			Postgres: append([]string{"DROP INDEX users_username_pattern_idx"}, dropIndexes002()...),
			SQLite:   dropIndexes002(),
		}))
}

// indexes002 are the indexes both engines get.
func indexes002() []string {
	return []string{
		// A market's bets in (placed_at, id) order: resolution, WPAM replay, bets by market (keyset pages).
		"CREATE INDEX bets_market_placed_idx ON bets (market_id, placed_at, id)",
		// A user's bets, newest first: bets by user (keyset pages); also the bets.user_id foreign key.
		"CREATE INDEX bets_user_placed_idx ON bets (user_id, placed_at, id)",
		// Markets by status and closing time: open markets closing soonest, markets to close.
		"CREATE INDEX markets_status_closes_idx ON markets (status, closes_at, id)",
		// Markets by creator, newest first; also the markets.creator_id foreign key.
		"CREATE INDEX markets_creator_idx ON markets (creator_id, created_at, id)",
		// Market listing in creation order (the default keyset sort).
		"CREATE INDEX markets_created_idx ON markets (created_at, id)",
		// User listing in creation order (the default keyset sort).
		"CREATE INDEX users_created_idx ON users (created_at, id)",
		// A user's ledger in time order, and sum(amount) per user for the balance invariant.
		"CREATE INDEX ledger_entries_user_idx ON ledger_entries (user_id, created_at, id)",
		// A market's ledger rows by kind: payouts per market, one-payout-set check; also the market_id foreign key.
		"CREATE INDEX ledger_entries_market_kind_idx ON ledger_entries (market_id, kind)",
		// The ledger_entries.bet_id foreign key (deleting or checking a bet).
		"CREATE INDEX ledger_entries_bet_idx ON ledger_entries (bet_id)",
		// A market's positions (payouts, market positions page), by user.
		"CREATE INDEX positions_market_idx ON positions (market_id, user_id)",
		// A user's API keys; also the api_keys.user_id foreign key (cascade on user delete).
		"CREATE INDEX api_keys_user_idx ON api_keys (user_id)",
	}
}

func dropIndexes002() []string {
	return []string{
		"DROP INDEX api_keys_user_idx",
		"DROP INDEX positions_market_idx",
		"DROP INDEX ledger_entries_bet_idx",
		"DROP INDEX ledger_entries_market_kind_idx",
		"DROP INDEX ledger_entries_user_idx",
		"DROP INDEX users_created_idx",
		"DROP INDEX markets_created_idx",
		"DROP INDEX markets_creator_idx",
		"DROP INDEX markets_status_closes_idx",
		"DROP INDEX bets_user_placed_idx",
		"DROP INDEX bets_market_placed_idx",
	}
}
