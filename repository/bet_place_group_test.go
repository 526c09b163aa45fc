package repository_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

// batchWorld is the same users and markets created in the same order in a
// fresh database, on a fixed clock, so that two of them hold the same rows.
type batchWorld struct {
	d       *dal.DataAccessLayer
	raw     *dal.DataAccessLayer // d on the real clock, as daltest.New made it
	tdb     *dbtest.TestDB
	users   []*models.User
	markets []*models.Market
}

// newBatchWorld creates the users (balances as given) and the markets: 0
// and 1 open, 2 closed, 3 past its closing time; 0 has a first bet.
func newBatchWorld(t *testing.T, engine dbtest.Engine, balances []int64) *batchWorld {
	raw, tdb := daltest.New(t, engine)
	d := raw.WithClock(func() time.Time { return daltest.Now })
	w := &batchWorld{d: d, raw: raw, tdb: tdb}
	for i, b := range balances {
		w.users = append(w.users, daltest.User(t, d, func(u *models.User) {
			u.Username, u.DisplayName, u.Email = fmt.Sprintf("batch_%d", i), fmt.Sprintf("Batch %d", i), fmt.Sprintf("b%d@example.com", i)
			u.Balance, u.InitialBalance = b, b
		}))
	}
	for i, set := range []func(*models.Market){
		func(*models.Market) {},
		func(*models.Market) {},
		func(m *models.Market) { m.Status = models.MarketClosed },
		func(m *models.Market) { m.ClosesAt = daltest.Now.Add(-time.Minute) },
	} {
		w.markets = append(w.markets, daltest.Market(t, d, w.users[0].ID, func(m *models.Market) {
			m.QuestionTitle = fmt.Sprintf("Batch question %d", i)
			set(m)
		}))
	}
	return w
}

// dump returns every row of the tables a bet writes, ordered, as text.
func (w *batchWorld) dump(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, q := range map[string]string{
		"users":     "SELECT id, balance, updated_at FROM users ORDER BY id",
		"markets":   "SELECT id, status, yes_stake, no_stake, volume, bet_count, probability, updated_at FROM markets ORDER BY id",
		"bets":      "SELECT id, user_id, market_id, outcome, amount, fee, probability_after, placed_at, idempotency_key FROM bets ORDER BY id",
		"positions": "SELECT user_id, market_id, yes_stake, no_stake, bet_count, first_bet_at, updated_at FROM positions ORDER BY user_id, market_id",
		"ledger":    "SELECT id, user_id, market_id, bet_id, kind, amount, fee, balance_after, created_at FROM ledger_entries ORDER BY id",
	} {
		rows, err := w.tdb.DB.Raw(q).Rows()
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			for i, v := range vals {
				if tm, ok := v.(time.Time); ok {
					vals[i] = tm.UTC().Format(time.RFC3339Nano)
				}
			}
			out[table] = append(out[table], fmt.Sprint(vals...))
		}
		rows.Close()
	}
	return out
}

// TestPlaceBatchSameAsOneByOne: a batch of bets placed together (one call
// of place_bets on PostgreSQL) is accepted or refused bet by bet exactly as
// the same bets placed one by one in the same order: the same results, and
// the same rows in every table a bet writes. The batch holds every case:
// a first and a later bet (the first-bet fee once), an idempotency key used
// twice in the batch and one used before it, a key of a refused bet used
// again, a user running out of credits mid-batch, the debt floor, a closed
// market, a market past its closing time, an unknown user and market, a
// clock behind the market's latest bet.
func TestPlaceBatchSameAsOneByOne(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		ctx := t.Context()
		balances := []int64{1000, 1000, 1000, 12, 1000, 1000, 3, 0}
		batched, alone := newBatchWorld(t, engine, balances), newBatchWorld(t, engine, balances)
		u := func(i int) int64 { return batched.users[i].ID }
		m := func(i int) int64 { return batched.markets[i].ID }
		bet := func(user, market int64, o models.Outcome, amount int64, opts ...func(*repository.BetPlacement)) repository.BetPlacement {
			p := repository.BetPlacement{UserID: user, MarketID: market, Outcome: o, Amount: amount, Now: daltest.Now,
				FirstFee: 1, P0: 0.5, I0: 10}
			for _, o := range opts {
				o(&p)
			}
			return p
		}
		key := func(k string) func(*repository.BetPlacement) { return func(p *repository.BetPlacement) { p.Key = k } }
		yes, no := models.OutcomeYes, models.OutcomeNo
		before := []repository.BetPlacement{
			bet(u(1), m(1), yes, 7, key("old")),
			bet(u(4), m(0), no, 3, func(p *repository.BetPlacement) { p.Now = daltest.Now.Add(time.Minute) }),
		}
		batch := []repository.BetPlacement{
			bet(u(1), m(0), yes, 10),
			bet(u(1), m(0), no, 5),
			bet(u(2), m(0), yes, 5, key("a")),
			bet(u(2), m(1), yes, 5, key("a")),
			bet(u(1), m(1), yes, 7, key("old")),
			bet(u(3), m(0), yes, 10),
			bet(u(3), m(1), yes, 5),
			bet(u(4), m(2), yes, 5),
			bet(u(4), m(3), yes, 5),
			bet(1<<40, m(0), yes, 5),
			bet(u(4), 1<<40, yes, 5),
			bet(u(5), m(1), no, 20, key("b"), func(p *repository.BetPlacement) { p.Now = daltest.Now.Add(-time.Hour) }),
			bet(u(5), m(1), no, 20, key("b")),
			bet(u(2), m(1), yes, 3, key("c")),
			bet(u(0), m(0), yes, 50),
			bet(u(3), m(0), no, 1),
			bet(u(6), m(0), yes, 5, key("z")),
			bet(u(6), m(0), yes, 2, key("z")),
			bet(u(7), m(1), yes, 50, func(p *repository.BetPlacement) { p.MaxDebt = 100 }),
			bet(u(7), m(1), yes, 50, func(p *repository.BetPlacement) { p.MaxDebt = 100 }),
		}
		for _, w := range []*batchWorld{batched, alone} {
			for _, p := range before {
				if _, err := w.d.Bets().Place(ctx, p); err != nil {
					t.Fatalf("bet before the batch: %v", err)
				}
			}
		}
		got, gotErrs := repository.PlaceBatch(ctx, batched.d.Bets(), batch)
		for i, p := range batch {
			want, err := repository.PlaceAlone(ctx, alone.d.Bets(), p)
			if fmt.Sprint(gotErrs[i]) != fmt.Sprint(err) {
				t.Errorf("bet %d: batched error %v, alone %v", i+1, gotErrs[i], err)
				continue
			}
			if diff := cmp.Diff(want, got[i]); diff != "" {
				t.Errorf("bet %d: batched placement differs from placing it alone (-alone +batched):\n%s", i+1, diff)
			}
		}
		if diff := cmp.Diff(alone.dump(t), batched.dump(t)); diff != "" {
			t.Errorf("rows after the batch differ from placing the bets one by one (-alone +batched):\n%s", diff)
		}
		accepted := 0
		for _, p := range got {
			if p != nil && p.Bet != nil {
				accepted++
			}
		}
		if accepted < 10 || accepted == len(batch) {
			t.Errorf("%d of %d bets accepted: the batch should mix accepted and refused bets", accepted, len(batch))
		}
		rules := repository.InvariantRules{MaximumDebtAllowed: 100, InitialBetFee: 1}
		if v, err := batched.d.Invariants().Check(ctx, rules); err != nil || len(v) != 0 {
			t.Errorf("invariants after the batch: %v %v", v, err)
		}
	})
}

// groupMetric returns the sample count and sum of
// db_group_commit_batch_size{group="bets"}, and
// db_group_commit_fallbacks_total{group="bets"}, of the handle.
func groupMetric(t *testing.T, h *database.DB) (batches uint64, bets float64, fallbacks float64) {
	t.Helper()
	mfs, err := h.Gatherer().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "db_group_commit_batch_size":
				batches += m.GetHistogram().GetSampleCount()
				bets += m.GetHistogram().GetSampleSum()
			case "db_group_commit_fallbacks_total":
				fallbacks += m.GetCounter().GetValue()
			}
		}
	}
	return batches, bets, fallbacks
}

// TestPlaceBatchFallsBackOneByOne: when the batch's statement fails as a
// whole (here a bet of amount 0, which only the database refuses), its bets
// are placed again one by one: the bet at fault fails on its own, with the
// error it gets alone, and its neighbours are placed.
func TestPlaceBatchFallsBackOneByOne(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		ctx := t.Context()
		w := newBatchWorld(t, engine, []int64{1000, 1000, 1000})
		bet := func(user int, amount int64) repository.BetPlacement {
			return repository.BetPlacement{UserID: w.users[user].ID, MarketID: w.markets[0].ID, Outcome: models.OutcomeYes,
				Amount: amount, Now: daltest.Now, FirstFee: 1, P0: 0.5, I0: 10}
		}
		got, gotErrs := repository.PlaceBatch(ctx, w.d.Bets(), []repository.BetPlacement{bet(0, 10), bet(1, 0), bet(2, 10)})
		for _, i := range []int{0, 2} {
			if gotErrs[i] != nil || got[i] == nil || got[i].Bet == nil {
				t.Errorf("bet %d: %+v, %v; want it placed", i+1, got[i], gotErrs[i])
			}
		}
		wantConstraint(t, "bet of 0", gotErrs[1], errs.ErrInvalidInput, "amount")
		if _, _, fallbacks := groupMetric(t, w.tdb.Handle); engine == dbtest.Postgres && fallbacks != 1 {
			t.Errorf("db_group_commit_fallbacks_total = %v, want 1", fallbacks)
		}
		if n := countRows(t, w.raw, &models.Bet{}); n != 2 {
			t.Errorf("%d bets stored, want 2", n)
		}
	})
}

// TestPlaceBatchServerEnforcesDeadline: a batch that waits for a market's
// row lock past its deadline (the earliest of its bets') is cancelled by
// PostgreSQL: the bet whose deadline passed fails with an
// errs.UnavailableError that says nothing was placed, the other bet (no
// deadline) is placed alone once the lock comes free, and only that bet is
// stored. Before, the connection was closed at the deadline, every bet got
// "may have committed", and the batch committed both when the lock came
// free.
func TestPlaceBatchServerEnforcesDeadline(t *testing.T) {
	t.Parallel()
	w := newBatchWorld(t, dbtest.Postgres, []int64{1000, 1000})
	bet := func(user int) repository.BetPlacement {
		return repository.BetPlacement{UserID: w.users[user].ID, MarketID: w.markets[0].ID, Outcome: models.OutcomeYes,
			Amount: 10, Now: daltest.Now, FirstFee: 1, P0: 0.5, I0: 10}
	}
	lock := w.tdb.DB.Begin()
	if err := lock.Exec("SELECT id FROM markets WHERE id = ? FOR UPDATE", w.markets[0].ID).Error; err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	short, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	type result struct {
		got  []*repository.Placement
		errs []error
	}
	done := make(chan result, 1)
	go func() {
		got, errs := repository.PlaceBatchOf(short, []context.Context{short, t.Context()}, w.d.Bets(),
			[]repository.BetPlacement{bet(0), bet(1)})
		done <- result{got, errs}
	}()
	<-short.Done()
	time.Sleep(300 * time.Millisecond) // the batch was cancelled; bet 2 waits alone
	if err := lock.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	r := <-done
	var ue *errs.UnavailableError
	if !errors.As(r.errs[0], &ue) || ue.MayHaveCommitted {
		t.Errorf("bet past its deadline: %+v, %v; want an UnavailableError with MayHaveCommitted false", r.got[0], r.errs[0])
	}
	if r.errs[1] != nil || r.got[1] == nil || r.got[1].Bet == nil {
		t.Errorf("bet without a deadline: %+v, %v; want it placed alone", r.got[1], r.errs[1])
	}
	if n := countRows(t, w.raw, &models.Bet{}); n != 1 {
		t.Errorf("%d bets stored, want 1", n)
	}
}

// TestGroupCommitOnHotMarket: bettors on one market through Place go
// through the group commit on PostgreSQL: they are batched (fewer batches
// than bets), every bet is accepted, and the market, the positions, the
// ledger and the balances agree with them (db check), and each bettor's
// unit of work counts one statement per bet on PostgreSQL, batched or not. A lone bettor's bets
// each go alone (a batch of one each: no waiting for company).
func TestGroupCommitOnHotMarket(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		ctx := t.Context()
		const bettors, each = 16, 12
		balances := make([]int64, bettors)
		for i := range balances {
			balances[i] = 10_000
		}
		w := newBatchWorld(t, engine, balances)
		bet := func(user int, amount int64) repository.BetPlacement {
			return repository.BetPlacement{UserID: w.users[user].ID, MarketID: w.markets[0].ID, Outcome: models.OutcomeNo,
				Amount: amount, Now: daltest.Now, FirstFee: 1, P0: 0.5, I0: 10}
		}
		for i := range 5 {
			if _, err := w.d.Bets().Place(ctx, bet(0, int64(i+1))); err != nil {
				t.Fatalf("lone bet: %v", err)
			}
		}
		if batches, bets, _ := groupMetric(t, w.tdb.Handle); engine == dbtest.Postgres && (batches != 5 || bets != 5) {
			t.Errorf("a lone bettor's 5 bets went in %d batches holding %v bets, want 5 batches of one", batches, bets)
		}

		var wg sync.WaitGroup
		failures := make(chan error, bettors*each)
		for u := range bettors {
			wg.Go(func() {
				ctx, scope := database.WithQueryScope(ctx)
				defer func() {
					if got := scope.Queries(); engine == dbtest.Postgres && got != each {
						failures <- fmt.Errorf("bettor %d's unit of work counted %d statements for %d bets, want one each", u, got, each)
					}
				}()
				for i := range each {
					res, err := w.d.Bets().Place(ctx, bet(u, int64(1+i%5)))
					if err == nil && (res == nil || res.Bet == nil) {
						err = fmt.Errorf("bet refused: %+v", res)
					}
					if err != nil {
						failures <- err
					}
				}
			})
		}
		wg.Wait()
		close(failures)
		for err := range failures {
			t.Errorf("bettor: %v", err)
		}
		batches, bets, _ := groupMetric(t, w.tdb.Handle)
		if engine == dbtest.Postgres && (bets != 5+bettors*each || batches >= uint64(bets)) {
			t.Errorf("%v bets went in %d batches: want all %d, batched (fewer batches than bets)", bets, batches, 5+bettors*each)
		}
		m, err := w.d.Markets().GetByID(ctx, w.markets[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.BetCount != 5+bettors*each {
			t.Errorf("market bet_count %d, want %d", m.BetCount, 5+bettors*each)
		}
		if v, err := w.d.Invariants().Check(ctx, repository.InvariantRules{InitialBetFee: 1}); err != nil || len(v) != 0 {
			t.Errorf("invariants: %v %v", v, err)
		}
	})
}
