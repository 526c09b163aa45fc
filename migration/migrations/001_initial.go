package migrations

import (
	"strings"

	"socialpredict/migration"
)

// 001: the tables, with their primary keys, NOT NULL, CHECK and foreign key
// constraints (SQLite cannot add CHECK or FOREIGN KEY to an existing table,
// so they are declared here). Money is bigint; probabilities are double
// precision. The balance floor (-maximum_debt_allowed) is not a CHECK: it is
// configuration, enforced by the guarded update that debits a balance.

// initialTables is written once for both engines; initialTypes fills in the
// few words that differ. Both are part of this migration and must never
// change once released.
const initialTables = `
CREATE TABLE users (
	id              {{id}},
	username        text NOT NULL,
	display_name    text NOT NULL,
	email           text NOT NULL,
	user_type       text NOT NULL DEFAULT 'REGULAR',
	initial_balance bigint NOT NULL DEFAULT 0,
	balance         bigint NOT NULL DEFAULT 0,
	created_at      {{timestamp}} NOT NULL,
	updated_at      {{timestamp}} NOT NULL,
	CONSTRAINT users_username_format CHECK ({{username_format}}),
	CONSTRAINT users_display_name_length CHECK ({{len}}(display_name) BETWEEN 1 AND 50),
	CONSTRAINT users_email_format CHECK ({{len}}(email) BETWEEN 3 AND 254 AND email LIKE '%_@_%'),
	CONSTRAINT users_user_type_valid CHECK (user_type IN ('ADMIN', 'REGULAR'))
);

CREATE TABLE api_keys (
	id           {{id}},
	user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	key_hash     text NOT NULL,
	key_prefix   text NOT NULL,
	created_at   {{timestamp}} NOT NULL,
	last_used_at {{timestamp}},
	revoked_at   {{timestamp}},
	CONSTRAINT api_keys_key_hash_format CHECK ({{len}}(key_hash) = 64),
	CONSTRAINT api_keys_key_prefix_length CHECK ({{len}}(key_prefix) BETWEEN 1 AND 16)
);

CREATE TABLE markets (
	id                {{id}},
	creator_id        bigint NOT NULL REFERENCES users (id),
	question_title    text NOT NULL,
	description       text NOT NULL DEFAULT '',
	yes_label         text NOT NULL DEFAULT 'YES',
	no_label          text NOT NULL DEFAULT 'NO',
	closes_at         {{timestamp}} NOT NULL,
	status            text NOT NULL DEFAULT 'OPEN',
	resolution_result text,
	resolved_at       {{timestamp}},
	yes_stake         bigint NOT NULL DEFAULT 0,
	no_stake          bigint NOT NULL DEFAULT 0,
	volume            bigint NOT NULL DEFAULT 0,
	bet_count         bigint NOT NULL DEFAULT 0,
	probability       {{float}} NOT NULL DEFAULT 0.5,
	created_at        {{timestamp}} NOT NULL,
	updated_at        {{timestamp}} NOT NULL,
	CONSTRAINT markets_question_title_length CHECK ({{len}}(question_title) BETWEEN 1 AND 160),
	CONSTRAINT markets_description_length CHECK ({{len}}(description) <= 2000),
	CONSTRAINT markets_yes_label_length CHECK ({{len}}(yes_label) BETWEEN 1 AND 20),
	CONSTRAINT markets_no_label_length CHECK ({{len}}(no_label) BETWEEN 1 AND 20),
	CONSTRAINT markets_status_valid CHECK (status IN ('OPEN', 'CLOSED', 'RESOLVED')),
	CONSTRAINT markets_resolution_valid CHECK (
		(status = 'RESOLVED' AND resolution_result IS NOT NULL AND resolution_result IN ('YES', 'NO', 'N/A') AND resolved_at IS NOT NULL)
		OR (status <> 'RESOLVED' AND resolution_result IS NULL AND resolved_at IS NULL)),
	CONSTRAINT markets_stakes_valid CHECK (yes_stake >= 0 AND no_stake >= 0 AND bet_count >= 0 AND volume = yes_stake + no_stake),
	CONSTRAINT markets_probability_range CHECK (probability >= 0 AND probability <= 1)
);

CREATE TABLE bets (
	id                {{id}},
	user_id           bigint NOT NULL REFERENCES users (id),
	market_id         bigint NOT NULL REFERENCES markets (id),
	outcome           text NOT NULL,
	amount            bigint NOT NULL,
	fee               bigint NOT NULL DEFAULT 0,
	probability_after {{float}} NOT NULL,
	placed_at         {{timestamp}} NOT NULL,
	idempotency_key   text,
	CONSTRAINT bets_outcome_valid CHECK (outcome IN ('YES', 'NO')),
	CONSTRAINT bets_amount_positive CHECK (amount > 0),
	CONSTRAINT bets_fee_nonnegative CHECK (fee >= 0),
	CONSTRAINT bets_probability_after_range CHECK (probability_after >= 0 AND probability_after <= 1),
	CONSTRAINT bets_idempotency_key_length CHECK (idempotency_key IS NULL OR {{len}}(idempotency_key) BETWEEN 1 AND 100)
);

CREATE TABLE positions (
	user_id      bigint NOT NULL REFERENCES users (id),
	market_id    bigint NOT NULL REFERENCES markets (id),
	yes_stake    bigint NOT NULL DEFAULT 0,
	no_stake     bigint NOT NULL DEFAULT 0,
	bet_count    bigint NOT NULL DEFAULT 0,
	first_bet_at {{timestamp}} NOT NULL,
	updated_at   {{timestamp}} NOT NULL,
	PRIMARY KEY (user_id, market_id),
	CONSTRAINT positions_stakes_valid CHECK (yes_stake >= 0 AND no_stake >= 0 AND bet_count > 0)
);

CREATE TABLE ledger_entries (
	id            {{id}},
	user_id       bigint NOT NULL REFERENCES users (id),
	market_id     bigint REFERENCES markets (id),
	bet_id        bigint REFERENCES bets (id),
	kind          text NOT NULL,
	amount        bigint NOT NULL,
	balance_after bigint NOT NULL,
	created_at    {{timestamp}} NOT NULL,
	CONSTRAINT ledger_entries_kind_valid CHECK (kind IN ('BET', 'BET_FEE', 'MARKET_CREATION', 'PAYOUT', 'REFUND', 'CREATOR_REWARD', 'ADJUSTMENT')),
	CONSTRAINT ledger_entries_amount_nonzero CHECK (amount <> 0),
	CONSTRAINT ledger_entries_market_required CHECK (kind = 'ADJUSTMENT' OR market_id IS NOT NULL)
)`

// initialTypes are the words that differ between the engines.
var initialTypes = map[string][2]string{ // postgres, sqlite
	"{{id}}":              {"bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "INTEGER PRIMARY KEY"},
	"{{timestamp}}":       {"timestamptz", "DATETIME"},
	"{{float}}":           {"double precision", "REAL"},
	"{{len}}":             {"char_length", "length"},
	"{{username_format}}": {"username ~ '^[a-z0-9_]{3,30}$'", "length(username) BETWEEN 3 AND 30 AND username NOT GLOB '*[^a-z0-9_]*'"},
}

// initialSQL renders initialTables for the engine (0 postgres, 1 sqlite),
// one statement per element.
func initialSQL(engine int) []string {
	s := initialTables
	for word, by := range initialTypes {
		s = strings.ReplaceAll(s, word, by[engine])
	}
	var out []string
	for _, stmt := range strings.Split(s, ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

func init() {
	register(migration.FromSQL("001", "initial tables",
		migration.SQL{Postgres: initialSQL(0), SQLite: initialSQL(1)},
		// Reverse order of creation: dependants first.
		migration.Same(
			"DROP TABLE ledger_entries",
			"DROP TABLE positions",
			"DROP TABLE bets",
			"DROP TABLE markets",
			"DROP TABLE api_keys",
			"DROP TABLE users",
		)))
}
