package migrations

import "socialpredict/migration"

// 004: place_bet, the whole bet as one PL/pgSQL function (PostgreSQL only;
// SQLite places bets as an interactive transaction and gets nothing).
// repository.BetRepository.PlaceStatement calls it as one statement: its
// plans are made once per connection, where the data-modifying CTE it
// replaces (some 60 plan nodes) paid a large executor start-up on every bet,
// and a full re-plan without prepared statements (PgBouncer).
//
// It does what the CTE did, in the same order and with the same result row:
//   - lock the market, then the user (FOR NO KEY UPDATE), the lock order of
//     every writer; each later statement reads with a snapshot taken after
//     the locks, so it sees every bet that held them before;
//   - date the bet: never before the market's latest bet, so that
//     (placed_at, id) follows the order of the market lock;
//   - a repeated idempotency key returns the bet first placed with it
//     (duplicate_id) and writes nothing;
//   - locked is 0 when the user or the market does not exist; status and
//     closes_at are the market's, for the caller to say why a bet was refused;
//   - the gate: only an open market before closes_at takes the bet; its cost
//     is amount + buy fee + first-bet fee when the user holds no position in
//     the market yet;
//   - the debit is a guarded delta update (never below -max_debt); the
//     balance read under the user's lock decides first, so that a refused bet
//     writes nothing;
//   - the bet goes in with the probability right after it, WPAM over the
//     market's stakes (the formula of package models/wpam, checked against it
//     by repository's TestPlaceStatementProbabilityIsWPAM); then the market's
//     aggregates, the position and the ledger rows (BET, and BET_FEE when
//     there is a fee), each with the balance after it. Migration 007
//     replaces this function by the same one writing one BET row per bet,
//     the fee in its fee column.
//
// A concurrent bet with the same key that commits first (the bulk API
// inserts bets without the user's lock) is waited for by the unique index and
// returned as duplicate_id: ON CONFLICT DO NOTHING comes before any write, so
// the statement neither fails nor aborts a caller's transaction.
func init() {
	register(migration.FromSQL("004", "place bet function",
		migration.SQL{Postgres: []string{placeBetFunction}},
		migration.SQL{Postgres: []string{"DROP FUNCTION place_bet"}}))
}

// placeBetFunction creates place_bet. Its parameters are those the CTE read
// (p_yes and p_no split the amount by outcome); its OUT parameters are the
// CTE's result columns, in the same order. Internals use v_ variables, so that
// no name means both a variable and a column.
const placeBetFunction = `CREATE FUNCTION place_bet(
	p_user_id bigint, p_market_id bigint, p_outcome text, p_amount bigint, p_yes bigint, p_no bigint,
	p_key text, p_now timestamptz, p_buy_fee bigint, p_first_fee bigint, p_max_debt bigint,
	p_p0 double precision, p_i0 bigint, p_y0 bigint, p_n0 bigint,
	OUT duplicate_id bigint, OUT bet_id bigint, OUT probability double precision, OUT cost bigint,
	OUT locked bigint, OUT status text, OUT closes_at timestamptz, OUT placed_at timestamptz)
LANGUAGE plpgsql AS $function$
DECLARE
	v_status text;
	v_closes_at timestamptz;
	v_yes_stake bigint;
	v_no_stake bigint;
	v_balance bigint;
	v_at timestamptz;
	v_has_position boolean;
	v_cost bigint;
	v_probability double precision;
	v_bet_id bigint;
BEGIN
	locked := 0;
	SELECT m.status, m.closes_at, m.yes_stake, m.no_stake INTO v_status, v_closes_at, v_yes_stake, v_no_stake
	FROM markets m WHERE m.id = p_market_id FOR NO KEY UPDATE;
	SELECT u.balance INTO v_balance FROM users u WHERE u.id = p_user_id FOR NO KEY UPDATE;
	-- A new snapshot, taken after both locks.
	SELECT GREATEST(p_now, COALESCE((SELECT max(b.placed_at) FROM bets b WHERE b.market_id = p_market_id), p_now)),
		(SELECT b.id FROM bets b WHERE p_key IS NOT NULL AND b.user_id = p_user_id AND b.idempotency_key = p_key),
		EXISTS (SELECT 1 FROM positions ps WHERE ps.user_id = p_user_id AND ps.market_id = p_market_id)
	INTO v_at, duplicate_id, v_has_position;
	placed_at := v_at;
	IF duplicate_id IS NOT NULL OR v_status IS NULL OR v_balance IS NULL THEN
		RETURN;
	END IF;
	locked := 1;
	status := v_status;
	closes_at := v_closes_at;
	IF v_status <> 'OPEN' OR NOT v_closes_at > v_at THEN
		RETURN;
	END IF;
	v_cost := p_amount + p_buy_fee + CASE WHEN v_has_position THEN 0 ELSE p_first_fee END;
	IF v_balance - v_cost < -p_max_debt THEN
		RETURN;
	END IF;
	v_probability := (p_p0 * p_i0 + p_y0 + v_yes_stake + p_yes)
		/ (p_i0 + p_y0 + p_n0 + v_yes_stake + p_yes + v_no_stake + p_no);
	IF p_key IS NULL THEN
		INSERT INTO bets (user_id, market_id, outcome, amount, fee, probability_after, placed_at)
		VALUES (p_user_id, p_market_id, p_outcome, p_amount, v_cost - p_amount, v_probability, v_at)
		RETURNING id INTO v_bet_id;
	ELSE
		INSERT INTO bets (user_id, market_id, outcome, amount, fee, probability_after, placed_at, idempotency_key)
		VALUES (p_user_id, p_market_id, p_outcome, p_amount, v_cost - p_amount, v_probability, v_at, p_key)
		ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING id INTO v_bet_id;
		IF v_bet_id IS NULL THEN
			-- A concurrent bet with this key committed first: a new snapshot sees it.
			SELECT b.id INTO duplicate_id FROM bets b WHERE b.user_id = p_user_id AND b.idempotency_key = p_key;
			IF duplicate_id IS NULL THEN
				RAISE EXCEPTION 'place_bet: idempotency key of user % taken by an invisible bet', p_user_id
					USING ERRCODE = 'unique_violation';
			END IF;
			locked := 0;
			status := NULL;
			closes_at := NULL;
			RETURN;
		END IF;
	END IF;
	UPDATE users u SET balance = u.balance - v_cost, updated_at = v_at
	WHERE u.id = p_user_id AND u.balance - v_cost >= -p_max_debt
	RETURNING u.balance INTO v_balance;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'place_bet: guarded debit of user % failed under its lock', p_user_id;
	END IF;
	UPDATE markets m SET yes_stake = m.yes_stake + p_yes, no_stake = m.no_stake + p_no,
		volume = m.volume + p_amount, bet_count = m.bet_count + 1, probability = v_probability, updated_at = v_at
	WHERE m.id = p_market_id;
	IF v_has_position THEN
		UPDATE positions ps SET yes_stake = ps.yes_stake + p_yes, no_stake = ps.no_stake + p_no,
			bet_count = ps.bet_count + 1, updated_at = v_at
		WHERE ps.user_id = p_user_id AND ps.market_id = p_market_id;
	END IF;
	IF NOT v_has_position OR NOT FOUND THEN
		INSERT INTO positions AS ps (user_id, market_id, yes_stake, no_stake, bet_count, first_bet_at, updated_at)
		VALUES (p_user_id, p_market_id, p_yes, p_no, 1, v_at, v_at)
		ON CONFLICT (user_id, market_id) DO UPDATE SET
			yes_stake = ps.yes_stake + excluded.yes_stake,
			no_stake = ps.no_stake + excluded.no_stake,
			bet_count = ps.bet_count + 1,
			updated_at = excluded.updated_at;
	END IF;
	IF v_cost > p_amount THEN
		INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, balance_after, created_at)
		VALUES (p_user_id, p_market_id, v_bet_id, 'BET', -p_amount, v_balance + v_cost - p_amount, v_at),
			(p_user_id, p_market_id, v_bet_id, 'BET_FEE', p_amount - v_cost, v_balance, v_at);
	ELSE
		INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, balance_after, created_at)
		VALUES (p_user_id, p_market_id, v_bet_id, 'BET', -p_amount, v_balance + v_cost - p_amount, v_at);
	END IF;
	bet_id := v_bet_id;
	probability := v_probability;
	cost := v_cost;
END
$function$`
