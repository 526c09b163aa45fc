package repository

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"socialpredict/database"
	"socialpredict/models"
)

// placeBetSQL is a whole bet in one PostgreSQL statement, run after
// lockBetRowsSQL in one transaction pipelined in one round trip (instead of
// six), or inside the caller's transaction.
//
//   - a types the parameters once; t is the bet's time, never before the
//     market's latest bet.
//   - dup finds the bet a repeated idempotency key placed.
//   - lk locks the market and the user row (FOR NO KEY UPDATE), so that the
//     checks made on them (open, balance) hold for the updates below. The
//     rows are already locked by lockBetRowsSQL, run just before in the same
//     transaction, so this statement's snapshot sees every earlier bet
//     (positions, idempotency keys), not only the re-read locked rows.
//   - g is the gate: only an open market passes, with the bet's cost (the
//     first-bet fee decided from the positions aggregate).
//   - u debits the user, guarded in SQL (never read-modify-write); every
//     later part depends on u's row, so a rejected debit writes nothing.
//   - m updates the market aggregates and the WPAM probability from the
//     newest stakes; b, p and l insert the bet (with the probability after
//     it), the position and the ledger rows.
//
// The final row tells the caller what happened; a failure in any part (a
// concurrent duplicate idempotency key, say) aborts the whole statement.
// Parameters ($1...) are only read by a, in the order placeOneStatement
// passes them.
const placeBetSQL = `
WITH a AS (
	SELECT $1::bigint AS user_id, $2::bigint AS market_id, $3::text AS outcome, $4::bigint AS amount,
		$5::bigint AS yes, $6::bigint AS no, $7::text AS key, $8::timestamptz AS now,
		$9::bigint AS buy_fee, $10::bigint AS first_fee, $11::bigint AS max_debt,
		$12::float8 AS p0, $13::bigint AS i0, $14::bigint AS y0, $15::bigint AS n0
),
t AS (
	-- The bet's time: never before the market's latest bet, so that
	-- (placed_at, id) follows the order in which bets took the market lock.
	SELECT GREATEST(a.now, COALESCE((SELECT max(placed_at) FROM bets WHERE market_id = a.market_id), a.now)) AS at FROM a
),
dup AS (
	SELECT bets.id FROM bets, a
	WHERE a.key IS NOT NULL AND bets.user_id = a.user_id AND bets.idempotency_key = a.key
),
lk AS (
	SELECT m.status, m.closes_at, u.balance,
		EXISTS (SELECT 1 FROM positions p WHERE p.user_id = a.user_id AND p.market_id = a.market_id) AS has_position
	FROM markets m, users u, a
	WHERE m.id = a.market_id AND u.id = a.user_id AND NOT EXISTS (SELECT 1 FROM dup)
	FOR NO KEY UPDATE OF m, u
),
g AS (
	SELECT a.amount + a.buy_fee + CASE WHEN lk.has_position THEN 0 ELSE a.first_fee END AS cost
	FROM lk, a, t WHERE lk.status = 'OPEN' AND lk.closes_at > t.at
),
u AS (
	UPDATE users SET balance = users.balance - g.cost, updated_at = t.at
	FROM g, a, t WHERE users.id = a.user_id AND users.balance - g.cost >= -a.max_debt
	RETURNING users.balance, g.cost
),
m AS (
	UPDATE markets SET
		yes_stake = markets.yes_stake + a.yes,
		no_stake = markets.no_stake + a.no,
		volume = markets.volume + a.amount,
		bet_count = markets.bet_count + 1,
		probability = (a.p0 * a.i0 + a.y0 + markets.yes_stake + a.yes)
			/ (a.i0 + a.y0 + a.n0 + markets.yes_stake + a.yes + markets.no_stake + a.no),
		updated_at = t.at
	FROM u, a, t WHERE markets.id = a.market_id
	RETURNING markets.probability
),
b AS (
	INSERT INTO bets (user_id, market_id, outcome, amount, fee, probability_after, placed_at, idempotency_key)
	SELECT a.user_id, a.market_id, a.outcome, a.amount, u.cost - a.amount, m.probability, t.at, a.key FROM a, t, u, m
	RETURNING id
),
p AS (
	INSERT INTO positions (user_id, market_id, yes_stake, no_stake, bet_count, first_bet_at, updated_at)
	SELECT a.user_id, a.market_id, a.yes, a.no, 1, t.at, t.at FROM a, t, b
	ON CONFLICT (user_id, market_id) DO UPDATE SET
		yes_stake = positions.yes_stake + excluded.yes_stake,
		no_stake = positions.no_stake + excluded.no_stake,
		bet_count = positions.bet_count + 1,
		updated_at = excluded.updated_at
),
l AS (
	INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, balance_after, created_at)
	SELECT a.user_id, a.market_id, b.id, 'BET', -a.amount, u.balance + u.cost - a.amount, t.at FROM a, t, b, u
	UNION ALL
	SELECT a.user_id, a.market_id, b.id, 'BET_FEE', a.amount - u.cost, u.balance, t.at FROM a, t, b, u WHERE u.cost > a.amount
)
SELECT (SELECT id FROM dup) AS duplicate_id,
	(SELECT id FROM b) AS bet_id,
	(SELECT probability FROM m) AS probability,
	(SELECT cost FROM u) AS cost,
	(SELECT count(*) FROM lk) AS locked,
	(SELECT status FROM lk) AS status,
	(SELECT closes_at FROM lk) AS closes_at,
	(SELECT at FROM t) AS placed_at`

// lockBetRowsSQL locks the market, then the user, before placeBetSQL runs in
// the same transaction. placeBetSQL locks them too, but a statement reads
// with the snapshot it started with: only the locked rows are re-read after
// a wait. Taking the locks in an earlier statement makes placeBetSQL's whole
// snapshot (the positions that decide the first-bet fee, the idempotency
// keys) newer than every bet that held them before.
const lockBetRowsSQL = `SELECT (SELECT 1 FROM markets WHERE id = $1 FOR NO KEY UPDATE),
	(SELECT 1 FROM users WHERE id = $2 FOR NO KEY UPDATE)`

// BetPlacement is a validated bet for Place, with the economics that price
// it.
type BetPlacement struct {
	UserID, MarketID int64
	Outcome          models.Outcome
	Amount           int64
	// Key is the idempotency key ("" for none).
	Key string
	// Now is the service's clock; the bet's time is never before the
	// market's latest bet.
	Now time.Time
	// BuyFee, FirstFee and MaxDebt are buy_shares_fee, initial_bet_fee and
	// maximum_debt_allowed.
	BuyFee, FirstFee, MaxDebt int64
	// P0, I0, Y0 and N0 are the WPAM seeds.
	P0         float64
	I0, Y0, N0 int64
	// Interactive places the bet as an interactive transaction on
	// PostgreSQL too (see Place), for benchmarks and tests that compare the
	// two paths.
	Interactive bool
}

// Placement is what Place did: Bet is the bet placed, or the one first
// placed with the idempotency key (then DuplicateID is its ID; the one
// statement sets only DuplicateID); with neither, Found, Status, ClosesAt
// and PlacedAt tell why the bet was refused.
type Placement struct {
	// Bet is the bet placed, nil when none was.
	Bet *models.Bet
	// DuplicateID is the bet first placed with the idempotency key (0: none).
	DuplicateID int64
	// Found is false when the user or the market does not exist.
	Found bool
	// Status and ClosesAt are the market's, PlacedAt the bet's time: the
	// market was closed at PlacedAt, or else the user lacked credits.
	Status   models.MarketStatus
	ClosesAt time.Time
	PlacedAt time.Time
}

// placeRow is the final row of placeBetSQL.
type placeRow struct {
	DuplicateID sql.NullInt64
	BetID       sql.NullInt64
	Probability sql.NullFloat64
	Cost        sql.NullInt64
	Locked      int64
	Status      sql.NullString
	ClosesAt    sql.NullTime
	PlacedAt    time.Time
}

// betSavepoint is the savepoint a bet runs in inside a caller's
// transaction, so that a refused bet leaves that transaction usable.
const betSavepoint = "place_bet"

// PlaceStatement places a bet on PostgreSQL with placeBetSQL. Outside a
// transaction it sends BEGIN, the lock statement, the bet and COMMIT in one
// round trip, retried on a deadlock or serialization failure; inside the
// transaction ctx or the repository is bound to, it runs once in a
// savepoint of it, so that a bet the database refuses rolls back to the
// savepoint and leaves the caller's transaction usable. It talks to pgx
// directly: this is the hottest statement, and GORM's statement building
// would cost more than the database's work.
//
// Errors are translated (TranslateError); on SQLite it returns
// errors.ErrUnsupported.
func (r *betRepository) PlaceStatement(ctx context.Context, p BetPlacement) (*Placement, error) {
	if r.db.Driver() != database.DriverPostgres {
		return nil, fmt.Errorf("%w: one-statement bets on %s", errors.ErrUnsupported, r.db.Driver())
	}
	ctx = r.db.Context(ctx)
	yes, no := p.stakes()
	key := p.keyPtr()
	args := []any{p.UserID, p.MarketID, string(p.Outcome), p.Amount, yes, no, key, p.Now.UTC(),
		p.BuyFee, p.FirstFee, p.MaxDebt, p.P0, p.I0, p.Y0, p.N0}
	var res placeRow
	scan := func(row pgx.Row) error {
		return row.Scan(&res.DuplicateID, &res.BetID, &res.Probability, &res.Cost, &res.Locked, &res.Status, &res.ClosesAt, &res.PlacedAt)
	}
	// Retried as a transaction would be outside one; once inside one.
	err := r.db.Transactions().Transact(ctx, func(ctx context.Context) error {
		return r.db.Raw(ctx, func(dc any) error {
			conn, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("place bet: unexpected driver connection %T", dc)
			}
			c := conn.Conn()
			start := time.Now()
			// One round trip either way: the lock and the bet are pipelined,
			// and the bet's statement starts (and takes its snapshot) only once
			// the lock is held.
			b := &pgx.Batch{}
			inTx := database.InTransaction(ctx)
			if inTx {
				b.Queue("SAVEPOINT " + betSavepoint)
			} else {
				b.Queue("BEGIN")
			}
			b.Queue(lockBetRowsSQL, p.MarketID, p.UserID)
			b.Queue(placeBetSQL, args...).QueryRow(scan)
			if inTx {
				b.Queue("RELEASE SAVEPOINT " + betSavepoint)
			} else {
				b.Queue("COMMIT")
			}
			err := c.SendBatch(ctx, b).Close()
			if err != nil && inTx {
				// The simple protocol: the aborted transaction refuses to
				// prepare anything until the rollback.
				undo := "ROLLBACK TO SAVEPOINT " + betSavepoint + "; RELEASE SAVEPOINT " + betSavepoint
				if _, rbErr := c.PgConn().Exec(ctx, undo).ReadAll(); rbErr != nil {
					err = errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr))
				}
			}
			r.db.Observe(ctx, placeBetSQL, "bets", 1, start, err)
			return err
		})
	}, database.Autocommit())
	if err != nil {
		return nil, TranslateError(err)
	}
	out := &Placement{Found: res.Locked > 0 || res.DuplicateID.Valid, Status: models.MarketStatus(res.Status.String),
		ClosesAt: res.ClosesAt.Time.UTC(), PlacedAt: res.PlacedAt.UTC()}
	switch {
	case res.BetID.Valid:
		out.Bet = &models.Bet{ID: res.BetID.Int64, UserID: p.UserID, MarketID: p.MarketID, Outcome: p.Outcome,
			Amount: p.Amount, Fee: res.Cost.Int64 - p.Amount, ProbabilityAfter: res.Probability.Float64,
			PlacedAt: out.PlacedAt, IdempotencyKey: key}
	case res.DuplicateID.Valid:
		out.DuplicateID = res.DuplicateID.Int64
	}
	return out, nil
}
