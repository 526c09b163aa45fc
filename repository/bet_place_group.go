package repository

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"socialpredict/database"
	"socialpredict/errs"
)

// betGroup names the bets' group commit (db_group_commit_batch_size{group="bets"}).
const betGroup = "bets"

// placeBetsSQL places a batch of bets in one statement: a call of the
// function place_bets (migration 008), one array per parameter of
// placeBetSQL, one result row per bet with its 1-based position first.
const placeBetsSQL = `SELECT ord, duplicate_id, bet_id, probability, cost, locked, status, closes_at, placed_at
FROM place_bets($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[],
	$8::timestamptz[], $9::bigint[], $10::bigint[], $11::bigint[], $12::float8[], $13::bigint[], $14::bigint[], $15::bigint[])`

// groupedBet is a bet waiting in the group commit, with its caller's
// context (its unit of work, for the statement count).
type groupedBet struct {
	ctx context.Context
	p   BetPlacement
}

// placed is the outcome of one bet of a batch: its placement or error, or
// alone, when its caller is to place it alone (placeAlone), within its own
// deadline, in its own goroutine rather than the batch's leader's.
type placed struct {
	placement *Placement
	err       error
	alone     bool
}

// placeGrouped places p through the database's group commit (see
// database.Group): at once and alone with PlaceStatement when fewer than
// group_commit.max_in_flight batches are running, else with the bets
// that wait with it, in one call of place_bets (placeBatch). It returns
// ctx's error when ctx ended while the bet waited (then nothing was
// written).
func (r *betRepository) placeGrouped(ctx context.Context, p BetPlacement) (*Placement, error) {
	res, err := database.GroupOf(r.db, betGroup, r.placeBatch, lockedRows).Do(ctx, groupedBet{ctx: ctx, p: p})
	if err != nil {
		return nil, err
	}
	if res.alone {
		return r.placeAlone(ctx, p)
	}
	return res.placement, res.err
}

// lockedRows are the rows a bet locks: its market and its user.
func lockedRows(b groupedBet) []database.GroupKey {
	return []database.GroupKey{{Table: "markets", ID: b.p.MarketID}, {Table: "users", ID: b.p.UserID}}
}

// placeBatch places a batch of bets of placeGrouped, in order: one bet
// alone (placeAlone), more with place_bets in one statement. When that
// statement fails as a whole and surely wrote nothing (the database
// reported an error, or the statement never reached it), each bet is placed
// again alone, in order, so that the bet at fault fails on its own and the
// others are placed. When it surely placed nothing for want of time or of
// a server (an errs.UnavailableError that did not commit, such as the
// server's cancellation for the batch's deadline, the earliest of its
// bets'), the bets with that deadline fail with it, and the others are
// left to their callers to place alone (placed.alone).
// Any other failure (the connection lost while the statement ran, or the server's
// answer later than the deadline) is every bet's error, an
// errs.UnavailableError that may have committed.
// The batch's statement is observed once, on ctx (the first caller's), and
// counted in every other caller's unit of work; bets placed alone run on
// their callers' contexts.
func (r *betRepository) placeBatch(ctx context.Context, bets []groupedBet) []placed {
	out := make([]placed, len(bets))
	if len(bets) > 1 && r.db.Driver() == database.DriverPostgres {
		ps := make([]BetPlacement, len(bets))
		for i, b := range bets {
			ps[i] = b.p
		}
		err := r.placeMany(ctx, ps, out)
		if err == nil {
			for _, b := range bets[1:] {
				r.db.ObserveShared(b.ctx, placeBetsSQL, "bets")
			}
			return out
		}
		var ue *errs.UnavailableError
		if errors.As(err, &ue) && !ue.MayHaveCommitted {
			// Nothing was placed, for want of time or of a server: the
			// server cancelled the batch before its deadline, the earliest
			// of its bets' (database.QueryAutocommit), no connection came
			// free by then, or none could be opened. The bets with that
			// deadline (or one already passed) fail so; the others are
			// placed alone by their own callers, each within its own
			// deadline (placed in turn here, they would keep this batch's
			// leader waiting past its own).
			end, _ := ctx.Deadline()
			for i, b := range bets {
				if mine, ok := b.ctx.Deadline(); b.ctx.Err() != nil || ok && !mine.After(end) {
					out[i] = placed{err: err}
				} else {
					out[i] = placed{alone: true}
				}
			}
			return out
		}
		var pgErr *pgconn.PgError
		if ctx.Err() != nil && !database.IsUnavailable(err) {
			// The batch's deadline (its earliest bet's) passed, or every
			// caller went away: like a bet cut off by its deadline, the
			// outcome is unknown to each of them.
			err = &errs.UnavailableError{Err: fmt.Errorf("group commit: the batch of %d bets ended before its answer (the earliest deadline of its bets): %w",
				len(bets), err), MayHaveCommitted: true}
			for i := range out {
				out[i] = placed{err: err}
			}
			return out
		}
		if !errors.As(err, &pgErr) && !pgconn.SafeToRetry(err) {
			err = TranslateError(err)
			for i := range out {
				out[i] = placed{err: err}
			}
			return out
		}
		database.GroupOf(r.db, betGroup, r.placeBatch, lockedRows).Fallback()
		r.db.Logger().WarnContext(ctx, "group commit: batch failed, placing its bets one by one",
			"bets", len(bets), "error", TranslateError(err))
	}
	if len(bets) == 1 {
		// Alone: on the batch's context, which is the caller's.
		out[0].placement, out[0].err = r.placeAlone(ctx, bets[0].p)
		return out
	}
	for i, b := range bets {
		out[i].placement, out[i].err = r.placeAlone(b.ctx, b.p)
	}
	return out
}

// placeAlone places one bet of a batch: with PlaceStatement on PostgreSQL,
// as an interactive transaction on SQLite (which never groups bets; see
// Place).
func (r *betRepository) placeAlone(ctx context.Context, p BetPlacement) (*Placement, error) {
	if r.db.Driver() == database.DriverPostgres {
		return r.PlaceStatement(ctx, p)
	}
	return r.placeInTransaction(ctx, p)
}

// placeMany places ps with one call of place_bets, outside any
// transaction (the statement is its own), retried on a deadlock or
// serialization failure, and sets each bet's placement in out. It returns
// the statement's error untranslated.
func (r *betRepository) placeMany(ctx context.Context, ps []BetPlacement, out []placed) error {
	n := len(ps)
	var (
		users, markets, amounts, yes, no = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		buyFees, firstFees, maxDebts     = make([]int64, n), make([]int64, n), make([]int64, n)
		i0s, y0s, n0s                    = make([]int64, n), make([]int64, n), make([]int64, n)
		p0s                              = make([]float64, n)
		outcomes                         = make([]string, n)
		keys                             = make([]*string, n)
		nows                             = make([]time.Time, n)
	)
	for i, p := range ps {
		users[i], markets[i], outcomes[i], amounts[i] = p.UserID, p.MarketID, string(p.Outcome), p.Amount
		yes[i], no[i] = p.stakes()
		keys[i], nows[i] = p.keyPtr(), p.Now.UTC()
		buyFees[i], firstFees[i], maxDebts[i] = p.BuyFee, p.FirstFee, p.MaxDebt
		p0s[i], i0s[i], y0s[i], n0s[i] = p.P0, p.I0, p.Y0, p.N0
	}
	args := []any{users, markets, outcomes, amounts, yes, no, keys, nows, buyFees, firstFees, maxDebts, p0s, i0s, y0s, n0s}
	rows := make([]placeRow, n)
	err := r.db.Transactions().Transact(ctx, func(ctx context.Context) error {
		return r.db.Raw(ctx, func(dc any) error {
			conn, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("place bets: unexpected driver connection %T", dc)
			}
			start := time.Now()
			got, err := scanBatch(ctx, conn, args, rows)
			if err == nil && got != n {
				err = fmt.Errorf("place bets: %d result rows for %d bets", got, n)
			}
			r.db.Observe(ctx, placeBetsSQL, "bets", int64(n), start, err)
			return err
		})
	}, database.Autocommit())
	if err != nil {
		return err
	}
	for i, p := range ps {
		out[i] = placed{placement: p.placement(rows[i])}
	}
	return nil
}

// scanBatch runs placeBetsSQL with args on conn and reads each result row
// into rows at its position; it returns how many rows it read. Outside a
// transaction the server enforces ctx's deadline (database.QueryAutocommit).
func scanBatch(ctx context.Context, conn *stdlib.Conn, args []any, rows []placeRow) (int, error) {
	var (
		rs  pgx.Rows
		err error
	)
	if database.InTransaction(ctx) {
		rs, err = conn.Conn().Query(ctx, placeBetsSQL, args...)
	} else {
		rs, err = database.QueryAutocommit(ctx, conn.Conn(), placeBetsSQL, args...)
	}
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	got := 0
	for rs.Next() {
		var (
			ord int
			res placeRow
		)
		if err := rs.Scan(&ord, &res.DuplicateID, &res.BetID, &res.Probability, &res.Cost, &res.Locked,
			&res.Status, &res.ClosesAt, &res.PlacedAt); err != nil {
			return got, err
		}
		if ord < 1 || ord > len(rows) {
			return got, fmt.Errorf("place bets: result row for bet %d of %d", ord, len(rows))
		}
		rows[ord-1] = res
		got++
	}
	return got, rs.Err()
}
