package repository_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/repository"
)

// betRow is a ledger row without its identity, to compare rows written
// by different bets.
type betRow struct {
	Kind                       models.LedgerKind
	Amount, Fee, BalanceAfter  int64
	SameUser, SameMkt, SameBet bool
}

// betRows returns the ledger rows of user u in order, each checked
// against bet b when it names one.
func betRows(t *testing.T, d *dal.DataAccessLayer, u *models.User, bets ...*models.Bet) []betRow {
	t.Helper()
	page, err := d.Ledger().ListByUser(t.Context(), u.ID, repository.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var out []betRow
	for i, e := range page.Items {
		r := betRow{Kind: e.Kind, Amount: e.Amount, Fee: e.Fee, BalanceAfter: e.BalanceAfter, SameUser: e.UserID == u.ID}
		if i < len(bets) {
			b := bets[i]
			r.SameMkt = e.MarketID != nil && *e.MarketID == b.MarketID
			r.SameBet = e.BetID != nil && *e.BetID == b.ID
		}
		out = append(out, r)
	}
	return out
}

// TestBetWritesOneLedgerRow: a bet's debit is one ledger row, kind BET, the
// stake and the fee in its amount, the fee also in its fee column, the
// balance after the whole debit; a first bet's row carries the first-bet
// fee, a later one only the buy fee. The one statement (place_bet) and the
// interactive transaction write the same rows, on both engines (SQLite has
// only the interactive path).
func TestBetWritesOneLedgerRow(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		for _, fees := range []struct{ buy, first int64 }{{0, 1}, {2, 1}, {0, 0}} {
			var rows [2][]betRow
			for i, interactive := range []bool{false, true} {
				t.Run(fmt.Sprintf("buy=%d,first=%d,interactive=%v", fees.buy, fees.first, interactive), func(t *testing.T) {
					ctx := t.Context()
					u := daltest.User(t, d, func(u *models.User) { u.Balance = 100 })
					m := daltest.Market(t, d, u.ID)
					place := func(amount int64) *models.Bet {
						t.Helper()
						res, err := d.Bets().Place(ctx, repository.BetPlacement{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeYes,
							Amount: amount, Now: daltest.Now, BuyFee: fees.buy, FirstFee: fees.first, MaxDebt: 0, P0: 0.5, I0: 10,
							Interactive: interactive})
						if err != nil || res.Bet == nil {
							t.Fatalf("bet of %d: %+v, %v", amount, res, err)
						}
						return res.Bet
					}
					first, second := place(10), place(5)
					if first.Fee != fees.buy+fees.first || second.Fee != fees.buy {
						t.Errorf("bets' fees %d and %d, want %d and %d", first.Fee, second.Fee, fees.buy+fees.first, fees.buy)
					}
					firstCost, secondCost := 10+fees.buy+fees.first, 5+fees.buy
					want := []betRow{
						{models.LedgerBet, -firstCost, fees.buy + fees.first, 100 - firstCost, true, true, true},
						{models.LedgerBet, -secondCost, fees.buy, 100 - firstCost - secondCost, true, true, true},
					}
					got := betRows(t, d, u, first, second)
					if diff := cmp.Diff(got, want); diff != "" {
						t.Errorf("ledger rows (-got +want):\n%s", diff)
					}
					if got, err := d.Users().GetByID(ctx, u.ID); err != nil || got.Balance != 100-firstCost-secondCost {
						t.Errorf("balance %+v, %v; want %d", got, err, 100-firstCost-secondCost)
					}
					rows[i] = got
				})
			}
			if rows[0] != nil && rows[1] != nil && !slices.Equal(rows[0], rows[1]) {
				t.Errorf("buy=%d first=%d: the one statement wrote %+v, the interactive path %+v", fees.buy, fees.first, rows[0], rows[1])
			}
		}
	})
}

// invariantRules are the economics of the invariant tests: a buy fee and a
// first-bet fee, so that first and later bets differ.
var invariantRules = repository.InvariantRules{MaximumDebtAllowed: 500, BuySharesFee: 1, InitialBetFee: 2}

// placeFor places a YES bet of amount by u on m with invariantRules.
func placeFor(t *testing.T, d *dal.DataAccessLayer, u *models.User, m *models.Market, amount int64) *models.Bet {
	t.Helper()
	res, err := d.Bets().Place(t.Context(), repository.BetPlacement{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeYes,
		Amount: amount, Now: daltest.Now, BuyFee: invariantRules.BuySharesFee, FirstFee: invariantRules.InitialBetFee,
		MaxDebt: invariantRules.MaximumDebtAllowed, P0: 0.5, I0: 10})
	if err != nil || res.Bet == nil {
		t.Fatalf("bet of %d: %+v, %v", amount, res, err)
	}
	return res.Bet
}

// toTwoRows rewrites the one-row ledger entry of bet b into the two rows
// bets placed before migration 007 have (BET for the stake, BET_FEE for the
// fee, each with the balance after it), with the statements of 007's down.
func toTwoRows(t *testing.T, tdb *dbtest.TestDB, b *models.Bet) {
	t.Helper()
	for _, q := range []string{
		`INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, balance_after, created_at)
			SELECT user_id, market_id, bet_id, 'BET_FEE', -fee, balance_after, created_at
			FROM ledger_entries WHERE kind = 'BET' AND fee > 0 AND bet_id = ?`,
		`UPDATE ledger_entries SET amount = amount + fee, balance_after = balance_after + fee, fee = 0
			WHERE kind = 'BET' AND fee > 0 AND bet_id = ?`,
	} {
		if err := tdb.DB.Exec(q, b.ID).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// checkNames runs the invariants (inside the transaction ctx carries, if
// any) and returns the names of the broken ones, sorted, each once.
func checkNames(t *testing.T, ctx context.Context, d *dal.DataAccessLayer) ([]string, []repository.Violation) {
	t.Helper()
	v, err := d.Invariants().Check(ctx, invariantRules)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	var names []string
	for _, x := range v {
		names = append(names, x.Check)
	}
	slices.Sort(names)
	return slices.Compact(names), v
}

// TestInvariantsHoldForBothLedgerShapes: a database holding bets of both
// ledger shapes (two rows, BET and BET_FEE, as written before migration
// 007; one BET row carrying the fee, as written since), even within one
// user's bets on one market, passes every invariant.
func TestInvariantsHoldForBothLedgerShapes(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		creator := daltest.User(t, d)
		a, b, c := daltest.User(t, d), daltest.User(t, d), daltest.User(t, d)
		m1, m2 := daltest.Market(t, d, creator.ID), daltest.Market(t, d, creator.ID)
		// Written "before 007": every bet of a on m1, b's first bet on m1.
		for _, bet := range []*models.Bet{placeFor(t, d, a, m1, 10), placeFor(t, d, a, m1, 5), placeFor(t, d, b, m1, 7)} {
			toTwoRows(t, tdb, bet)
		}
		// Written since: b's second bet on m1, c's bets on both markets.
		placeFor(t, d, b, m1, 3)
		placeFor(t, d, c, m1, 4)
		placeFor(t, d, c, m2, 9)
		placeFor(t, d, c, m2, 1)

		var kinds []struct {
			Kind string
			N    int64
		}
		if err := tdb.DB.Raw("SELECT kind, COUNT(*) AS n FROM ledger_entries GROUP BY kind ORDER BY kind").Scan(&kinds).Error; err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(kinds) != "[{BET 7} {BET_FEE 3}]" {
			t.Fatalf("ledger kinds %v, want 7 BET rows and 3 BET_FEE rows", kinds)
		}
		if names, v := checkNames(t, t.Context(), d); len(names) != 0 {
			t.Errorf("invariants broken on a ledger of both shapes: %v", v)
		}
		for _, u := range []*models.User{a, b, c} {
			got, err := d.Users().GetByID(t.Context(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if sum, err := d.Ledger().SumByUser(t.Context(), u.ID); err != nil || sum != got.Balance-got.InitialBalance {
				t.Errorf("user %d: ledger sums to %d (%v), balance %d", u.ID, sum, err, got.Balance)
			}
		}
	})
}

// errRollback undoes a doctored database.
var errRollback = errors.New("rollback")

// TestInvariantsCatchDoctoredBetFees: db check fails when the ledger
// charges a bet's fee twice, or not at all, or charges a first-bet fee on a
// later bet, in either shape, even when the balances were doctored to match
// the ledger (so the balance invariant alone would pass). Each doctoring
// runs in a transaction that is rolled back; the check reads inside it.
func TestInvariantsCatchDoctoredBetFees(t *testing.T) {
	const (
		perBet   = "each bet's ledger charges its stake and its fee"
		firstFee = "one first-bet fee per user and market"
		noBet    = "every bet ledger row belongs to a bet"
		balance  = "balance equals initial balance plus ledger"
	)
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		creator := daltest.User(t, d)
		a, b := daltest.User(t, d), daltest.User(t, d)
		m := daltest.Market(t, d, creator.ID)
		aFirst, aSecond := placeFor(t, d, a, m, 10), placeFor(t, d, a, m, 5) // one row each
		bFirst := placeFor(t, d, b, m, 8)
		toTwoRows(t, tdb, bFirst) // BET and BET_FEE
		if names, v := checkNames(t, t.Context(), d); len(names) != 0 {
			t.Fatalf("invariants broken before doctoring: %v", v)
		}
		// debit moves a user's balance with the doctored ledger.
		debit := func(u *models.User, delta int64) string {
			return fmt.Sprintf("UPDATE users SET balance = balance - %d WHERE id = %d", delta, u.ID)
		}
		tests := []struct {
			name string
			sql  []string
			want []string
		}{
			{"one-row bet: fee charged again in a BET_FEE row", []string{
				fmt.Sprintf(`INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, balance_after, created_at)
					SELECT user_id, market_id, bet_id, 'BET_FEE', -fee, balance_after - fee, created_at FROM ledger_entries WHERE bet_id = %d`, aFirst.ID),
				debit(a, aFirst.Fee)}, []string{firstFee, perBet}},
			{"one-row bet: fee counted twice in its row", []string{
				fmt.Sprintf("UPDATE ledger_entries SET amount = amount - fee, fee = 2 * fee WHERE bet_id = %d", aFirst.ID),
				debit(a, aFirst.Fee)}, []string{firstFee, perBet}},
			{"one-row bet: fee missing", []string{
				fmt.Sprintf("UPDATE ledger_entries SET amount = amount + fee, fee = 0 WHERE bet_id = %d", aFirst.ID),
				debit(a, -aFirst.Fee)}, []string{firstFee, perBet}},
			{"one-row bet: fee hidden in the stake", []string{
				fmt.Sprintf("UPDATE ledger_entries SET fee = 0 WHERE bet_id = %d", aFirst.ID)}, []string{firstFee, perBet}},
			{"one-row later bet: first-bet fee charged again", []string{
				fmt.Sprintf("UPDATE ledger_entries SET amount = amount - %d, fee = fee + %d WHERE bet_id = %d",
					invariantRules.InitialBetFee, invariantRules.InitialBetFee, aSecond.ID),
				debit(a, invariantRules.InitialBetFee)}, []string{firstFee, perBet}},
			{"two-row bet: fee row missing", []string{
				fmt.Sprintf("DELETE FROM ledger_entries WHERE bet_id = %d AND kind = 'BET_FEE'", bFirst.ID),
				debit(b, -bFirst.Fee)}, []string{firstFee, perBet}},
			{"two-row bet: fee row repeated", []string{
				fmt.Sprintf(`INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, balance_after, created_at)
					SELECT user_id, market_id, bet_id, kind, amount, balance_after + amount, created_at FROM ledger_entries
					WHERE bet_id = %d AND kind = 'BET_FEE'`, bFirst.ID),
				debit(b, bFirst.Fee)}, []string{firstFee, perBet}},
			{"two-row bet: fee also in its BET row", []string{
				fmt.Sprintf("UPDATE ledger_entries SET amount = amount - %d, fee = %d WHERE bet_id = %d AND kind = 'BET'",
					bFirst.Fee, bFirst.Fee, bFirst.ID),
				debit(b, bFirst.Fee)}, []string{firstFee, perBet}},
			{"bet without ledger rows", []string{
				fmt.Sprintf("DELETE FROM ledger_entries WHERE bet_id = %d", aSecond.ID),
				debit(a, -(aSecond.Amount + aSecond.Fee))}, []string{firstFee, perBet}},
			{"bet ledger row naming no bet", []string{
				fmt.Sprintf("UPDATE ledger_entries SET bet_id = NULL WHERE bet_id = %d", aSecond.ID)}, []string{firstFee, noBet, perBet}},
			{"bet charged to another user", []string{
				fmt.Sprintf("UPDATE ledger_entries SET user_id = %d WHERE bet_id = %d", b.ID, aSecond.ID),
				debit(a, -(aSecond.Amount + aSecond.Fee)), debit(b, aSecond.Amount+aSecond.Fee)}, []string{perBet}},
			{"balance only", []string{debit(a, 1)}, []string{balance}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got []string
				var v []repository.Violation
				err := tdb.Handle.Transactions().Transact(t.Context(), func(ctx context.Context) error {
					for _, q := range tt.sql {
						if err := tdb.Handle.Conn(ctx).Exec(q).Error; err != nil {
							t.Fatalf("%s: %v", q, err)
						}
					}
					got, v = checkNames(t, ctx, d)
					return errRollback
				})
				if !errors.Is(err, errRollback) {
					t.Fatalf("transaction: %v", err)
				}
				want := slices.Sorted(slices.Values(tt.want))
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("broken invariants (-got +want):\n%s\nviolations: %v", diff, v)
				}
			})
		}
		if names, v := checkNames(t, t.Context(), d); len(names) != 0 {
			t.Errorf("invariants broken after the rollbacks: %v", v)
		}
	})
}
