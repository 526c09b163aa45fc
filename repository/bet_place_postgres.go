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

// placeBetSQL is a whole bet in one PostgreSQL statement: a call of the
// function place_bet (migration 004 says what it does, step by step; 007 writes one ledger row per bet). Its
// plans are made once per connection, with prepared statements or without
// (PgBouncer), and outside a transaction the call is its own one.
// Parameters are typed here, so that the statement needs no describe round
// trip when statements are not prepared; they are passed in the order
// PlaceStatement lists them.
const placeBetSQL = `SELECT duplicate_id, bet_id, probability, cost, locked, status, closes_at, placed_at
FROM place_bet($1::bigint, $2::bigint, $3::text, $4::bigint, $5::bigint, $6::bigint, $7::text, $8::timestamptz,
	$9::bigint, $10::bigint, $11::bigint, $12::float8, $13::bigint, $14::bigint, $15::bigint)`

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

// scan reads a result row of place_bet into res.
func (res *placeRow) scan(row pgx.Row) error {
	return row.Scan(&res.DuplicateID, &res.BetID, &res.Probability, &res.Cost, &res.Locked, &res.Status, &res.ClosesAt, &res.PlacedAt)
}

// betSavepoint is the savepoint a bet runs in inside a caller's
// transaction, so that a refused bet leaves that transaction usable.
const betSavepoint = "place_bet"

// PlaceStatement places a bet on PostgreSQL with placeBetSQL. Outside a
// transaction the statement is its own transaction, one round trip, retried
// on a deadlock or serialization failure, with the server enforcing ctx's
// deadline (database.QueryAutocommit: past it, an errs.UnavailableError
// that says nothing was placed); inside the transaction ctx or the
// repository is bound to, it runs once in a savepoint of it (SAVEPOINT, the
// call and RELEASE pipelined in one round trip), so that a bet the database
// refuses rolls back to the savepoint and leaves the caller's transaction
// usable. A concurrent bet with the same idempotency key that commits first
// is returned as DuplicateID, inside a caller's transaction too. It talks to
// pgx directly: this is the hottest statement, and GORM's statement building
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
	scan := func(row pgx.Row) error { return res.scan(row) }
	// Retried as a transaction would be outside one; once inside one.
	err := r.db.Transactions().Transact(ctx, func(ctx context.Context) error {
		return r.db.Raw(ctx, func(dc any) error {
			conn, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("place bet: unexpected driver connection %T", dc)
			}
			start := time.Now()
			var err error
			if database.InTransaction(ctx) {
				err = placeInSavepoint(ctx, conn.Conn(), args, scan)
			} else {
				err = scan(database.QueryRowAutocommit(ctx, conn.Conn(), placeBetSQL, args...))
			}
			r.db.Observe(ctx, placeBetSQL, "bets", 1, start, err)
			return err
		})
	}, database.Autocommit())
	if err != nil {
		return nil, TranslateError(err)
	}
	return p.placement(res), nil
}

// placement is what the result row res of p's placement says.
func (p BetPlacement) placement(res placeRow) *Placement {
	out := &Placement{Found: res.Locked > 0 || res.DuplicateID.Valid, Status: models.MarketStatus(res.Status.String),
		ClosesAt: res.ClosesAt.Time.UTC(), PlacedAt: res.PlacedAt.UTC()}
	switch {
	case res.BetID.Valid:
		out.Bet = &models.Bet{ID: res.BetID.Int64, UserID: p.UserID, MarketID: p.MarketID, Outcome: p.Outcome,
			Amount: p.Amount, Fee: res.Cost.Int64 - p.Amount, ProbabilityAfter: res.Probability.Float64,
			PlacedAt: out.PlacedAt, IdempotencyKey: p.keyPtr()}
	case res.DuplicateID.Valid:
		out.DuplicateID = res.DuplicateID.Int64
	}
	return out
}

// placeInSavepoint runs placeBetSQL in the savepoint betSavepoint of the
// transaction open on c, pipelined with the savepoint's creation and
// release in one round trip; when it fails, it rolls back to the savepoint
// (and releases it), so that the transaction stays usable.
func placeInSavepoint(ctx context.Context, c *pgx.Conn, args []any, scan func(pgx.Row) error) error {
	b := &pgx.Batch{}
	b.Queue("SAVEPOINT " + betSavepoint)
	b.Queue(placeBetSQL, args...).QueryRow(scan)
	b.Queue("RELEASE SAVEPOINT " + betSavepoint)
	err := c.SendBatch(ctx, b).Close()
	if err == nil {
		return nil
	}
	// The simple protocol: the aborted transaction refuses to prepare
	// anything until the rollback.
	undo := "ROLLBACK TO SAVEPOINT " + betSavepoint + "; RELEASE SAVEPOINT " + betSavepoint
	if _, rbErr := c.PgConn().Exec(ctx, undo).ReadAll(); rbErr != nil {
		err = errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr))
	}
	return err
}
