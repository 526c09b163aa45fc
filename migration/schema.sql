-- The PostgreSQL schema after every migration, as pg_dump --schema-only prints
-- it (comments and session settings removed; the migration history tables
-- left out). Generated: do not edit. Regenerate with
--   go test ./migration/migrations -run TestSchemaSQLIsCurrent -update
CREATE DOMAIN public.bets_amount_positive AS bigint
	CONSTRAINT bets_amount_positive CHECK ((VALUE > 0));

CREATE DOMAIN public.bets_fee_nonnegative AS bigint
	CONSTRAINT bets_fee_nonnegative CHECK ((VALUE >= 0));

CREATE DOMAIN public.bets_idempotency_key_length AS text
	CONSTRAINT bets_idempotency_key_length CHECK (((VALUE IS NULL) OR ((char_length(VALUE) >= 1) AND (char_length(VALUE) <= 100))));

CREATE DOMAIN public.bets_outcome_valid AS text
	CONSTRAINT bets_outcome_valid CHECK ((VALUE = ANY (ARRAY['YES'::text, 'NO'::text])));

CREATE DOMAIN public.bets_probability_after_range AS double precision
	CONSTRAINT bets_probability_after_range CHECK (((VALUE >= (0)::double precision) AND (VALUE <= (1)::double precision)));

CREATE DOMAIN public.ledger_entries_amount_nonzero AS bigint
	CONSTRAINT ledger_entries_amount_nonzero CHECK ((VALUE <> 0));

CREATE DOMAIN public.ledger_entries_fee_nonnegative AS bigint
	CONSTRAINT ledger_entries_fee_nonnegative CHECK ((VALUE >= 0));

CREATE DOMAIN public.ledger_entries_kind_valid AS text
	CONSTRAINT ledger_entries_kind_valid CHECK ((VALUE = ANY (ARRAY['BET'::text, 'BET_FEE'::text, 'MARKET_CREATION'::text, 'PAYOUT'::text, 'REFUND'::text, 'CREATOR_REWARD'::text, 'ADJUSTMENT'::text])));

CREATE DOMAIN public.markets_description_length AS text
	CONSTRAINT markets_description_length CHECK ((char_length(VALUE) <= 2000));

CREATE DOMAIN public.markets_no_label_length AS text
	CONSTRAINT markets_no_label_length CHECK (((char_length(VALUE) >= 1) AND (char_length(VALUE) <= 20)));

CREATE DOMAIN public.markets_probability_range AS double precision
	CONSTRAINT markets_probability_range CHECK (((VALUE >= (0)::double precision) AND (VALUE <= (1)::double precision)));

CREATE DOMAIN public.markets_question_title_length AS text
	CONSTRAINT markets_question_title_length CHECK (((char_length(VALUE) >= 1) AND (char_length(VALUE) <= 160)));

CREATE DOMAIN public.markets_status_valid AS text
	CONSTRAINT markets_status_valid CHECK ((VALUE = ANY (ARRAY['OPEN'::text, 'CLOSED'::text, 'RESOLVED'::text])));

CREATE DOMAIN public.markets_yes_label_length AS text
	CONSTRAINT markets_yes_label_length CHECK (((char_length(VALUE) >= 1) AND (char_length(VALUE) <= 20)));

CREATE DOMAIN public.users_display_name_length AS text
	CONSTRAINT users_display_name_length CHECK (((char_length(VALUE) >= 1) AND (char_length(VALUE) <= 50)));

CREATE DOMAIN public.users_email_format AS text
	CONSTRAINT users_email_format CHECK ((((char_length(VALUE) >= 3) AND (char_length(VALUE) <= 254)) AND (VALUE ~~ '%_@_%'::text)));

CREATE DOMAIN public.users_user_type_valid AS text
	CONSTRAINT users_user_type_valid CHECK ((VALUE = ANY (ARRAY['ADMIN'::text, 'REGULAR'::text])));

CREATE DOMAIN public.users_username_format AS text
	CONSTRAINT users_username_format CHECK ((VALUE ~ '^[a-z0-9_]{3,30}$'::text));

CREATE FUNCTION public.place_bet(p_user_id bigint, p_market_id bigint, p_outcome text, p_amount bigint, p_yes bigint, p_no bigint, p_key text, p_now timestamp with time zone, p_buy_fee bigint, p_first_fee bigint, p_max_debt bigint, p_p0 double precision, p_i0 bigint, p_y0 bigint, p_n0 bigint, OUT duplicate_id bigint, OUT bet_id bigint, OUT probability double precision, OUT cost bigint, OUT locked bigint, OUT status text, OUT closes_at timestamp with time zone, OUT placed_at timestamp with time zone) RETURNS record
    LANGUAGE plpgsql
    AS $$
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
	-- One row for the debit, stake and fee; the fee column holds the fee part.
	INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, fee, balance_after, created_at)
	VALUES (p_user_id, p_market_id, v_bet_id, 'BET', -v_cost, v_cost - p_amount, v_balance, v_at);
	bet_id := v_bet_id;
	probability := v_probability;
	cost := v_cost;
END
$$;

CREATE FUNCTION public.place_bets(p_user_ids bigint[], p_market_ids bigint[], p_outcomes text[], p_amounts bigint[], p_yes bigint[], p_no bigint[], p_keys text[], p_nows timestamp with time zone[], p_buy_fees bigint[], p_first_fees bigint[], p_max_debts bigint[], p_p0s double precision[], p_i0s bigint[], p_y0s bigint[], p_n0s bigint[]) RETURNS TABLE(ord integer, duplicate_id bigint, bet_id bigint, probability double precision, cost bigint, locked bigint, status text, closes_at timestamp with time zone, placed_at timestamp with time zone)
    LANGUAGE plpgsql
    AS $$
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
$$;

CREATE TABLE public.api_keys (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    key_hash text NOT NULL,
    key_prefix text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_key_hash_format CHECK ((char_length(key_hash) = 64)),
    CONSTRAINT api_keys_key_prefix_length CHECK (((char_length(key_prefix) >= 1) AND (char_length(key_prefix) <= 16)))
);

ALTER TABLE public.api_keys ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.api_keys_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.bets (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    market_id bigint NOT NULL,
    outcome public.bets_outcome_valid NOT NULL,
    amount public.bets_amount_positive NOT NULL,
    fee public.bets_fee_nonnegative DEFAULT 0 NOT NULL,
    probability_after public.bets_probability_after_range NOT NULL,
    placed_at timestamp with time zone NOT NULL,
    idempotency_key public.bets_idempotency_key_length
);

ALTER TABLE public.bets ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.bets_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.ledger_entries (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    market_id bigint,
    bet_id bigint,
    kind public.ledger_entries_kind_valid NOT NULL,
    amount public.ledger_entries_amount_nonzero NOT NULL,
    balance_after bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    fee public.ledger_entries_fee_nonnegative DEFAULT 0 NOT NULL,
    CONSTRAINT ledger_entries_fee_valid CHECK ((((fee)::bigint = 0) OR (((kind)::text = 'BET'::text) AND (((amount)::bigint + (fee)::bigint) < 0)))),
    CONSTRAINT ledger_entries_market_required CHECK ((((kind)::text = 'ADJUSTMENT'::text) OR (market_id IS NOT NULL)))
);

ALTER TABLE public.ledger_entries ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.ledger_entries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.markets (
    id bigint NOT NULL,
    creator_id bigint NOT NULL,
    question_title public.markets_question_title_length NOT NULL,
    description public.markets_description_length DEFAULT ''::text NOT NULL,
    yes_label public.markets_yes_label_length DEFAULT 'YES'::text NOT NULL,
    no_label public.markets_no_label_length DEFAULT 'NO'::text NOT NULL,
    closes_at timestamp with time zone NOT NULL,
    status public.markets_status_valid DEFAULT 'OPEN'::text NOT NULL,
    resolution_result text,
    resolved_at timestamp with time zone,
    yes_stake bigint DEFAULT 0 NOT NULL,
    no_stake bigint DEFAULT 0 NOT NULL,
    volume bigint DEFAULT 0 NOT NULL,
    bet_count bigint DEFAULT 0 NOT NULL,
    probability public.markets_probability_range DEFAULT 0.5 NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT markets_resolution_valid CHECK (((((status)::text = 'RESOLVED'::text) AND (resolution_result IS NOT NULL) AND (resolution_result = ANY (ARRAY['YES'::text, 'NO'::text, 'N/A'::text])) AND (resolved_at IS NOT NULL)) OR (((status)::text <> 'RESOLVED'::text) AND (resolution_result IS NULL) AND (resolved_at IS NULL)))),
    CONSTRAINT markets_stakes_valid CHECK (((yes_stake >= 0) AND (no_stake >= 0) AND (bet_count >= 0) AND (volume = (yes_stake + no_stake))))
);

ALTER TABLE public.markets ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.markets_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.positions (
    user_id bigint NOT NULL,
    market_id bigint NOT NULL,
    yes_stake bigint DEFAULT 0 NOT NULL,
    no_stake bigint DEFAULT 0 NOT NULL,
    bet_count bigint DEFAULT 0 NOT NULL,
    first_bet_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT positions_stakes_valid CHECK (((yes_stake >= 0) AND (no_stake >= 0) AND (bet_count > 0)))
);

CREATE TABLE public.users (
    id bigint NOT NULL,
    username public.users_username_format NOT NULL,
    display_name public.users_display_name_length NOT NULL,
    email public.users_email_format NOT NULL,
    user_type public.users_user_type_valid DEFAULT 'REGULAR'::text NOT NULL,
    initial_balance bigint DEFAULT 0 NOT NULL,
    balance bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

ALTER TABLE public.users ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.bets
    ADD CONSTRAINT bets_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.markets
    ADD CONSTRAINT markets_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.positions
    ADD CONSTRAINT positions_pkey PRIMARY KEY (user_id, market_id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

CREATE UNIQUE INDEX api_keys_key_hash_key ON public.api_keys USING btree (key_hash);

CREATE INDEX api_keys_user_idx ON public.api_keys USING btree (user_id);

CREATE INDEX bets_market_placed_idx ON public.bets USING btree (market_id, placed_at, id);

CREATE UNIQUE INDEX bets_user_idempotency_key ON public.bets USING btree (user_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);

CREATE INDEX bets_user_placed_idx ON public.bets USING btree (user_id, placed_at, id);

CREATE INDEX ledger_entries_bet_idx ON public.ledger_entries USING btree (bet_id);

CREATE INDEX ledger_entries_market_kind_idx ON public.ledger_entries USING btree (market_id, kind);

CREATE UNIQUE INDEX ledger_entries_one_payout_key ON public.ledger_entries USING btree (market_id, user_id, kind) WHERE ((kind)::text = ANY (ARRAY['PAYOUT'::text, 'REFUND'::text, 'CREATOR_REWARD'::text]));

CREATE INDEX ledger_entries_user_idx ON public.ledger_entries USING btree (user_id, created_at, id);

CREATE INDEX markets_created_idx ON public.markets USING btree (created_at, id);

CREATE INDEX markets_creator_idx ON public.markets USING btree (creator_id, created_at, id);

CREATE INDEX markets_status_closes_idx ON public.markets USING btree (status, closes_at, id);

CREATE INDEX positions_market_idx ON public.positions USING btree (market_id, user_id);

CREATE INDEX users_created_idx ON public.users USING btree (created_at, id);

CREATE UNIQUE INDEX users_display_name_key ON public.users USING btree (display_name);

CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email);

CREATE UNIQUE INDEX users_username_key ON public.users USING btree (username);

CREATE INDEX users_username_pattern_idx ON public.users USING btree (username text_pattern_ops);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bets
    ADD CONSTRAINT bets_market_id_fkey FOREIGN KEY (market_id) REFERENCES public.markets(id);

ALTER TABLE ONLY public.bets
    ADD CONSTRAINT bets_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT ledger_entries_bet_id_fkey FOREIGN KEY (bet_id) REFERENCES public.bets(id);

ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT ledger_entries_market_id_fkey FOREIGN KEY (market_id) REFERENCES public.markets(id);

ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT ledger_entries_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.markets
    ADD CONSTRAINT markets_creator_id_fkey FOREIGN KEY (creator_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.positions
    ADD CONSTRAINT positions_market_id_fkey FOREIGN KEY (market_id) REFERENCES public.markets(id);

ALTER TABLE ONLY public.positions
    ADD CONSTRAINT positions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);
