package repository

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"socialpredict/models"
)

// RawPgx is the hand-written limit the benchmark suite measures the
// repository against: the same statements on a bare pgx pool, with no GORM,
// query monitor, retry wrapper or transaction manager. Its PlaceBet calls the
// same place_bet function with the same arguments as PlaceStatement, so it
// is the limit of the Go side, not a different algorithm. Only the benchmark
// uses it.
type RawPgx struct {
	pool *pgxpool.Pool
}

// NewRawPgx wraps pool (see database.OpenPgxPool).
func NewRawPgx(pool *pgxpool.Pool) *RawPgx { return &RawPgx{pool: pool} }

// Close closes the pool.
func (r *RawPgx) Close() { r.pool.Close() }

// PlaceBet places p (PostgreSQL, outside any transaction) with one call of
// place_bet and reports whether a bet was placed.
func (r *RawPgx) PlaceBet(ctx context.Context, p BetPlacement) (bool, error) {
	yes, no := p.stakes()
	var res placeRow
	err := r.pool.QueryRow(ctx, placeBetSQL, p.UserID, p.MarketID, string(p.Outcome), p.Amount, yes, no, p.keyPtr(), p.Now.UTC(),
		p.BuyFee, p.FirstFee, p.MaxDebt, p.P0, p.I0, p.Y0, p.N0).
		Scan(&res.DuplicateID, &res.BetID, &res.Probability, &res.Cost, &res.Locked, &res.Status, &res.ClosesAt, &res.PlacedAt)
	if err != nil {
		return false, TranslateError(err)
	}
	return res.BetID.Valid, nil
}

const rawMarketColumns = "id, creator_id, question_title, description, yes_label, no_label, closes_at, status, " +
	"resolution_result, resolved_at, yes_stake, no_stake, volume, bet_count, probability, created_at, updated_at"

// Market reads one market by id.
func (r *RawPgx) Market(ctx context.Context, id int64) (*models.Market, error) {
	rows, err := r.pool.Query(ctx, "SELECT "+rawMarketColumns+" FROM markets WHERE id = $1", id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[models.Market])
}

// BetsPage reads the page of limit bets of a market after the key
// (placedAfter, afterID) in the repository's default order (placed_at, id);
// first selects the first page. It returns the page and the key of its last
// row.
func (r *RawPgx) BetsPage(ctx context.Context, marketID int64, first bool, after *models.Bet, limit int) ([]*models.Bet, error) {
	q := "SELECT " + betColumns + " FROM bets WHERE market_id = $1 ORDER BY placed_at, id LIMIT $2"
	args := []any{marketID, limit}
	if !first {
		q = "SELECT " + betColumns + " FROM bets WHERE market_id = $1 AND (placed_at, id) > ($3, $4) ORDER BY placed_at, id LIMIT $2"
		args = append(args, after.PlacedAt, after.ID)
	}
	return r.bets(ctx, q, args...)
}

// BetsOffset reads limit bets of a market after skipping offset of them, in
// the same order: OFFSET pagination, for contrast with the keyset.
func (r *RawPgx) BetsOffset(ctx context.Context, marketID int64, offset, limit int) ([]*models.Bet, error) {
	return r.bets(ctx, "SELECT "+betColumns+" FROM bets WHERE market_id = $1 ORDER BY placed_at, id OFFSET $2 LIMIT $3",
		marketID, offset, limit)
}

func (r *RawPgx) bets(ctx context.Context, q string, args ...any) ([]*models.Bet, error) {
	rows, err := r.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[models.Bet])
}

// CopyBets inserts bets with one COPY (pgx CopyFrom), letting the database
// number them (their ID fields are not set), and returns the rows copied.
func (r *RawPgx) CopyBets(ctx context.Context, bets []*models.Bet) (int64, error) {
	cols := []string{"user_id", "market_id", "outcome", "amount", "fee", "probability_after", "placed_at", "idempotency_key"}
	return r.pool.CopyFrom(ctx, pgx.Identifier{"bets"}, cols, pgx.CopyFromSlice(len(bets), func(i int) ([]any, error) {
		b := bets[i]
		return []any{b.UserID, b.MarketID, string(b.Outcome), b.Amount, b.Fee, b.ProbabilityAfter, b.PlacedAt.UTC(), b.IdempotencyKey}, nil
	}))
}

// DeleteBetsAbove deletes the bets whose id is greater than id (the rows a
// bulk benchmark added) and returns how many it deleted.
func (r *RawPgx) DeleteBetsAbove(ctx context.Context, id int64) (int64, error) {
	tag, err := r.pool.Exec(ctx, "DELETE FROM bets WHERE id > $1", id)
	return tag.RowsAffected(), err
}

// MaxBetID returns the largest bet id, 0 without bets.
func (r *RawPgx) MaxBetID(ctx context.Context) (int64, error) {
	var id int64
	err := r.pool.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM bets").Scan(&id)
	return id, err
}

// Settings returns the server's version and the settings named (SHOW name).
func (r *RawPgx) Settings(ctx context.Context, names ...string) (map[string]string, error) {
	out := map[string]string{}
	var v string
	if err := r.pool.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return nil, err
	}
	out["server_version"] = v
	for _, n := range names {
		if strings.ContainsFunc(n, func(c rune) bool { return !(c == '_' || c >= 'a' && c <= 'z') }) {
			return nil, fmt.Errorf("setting %q: not a setting name", n)
		}
		if err := r.pool.QueryRow(ctx, "SHOW "+n).Scan(&v); err != nil {
			return nil, err
		}
		out[n] = v
	}
	return out, nil
}
