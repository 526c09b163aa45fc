package migrations

import "socialpredict/migration"

// 006: place_bets, a batch of bets in one call (PostgreSQL only): group
// commit. repository.BetRepository.Place hands it the bets that waited
// while earlier ones were placed, so that many bets share one round trip,
// one statement start-up and one commit.
//
// Each bet is placed by place_bet (migration 004), in the order given, so
// each is accepted or refused exactly as if it had come alone at that
// moment: a bet refused (closed market, lacking credits, a repeated
// idempotency key) is a result row like an accepted one and writes nothing,
// and a later bet of the batch sees the earlier ones' writes (the same
// user's balance, the market's stakes, an idempotency key used twice).
//
// Lock order: before any bet, every market of the batch is locked in id
// order, then every user in id order (FOR NO KEY UPDATE, as place_bet does).
// One bet locks its market, then its user: any two writers that lock
// markets before users, each kind in id order, cannot deadlock each other.
//
// An unexpected error (a constraint the service's checks did not foresee)
// fails the whole call, which is one statement: nothing of the batch is
// written, and the caller places the bets again one by one.
func init() {
	register(migration.FromSQL("006", "place bets function",
		migration.SQL{Postgres: []string{placeBetsFunction}},
		migration.SQL{Postgres: []string{"DROP FUNCTION place_bets"}}))
}

// placeBetsFunction creates place_bets. Its parameters are place_bet's as
// arrays of equal length, one element per bet; it returns one row per bet,
// ord (1-based) naming the bet, then place_bet's result columns.
const placeBetsFunction = `CREATE FUNCTION place_bets(
	p_user_ids bigint[], p_market_ids bigint[], p_outcomes text[], p_amounts bigint[], p_yes bigint[], p_no bigint[],
	p_keys text[], p_nows timestamptz[], p_buy_fees bigint[], p_first_fees bigint[], p_max_debts bigint[],
	p_p0s double precision[], p_i0s bigint[], p_y0s bigint[], p_n0s bigint[])
RETURNS TABLE (ord integer, duplicate_id bigint, bet_id bigint, probability double precision, cost bigint,
	locked bigint, status text, closes_at timestamptz, placed_at timestamptz)
LANGUAGE plpgsql AS $function$
DECLARE
	v_n integer := cardinality(p_user_ids);
BEGIN
	IF v_n IS NULL OR v_n = 0 THEN
		RETURN;
	END IF;
	IF cardinality(p_market_ids) <> v_n OR cardinality(p_outcomes) <> v_n OR cardinality(p_amounts) <> v_n
		OR cardinality(p_yes) <> v_n OR cardinality(p_no) <> v_n OR cardinality(p_keys) <> v_n
		OR cardinality(p_nows) <> v_n OR cardinality(p_buy_fees) <> v_n OR cardinality(p_first_fees) <> v_n
		OR cardinality(p_max_debts) <> v_n OR cardinality(p_p0s) <> v_n OR cardinality(p_i0s) <> v_n
		OR cardinality(p_y0s) <> v_n OR cardinality(p_n0s) <> v_n THEN
		RAISE EXCEPTION 'place_bets: arrays of different lengths' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM 1 FROM markets m WHERE m.id = ANY (p_market_ids) ORDER BY m.id FOR NO KEY UPDATE;
	PERFORM 1 FROM users u WHERE u.id = ANY (p_user_ids) ORDER BY u.id FOR NO KEY UPDATE;
	FOR i IN 1 .. v_n LOOP
		ord := i;
		SELECT b.duplicate_id, b.bet_id, b.probability, b.cost, b.locked, b.status, b.closes_at, b.placed_at
		INTO duplicate_id, bet_id, probability, cost, locked, status, closes_at, placed_at
		FROM place_bet(p_user_ids[i], p_market_ids[i], p_outcomes[i], p_amounts[i], p_yes[i], p_no[i], p_keys[i],
			p_nows[i], p_buy_fees[i], p_first_fees[i], p_max_debts[i], p_p0s[i], p_i0s[i], p_y0s[i], p_n0s[i]) AS b;
		RETURN NEXT;
	END LOOP;
END
$function$`
