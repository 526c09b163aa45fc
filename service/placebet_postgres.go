package service

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
	"socialpredict/repository"
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

// placeResult is the final row of placeBetSQL.
type placeResult struct {
	DuplicateID sql.NullInt64
	BetID       sql.NullInt64
	Probability sql.NullFloat64
	Cost        sql.NullInt64
	Locked      int64
	Status      sql.NullString
	ClosesAt    sql.NullTime
	PlacedAt    time.Time
}

// placeOneStatement places the bet with placeBetSQL, retrying a deadlock or
// serialization failure when not inside a caller's transaction. It talks to
// pgx directly: this is the hottest statement, and GORM's statement
// building would cost more than the database's work.
func (s *BetService) placeOneStatement(ctx context.Context, r betRequest) (*models.Bet, error) {
	yes, no := r.stakes()
	args := []any{r.userID, r.marketID, string(r.outcome), r.amount, yes, no, r.keyPtr(), r.now,
		s.econ.BuySharesFee, s.econ.InitialBetFee, s.econ.MaximumDebtAllowed,
		s.econ.InitialMarketProbability, s.econ.InitialMarketSubsidization, s.econ.InitialMarketYes, s.econ.InitialMarketNo}
	var res placeResult
	scan := func(row pgx.Row) error {
		return row.Scan(&res.DuplicateID, &res.BetID, &res.Probability, &res.Cost, &res.Locked, &res.Status, &res.ClosesAt, &res.PlacedAt)
	}
	err := s.dal.TxManager().Retry(ctx, func(ctx context.Context) error {
		return database.Raw(ctx, s.dal.DB(), func(dc any) error {
			conn, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("place bet: unexpected driver connection %T", dc)
			}
			c := conn.Conn()
			start := time.Now()
			var err error
			if database.InTransaction(ctx) {
				if _, err = c.Exec(ctx, lockBetRowsSQL, r.marketID, r.userID); err == nil {
					err = scan(c.QueryRow(ctx, placeBetSQL, args...))
				}
			} else {
				// One round trip: the lock and the bet are pipelined in one
				// transaction, and the bet's statement starts (and takes its
				// snapshot) only once the lock is held.
				b := &pgx.Batch{}
				b.Queue("BEGIN")
				b.Queue(lockBetRowsSQL, r.marketID, r.userID)
				b.Queue(placeBetSQL, args...).QueryRow(scan)
				b.Queue("COMMIT")
				err = c.SendBatch(ctx, b).Close()
			}
			database.Observe(ctx, s.dal.DB(), placeBetSQL, "bets", 1, start, err)
			return err
		})
	})
	if err != nil {
		err = repository.TranslateError(err)
		if errors.Is(err, repository.ErrConflict) && r.key != "" {
			// A concurrent request with the same key won: return its bet.
			return s.dal.Bets().GetByIdempotencyKey(ctx, r.userID, r.key)
		}
		return nil, err
	}
	switch {
	case res.BetID.Valid:
		return &models.Bet{ID: res.BetID.Int64, UserID: r.userID, MarketID: r.marketID, Outcome: r.outcome,
			Amount: r.amount, Fee: res.Cost.Int64 - r.amount, ProbabilityAfter: res.Probability.Float64,
			PlacedAt: res.PlacedAt.UTC(), IdempotencyKey: r.keyPtr()}, nil
	case res.DuplicateID.Valid:
		return s.dal.Bets().GetByID(ctx, res.DuplicateID.Int64)
	case res.Locked == 0:
		return nil, s.missing(ctx, r)
	case res.Status.String != string(models.MarketOpen) || !res.PlacedAt.Before(res.ClosesAt.Time):
		m := &models.Market{ID: r.marketID, Status: models.MarketStatus(res.Status.String), ClosesAt: res.ClosesAt.Time}
		return nil, openForBets(m, res.PlacedAt)
	default:
		return nil, fmt.Errorf("%w: user %d", repository.ErrInsufficientCredits, r.userID)
	}
}

// missing returns ErrNotFound naming whichever of the user and the market
// does not exist.
func (s *BetService) missing(ctx context.Context, r betRequest) error {
	if _, err := s.dal.Users().GetByID(ctx, r.userID); err != nil {
		return err
	}
	_, err := s.dal.Markets().GetByID(ctx, r.marketID)
	return err
}
