package migrations

import "socialpredict/migration"

// 008: place_bets, a batch of bets in one call (PostgreSQL only): group
// commit. repository.BetRepository.Place hands it the bets that waited
// while earlier ones were placed, so that many bets share one round trip,
// one statement start-up and one commit.
//
// Each bet is decided as place_bet (migrations 004 and 007) decides it, in the order
// given, so each is accepted or refused exactly as if it had come alone at
// that moment: a bet refused (closed market, lacking credits, a repeated
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
	register(migration.FromSQL("008", "place bets function",
		migration.SQL{Postgres: []string{placeBetsFunction}},
		migration.SQL{Postgres: []string{"DROP FUNCTION place_bets"}}))
}

// placeBetsFunction creates place_bets. Its parameters are place_bet's as
// arrays of equal length, one element per bet; it returns one row per bet,
// ord (1-based) naming the bet, then place_bet's result columns.
//
// It is set-based: after the locks, three reads take what the bets depend
// on (each market's latest bet, the positions and the idempotency keys the
// batch touches), then each bet is decided in memory, in order, exactly as
// place_bet decides it (the gate, the cost with the first-bet fee, the
// guarded debit, WPAM over the stakes as they stand after the bets before
// it), and the accepted bets are written with one statement per table: the
// bets (their ids taken from the sequence in order, so that (placed_at, id)
// follows the order of the batch), the users' guarded debits, the markets'
// aggregates, the positions, the ledger rows (one per bet). A key taken concurrently by a
// bet this batch cannot see fails the call with unique_violation (the caller
// then places the bets one by one, as place_bet handles that case).
const placeBetsFunction = `CREATE FUNCTION place_bets(
	p_user_ids bigint[], p_market_ids bigint[], p_outcomes text[], p_amounts bigint[], p_yes bigint[], p_no bigint[],
	p_keys text[], p_nows timestamptz[], p_buy_fees bigint[], p_first_fees bigint[], p_max_debts bigint[],
	p_p0s double precision[], p_i0s bigint[], p_y0s bigint[], p_n0s bigint[])
RETURNS TABLE (ord integer, duplicate_id bigint, bet_id bigint, probability double precision, cost bigint,
	locked bigint, status text, closes_at timestamptz, placed_at timestamptz)
LANGUAGE plpgsql AS $function$
DECLARE
	v_n integer := cardinality(p_user_ids);
	-- The batch's markets and users as locked, and each market's latest bet.
	m_id bigint[];
	m_status text[];
	m_closes timestamptz[];
	m_yes bigint[];
	m_no bigint[];
	m_last timestamptz[];
	u_id bigint[];
	u_balance bigint[];
	-- 'user:market' of the positions held; 'user:key' of the keys used, with
	-- the bet's id, or minus the position in the batch of a bet placed here.
	v_pos text[];
	v_keys text[];
	v_key_bets bigint[];
	-- Each bet's result; r_balance is the balance after its debit.
	r_dup bigint[];
	r_bet bigint[];
	r_prob double precision[];
	r_cost bigint[];
	r_locked bigint[];
	r_status text[];
	r_closes timestamptz[];
	r_at timestamptz[];
	r_balance bigint[];
	r_ok boolean[];
	v_ids bigint[];
	v_accepted integer := 0;
	v_rows integer;
	v_users integer;
	i integer;
	j integer;
	mi integer;
	ui integer;
	v_at timestamptz;
	v_cost bigint;
	v_pair text;
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
	-- The locks: markets in id order, then users in id order.
	SELECT array_agg(m.id), array_agg(m.status), array_agg(m.closes_at), array_agg(m.yes_stake), array_agg(m.no_stake)
	INTO m_id, m_status, m_closes, m_yes, m_no
	FROM (SELECT mk.id, mk.status::text AS status, mk.closes_at, mk.yes_stake, mk.no_stake FROM markets mk
		WHERE mk.id = ANY (p_market_ids) ORDER BY mk.id FOR NO KEY UPDATE) m;
	SELECT array_agg(u.id), array_agg(u.balance) INTO u_id, u_balance
	FROM (SELECT us.id, us.balance FROM users us WHERE us.id = ANY (p_user_ids) ORDER BY us.id FOR NO KEY UPDATE) u;
	-- New snapshots, taken after the locks.
	SELECT array_agg((SELECT max(b.placed_at) FROM bets b WHERE b.market_id = x.id) ORDER BY x.n) INTO m_last
	FROM unnest(m_id) WITH ORDINALITY AS x(id, n);
	SELECT array_agg(ps.user_id || ':' || ps.market_id) INTO v_pos
	FROM positions ps WHERE (ps.user_id, ps.market_id) IN (SELECT x.u, x.m FROM unnest(p_user_ids, p_market_ids) AS x(u, m));
	SELECT array_agg(b.user_id || ':' || b.idempotency_key), array_agg(b.id) INTO v_keys, v_key_bets
	FROM bets b WHERE b.idempotency_key IS NOT NULL AND (b.user_id, b.idempotency_key) IN
		(SELECT x.u, x.k FROM unnest(p_user_ids, p_keys) AS x(u, k) WHERE x.k IS NOT NULL);
	v_pos := COALESCE(v_pos, '{}');
	v_keys := COALESCE(v_keys, '{}');
	v_key_bets := COALESCE(v_key_bets, '{}');
	r_dup := array_fill(NULL::bigint, ARRAY[v_n]);
	r_bet := r_dup;
	r_cost := r_dup;
	r_balance := r_dup;
	r_locked := array_fill(0::bigint, ARRAY[v_n]);
	r_prob := array_fill(NULL::double precision, ARRAY[v_n]);
	r_status := array_fill(NULL::text, ARRAY[v_n]);
	r_closes := array_fill(NULL::timestamptz, ARRAY[v_n]);
	r_at := r_closes;
	r_ok := array_fill(false, ARRAY[v_n]);
	-- Each bet in order, as place_bet decides it.
	FOR i IN 1 .. v_n LOOP
		mi := array_position(m_id, p_market_ids[i]);
		ui := array_position(u_id, p_user_ids[i]);
		v_at := p_nows[i];
		IF mi IS NOT NULL AND m_last[mi] > v_at THEN
			v_at := m_last[mi];
		END IF;
		r_at[i] := v_at;
		IF p_keys[i] IS NOT NULL THEN
			j := array_position(v_keys, p_user_ids[i] || ':' || p_keys[i]);
			IF j IS NOT NULL THEN
				r_dup[i] := v_key_bets[j];
				CONTINUE;
			END IF;
		END IF;
		IF mi IS NULL OR ui IS NULL THEN
			CONTINUE;
		END IF;
		r_locked[i] := 1;
		r_status[i] := m_status[mi];
		r_closes[i] := m_closes[mi];
		IF m_status[mi] <> 'OPEN' OR NOT m_closes[mi] > v_at THEN
			CONTINUE;
		END IF;
		v_pair := p_user_ids[i] || ':' || p_market_ids[i];
		v_cost := p_amounts[i] + p_buy_fees[i] + CASE WHEN v_pair = ANY (v_pos) THEN 0 ELSE p_first_fees[i] END;
		IF u_balance[ui] - v_cost < -p_max_debts[i] THEN
			CONTINUE;
		END IF;
		r_prob[i] := (p_p0s[i] * p_i0s[i] + p_y0s[i] + m_yes[mi] + p_yes[i])
			/ (p_i0s[i] + p_y0s[i] + p_n0s[i] + m_yes[mi] + p_yes[i] + m_no[mi] + p_no[i]);
		r_cost[i] := v_cost;
		u_balance[ui] := u_balance[ui] - v_cost;
		r_balance[i] := u_balance[ui];
		m_yes[mi] := m_yes[mi] + p_yes[i];
		m_no[mi] := m_no[mi] + p_no[i];
		m_last[mi] := v_at;
		v_pos := v_pos || v_pair;
		IF p_keys[i] IS NOT NULL THEN
			v_keys := v_keys || (p_user_ids[i] || ':' || p_keys[i]);
			v_key_bets := v_key_bets || (-i)::bigint;
		END IF;
		r_ok[i] := true;
		v_accepted := v_accepted + 1;
	END LOOP;
	IF v_accepted > 0 THEN
		-- Ids in the batch's order; then a repeated key of a bet placed here
		-- names that bet.
		SELECT array_agg(nextval('bets_id_seq'::regclass) ORDER BY g) INTO v_ids FROM generate_series(1, v_accepted) AS g;
		j := 0;
		FOR i IN 1 .. v_n LOOP
			IF r_ok[i] THEN
				j := j + 1;
				r_bet[i] := v_ids[j];
			ELSIF r_dup[i] < 0 THEN
				r_dup[i] := r_bet[-r_dup[i]];
			END IF;
		END LOOP;
		INSERT INTO bets (id, user_id, market_id, outcome, amount, fee, probability_after, placed_at, idempotency_key)
		SELECT x.bet, x.u, x.m, x.outcome, x.amount, x.cost - x.amount, x.prob, x.at, x.k
		FROM unnest(r_ok, r_bet, p_user_ids, p_market_ids, p_outcomes, p_amounts, r_cost, r_prob, r_at, p_keys)
			WITH ORDINALITY AS x(ok, bet, u, m, outcome, amount, cost, prob, at, k, n)
		WHERE x.ok ORDER BY x.n
		ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
		GET DIAGNOSTICS v_rows = ROW_COUNT;
		IF v_rows <> v_accepted THEN
			RAISE EXCEPTION 'place_bets: an idempotency key of the batch was taken concurrently'
				USING ERRCODE = 'unique_violation';
		END IF;
		UPDATE users us SET balance = us.balance - d.total, updated_at = d.at
		FROM (SELECT x.u, sum(x.cost)::bigint AS total, min(x.floor) AS floor, (array_agg(x.at ORDER BY x.n DESC))[1] AS at
			FROM unnest(r_ok, p_user_ids, r_cost, p_max_debts, r_at) WITH ORDINALITY AS x(ok, u, cost, floor, at, n)
			WHERE x.ok GROUP BY x.u) d
		WHERE us.id = d.u AND us.balance - d.total >= -d.floor;
		GET DIAGNOSTICS v_rows = ROW_COUNT;
		SELECT count(DISTINCT x.u) INTO v_users FROM unnest(r_ok, p_user_ids) AS x(ok, u) WHERE x.ok;
		IF v_rows <> v_users THEN
			RAISE EXCEPTION 'place_bets: guarded debit failed under the users'' locks';
		END IF;
		UPDATE markets mk SET yes_stake = mk.yes_stake + d.yes, no_stake = mk.no_stake + d.no,
			volume = mk.volume + d.amount, bet_count = mk.bet_count + d.bets, probability = d.prob, updated_at = d.at
		FROM (SELECT x.m, sum(x.yes)::bigint AS yes, sum(x.no)::bigint AS no, sum(x.amount)::bigint AS amount, count(*) AS bets,
				(array_agg(x.prob ORDER BY x.n DESC))[1] AS prob, (array_agg(x.at ORDER BY x.n DESC))[1] AS at
			FROM unnest(r_ok, p_market_ids, p_yes, p_no, p_amounts, r_prob, r_at) WITH ORDINALITY AS x(ok, m, yes, no, amount, prob, at, n)
			WHERE x.ok GROUP BY x.m) d
		WHERE mk.id = d.m;
		INSERT INTO positions AS ps (user_id, market_id, yes_stake, no_stake, bet_count, first_bet_at, updated_at)
		SELECT x.u, x.m, sum(x.yes)::bigint, sum(x.no)::bigint, count(*),
			(array_agg(x.at ORDER BY x.n))[1], (array_agg(x.at ORDER BY x.n DESC))[1]
		FROM unnest(r_ok, p_user_ids, p_market_ids, p_yes, p_no, r_at) WITH ORDINALITY AS x(ok, u, m, yes, no, at, n)
		WHERE x.ok GROUP BY x.u, x.m
		ON CONFLICT (user_id, market_id) DO UPDATE SET
			yes_stake = ps.yes_stake + excluded.yes_stake,
			no_stake = ps.no_stake + excluded.no_stake,
			bet_count = ps.bet_count + excluded.bet_count,
			updated_at = excluded.updated_at;
		-- One row per bet, stake and fee (migration 007).
		INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, fee, balance_after, created_at)
		SELECT x.u, x.m, x.bet, 'BET', -x.cost, x.cost - x.amount, x.balance, x.at
		FROM unnest(r_ok, p_user_ids, p_market_ids, r_bet, p_amounts, r_cost, r_balance, r_at)
			WITH ORDINALITY AS x(ok, u, m, bet, amount, cost, balance, at, n)
		WHERE x.ok ORDER BY x.n;
	END IF;
	RETURN QUERY SELECT x.n::integer, x.dup, x.bet, x.prob, x.cost, x.locked, x.status, x.closes, x.at
	FROM unnest(r_dup, r_bet, r_prob, r_cost, r_locked, r_status, r_closes, r_at)
		WITH ORDINALITY AS x(dup, bet, prob, cost, locked, status, closes, at, n)
	ORDER BY x.n;
END
$function$`
