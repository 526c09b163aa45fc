package repository_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

func ledgerID(e *models.LedgerEntry) int64 { return e.ID }

func TestLedgerAppend(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		b := daltest.Bet(t, d, u.ID, m.ID)
		entries := []*models.LedgerEntry{
			{UserID: u.ID, MarketID: &m.ID, BetID: &b.ID, Kind: models.LedgerBet, Amount: -10, BalanceAfter: -10, CreatedAt: daltest.Now},
			{UserID: u.ID, MarketID: &m.ID, BetID: &b.ID, Kind: models.LedgerBetFee, Amount: -1, BalanceAfter: -11, CreatedAt: daltest.Now},
			{UserID: u.ID, Kind: models.LedgerAdjustment, Amount: 100, BalanceAfter: 89, CreatedAt: daltest.Now.Add(time.Second).In(time.FixedZone("X", 7200))},
		}
		if err := d.Ledger().Append(ctx, entries...); err != nil {
			t.Fatalf("Append: %v", err)
		}
		seen := map[int64]bool{}
		for _, e := range entries {
			if e.ID == 0 || seen[e.ID] {
				t.Fatalf("Append set IDs %v: want distinct and non-zero", idsOf(entries, ledgerID))
			}
			seen[e.ID] = true
		}
		got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.LedgerEntry], error) {
			return d.Ledger().ListByUser(ctx, u.ID, req)
		}, repository.PageRequest{}, nil)
		if diff := cmp.Diff(got, entries); diff != "" {
			t.Errorf("ListByUser (-got +want):\n%s", diff)
		}
		if err := d.Ledger().Append(ctx); err != nil {
			t.Errorf("Append of nothing: %v", err)
		}

		// More entries than one multi-row INSERT carries.
		var many []*models.LedgerEntry
		for i := range 1234 {
			many = append(many, &models.LedgerEntry{UserID: u.ID, Kind: models.LedgerAdjustment, Amount: int64(i + 1), BalanceAfter: 0, CreatedAt: daltest.Now})
		}
		if err := d.Ledger().Append(ctx, many...); err != nil {
			t.Fatalf("Append of %d entries: %v", len(many), err)
		}
		if n := countRows(t, d, &models.LedgerEntry{}); n != int64(len(entries)+len(many)) {
			t.Errorf("ledger rows = %d, want %d", n, len(entries)+len(many))
		}
		ids := idsOf(many, ledgerID)
		slices.Sort(ids)
		if len(slices.Compact(ids)) != len(many) || ids[0] == 0 {
			t.Errorf("Append of %d entries did not set distinct IDs", len(many))
		}
	})
}

func TestLedgerAppendErrors(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		if err := d.Ledger().Append(ctx, &models.LedgerEntry{UserID: u.ID, MarketID: &m.ID, Kind: models.LedgerPayout, Amount: 50, BalanceAfter: 50, CreatedAt: daltest.Now}); err != nil {
			t.Fatal(err)
		}
		unknown := m.ID + 1000
		tests := []struct {
			name  string
			entry models.LedgerEntry
			kind  error
			// field is checked when not empty (SQLite does not name the
			// columns of a foreign key).
			field string
		}{
			{"second payout", models.LedgerEntry{UserID: u.ID, MarketID: &m.ID, Kind: models.LedgerPayout, Amount: 50}, errs.ErrConflict, "market_id, user_id, kind"},
			{"unknown user", models.LedgerEntry{UserID: u.ID + 1000, Kind: models.LedgerAdjustment, Amount: 1}, errs.ErrInvalidReference, ""},
			{"unknown market", models.LedgerEntry{UserID: u.ID, MarketID: &unknown, Kind: models.LedgerRefund, Amount: 1}, errs.ErrInvalidReference, ""},
			{"unknown bet", models.LedgerEntry{UserID: u.ID, MarketID: &m.ID, BetID: &unknown, Kind: models.LedgerBet, Amount: -1}, errs.ErrInvalidReference, ""},
			{"unknown kind", models.LedgerEntry{UserID: u.ID, Kind: "GIFT", Amount: 1}, errs.ErrInvalidInput, "kind"},
			{"zero amount", models.LedgerEntry{UserID: u.ID, Kind: models.LedgerAdjustment}, errs.ErrInvalidInput, "amount"},
			{"payout without market", models.LedgerEntry{UserID: u.ID, Kind: models.LedgerPayout, Amount: 1}, errs.ErrInvalidInput, "market"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := tc.entry
				e.CreatedAt = daltest.Now
				// A valid entry first: the batch fails as a whole.
				ok := &models.LedgerEntry{UserID: u.ID, Kind: models.LedgerAdjustment, Amount: 1, CreatedAt: daltest.Now}
				err := d.Ledger().Append(ctx, ok, &e)
				if tc.field == "" {
					wantErr(t, "Append", err, tc.kind)
				} else {
					wantConstraint(t, "Append", err, tc.kind, tc.field)
				}
				if n := countRows(t, d, &models.LedgerEntry{}); n != 1 {
					t.Errorf("ledger rows after a failed Append = %d, want 1", n)
				}
			})
		}
	})
}

func TestLedgerListByUser(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		other := daltest.User(t, d)
		var entries []*models.LedgerEntry
		for i := range 25 {
			e := &models.LedgerEntry{UserID: u.ID, Kind: models.LedgerAdjustment, Amount: int64(i - 12), BalanceAfter: 0,
				CreatedAt: daltest.Now.Add(time.Duration(i%4) * time.Second)}
			if e.Amount == 0 {
				e.Amount = 100
			}
			entries = append(entries, e)
		}
		if err := d.Ledger().Append(ctx, entries...); err != nil {
			t.Fatal(err)
		}
		if err := d.Ledger().Append(ctx, &models.LedgerEntry{UserID: other.ID, Kind: models.LedgerAdjustment, Amount: 7, CreatedAt: daltest.Now}); err != nil {
			t.Fatal(err)
		}
		byCreated := func(e *models.LedgerEntry) int64 { return e.CreatedAt.UnixNano() }
		for _, sort := range []string{"", "created_at"} {
			for _, desc := range []bool{false, true} {
				for _, limit := range []int{1, 4, 25, 0} {
					got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.LedgerEntry], error) {
						return d.Ledger().ListByUser(ctx, u.ID, req)
					}, repository.PageRequest{Sort: sort, Desc: desc, Limit: limit}, nil)
					if diff := cmp.Diff(idsOf(got, ledgerID), sortedIDs(entries, byCreated, ledgerID, desc)); diff != "" {
						t.Errorf("sort %q desc=%v limit=%d: order (-got +want):\n%s", sort, desc, limit, diff)
					}
				}
			}
		}
		p, err := d.Ledger().ListByUser(ctx, other.ID+1000, repository.PageRequest{})
		if err != nil || len(p.Items) != 0 || p.NextCursor != "" {
			t.Errorf("ListByUser of an unknown user = %+v, %v; want an empty last page", p, err)
		}
		for _, sort := range []string{"amount", "id", "placed_at"} {
			_, err := d.Ledger().ListByUser(ctx, u.ID, repository.PageRequest{Sort: sort})
			wantErr(t, fmt.Sprintf("ListByUser sorted by %q", sort), err, errs.ErrInvalidInput)
		}
	})
}

func TestLedgerSumByUser(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		other := daltest.User(t, d)
		for _, e := range []*models.LedgerEntry{
			{UserID: u.ID, Kind: models.LedgerAdjustment, Amount: 100},
			{UserID: u.ID, Kind: models.LedgerAdjustment, Amount: -30},
			{UserID: u.ID, Kind: models.LedgerAdjustment, Amount: -85},
			{UserID: other.ID, Kind: models.LedgerAdjustment, Amount: 1_000},
		} {
			e.CreatedAt = daltest.Now
			if err := d.Ledger().Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name string
			user int64
			want int64
		}{
			{"user", u.ID, -15},
			{"other user", other.ID, 1_000},
			{"user with no entries", daltest.User(t, d).ID, 0},
			{"unknown user", other.ID + 1000, 0},
		}
		for _, tc := range tests {
			got, err := d.Ledger().SumByUser(ctx, tc.user)
			if err != nil {
				t.Errorf("SumByUser(%s): %v", tc.name, err)
			} else if got != tc.want {
				t.Errorf("SumByUser(%s) = %d, want %d", tc.name, got, tc.want)
			}
		}
	})
}

// ledgerRow is what a test compares of a ledger entry.
type ledgerRow struct {
	UserID       int64
	MarketID     int64
	Kind         models.LedgerKind
	Amount       int64
	BalanceAfter int64
	CreatedAt    time.Time
}

func ledgerRows(t *testing.T, d *dal.DataAccessLayer, userID int64) []ledgerRow {
	t.Helper()
	entries := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.LedgerEntry], error) {
		return d.Ledger().ListByUser(ctx, userID, req)
	}, repository.PageRequest{}, nil)
	var rows []ledgerRow
	for _, e := range entries {
		r := ledgerRow{UserID: e.UserID, Kind: e.Kind, Amount: e.Amount, BalanceAfter: e.BalanceAfter, CreatedAt: e.CreatedAt}
		if e.MarketID != nil {
			r.MarketID = *e.MarketID
		}
		rows = append(rows, r)
	}
	return rows
}

func TestLedgerCredit(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		a := daltest.User(t, d, func(u *models.User) { u.Balance = 100 })
		b := daltest.User(t, d, func(u *models.User) { u.Balance = -20 })
		c := daltest.User(t, d, func(u *models.User) { u.Balance = 7 })
		m := daltest.Market(t, d, a.ID)
		at := daltest.Now.Add(time.Hour).In(time.FixedZone("X", 3600))
		err := d.Ledger().Credit(ctx, m.ID, []repository.Credit{
			{UserID: a.ID, Kind: models.LedgerPayout, Amount: 50},
			{UserID: b.ID, Kind: models.LedgerRefund, Amount: 30},
			{UserID: a.ID, Kind: models.LedgerCreatorReward, Amount: 5},
		}, at)
		if err != nil {
			t.Fatalf("Credit: %v", err)
		}
		balances := func() []int64 {
			t.Helper()
			var out []int64
			for _, u := range []*models.User{a, b, c} {
				got, err := d.Users().GetByID(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, got.Balance)
			}
			return out
		}
		want := []int64{155, 10, 7}
		if diff := cmp.Diff(balances(), want); diff != "" {
			t.Errorf("balances (-got +want):\n%s", diff)
		}
		// Each row's balance after is the balance right after it: read in
		// ledger order (created_at, id), the rows of a user follow the order
		// of the credits, and each balance after is the previous one plus the
		// row's amount.
		if diff := cmp.Diff(ledgerRows(t, d, a.ID), []ledgerRow{
			{a.ID, m.ID, models.LedgerPayout, 50, 150, at},
			{a.ID, m.ID, models.LedgerCreatorReward, 5, 155, at},
		}); diff != "" {
			t.Errorf("ledger of a (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(ledgerRows(t, d, b.ID), []ledgerRow{{b.ID, m.ID, models.LedgerRefund, 30, 10, at}}); diff != "" {
			t.Errorf("ledger of b (-got +want):\n%s", diff)
		}
		if err := d.Ledger().Credit(ctx, m.ID, nil, at); err != nil {
			t.Errorf("Credit of nothing: %v", err)
		}

		tests := []struct {
			name    string
			market  int64
			credits []repository.Credit
			kind    error
		}{
			{"unknown user", m.ID, []repository.Credit{{UserID: c.ID, Kind: models.LedgerPayout, Amount: 1}, {UserID: c.ID + 1000, Kind: models.LedgerPayout, Amount: 1}}, errs.ErrNotFound},
			{"second payout", m.ID, []repository.Credit{{UserID: c.ID, Kind: models.LedgerRefund, Amount: 1}, {UserID: a.ID, Kind: models.LedgerPayout, Amount: 1}}, errs.ErrConflict},
			{"the same payout twice", m.ID, []repository.Credit{{UserID: c.ID, Kind: models.LedgerPayout, Amount: 1}, {UserID: c.ID, Kind: models.LedgerPayout, Amount: 2}}, errs.ErrConflict},
			{"unknown market", m.ID + 1000, []repository.Credit{{UserID: c.ID, Kind: models.LedgerPayout, Amount: 1}}, errs.ErrInvalidReference},
			{"zero amount", m.ID, []repository.Credit{{UserID: c.ID, Kind: models.LedgerPayout, Amount: 0}}, errs.ErrInvalidInput},
			{"unknown kind", m.ID, []repository.Credit{{UserID: c.ID, Kind: "GIFT", Amount: 1}}, errs.ErrInvalidInput},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				// Inside a transaction, as documented: a failure changes nothing.
				err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
					return tx.Ledger().Credit(ctx, tc.market, tc.credits, at)
				})
				wantErr(t, "Credit", err, tc.kind)
				if diff := cmp.Diff(balances(), want); diff != "" {
					t.Errorf("balances after a failed Credit (-got +want):\n%s", diff)
				}
				if n := countRows(t, d, &models.LedgerEntry{}); n != 3 {
					t.Errorf("ledger rows after a failed Credit = %d, want 3", n)
				}
			})
		}
	})
}

func TestLedgerAppendBatch(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		const size = 1_500 // several SQLite INSERTs
		newEntries := func() []*models.LedgerEntry {
			es := make([]*models.LedgerEntry, size)
			for i := range es {
				es[i] = &models.LedgerEntry{UserID: u.ID, Kind: models.LedgerAdjustment, Amount: int64(i + 1), BalanceAfter: int64(i), CreatedAt: daltest.Now}
			}
			es[7].MarketID, es[7].Kind = &m.ID, models.LedgerPayout
			return es
		}
		tests := []struct {
			name  string
			spoil func(es []*models.LedgerEntry)
			kind  error
		}{
			{"second payout in the batch", func(es []*models.LedgerEntry) { es[size-1].MarketID, es[size-1].Kind = &m.ID, models.LedgerPayout }, errs.ErrConflict},
			{"unknown user", func(es []*models.LedgerEntry) { es[900].UserID = u.ID + 1000 }, errs.ErrInvalidReference},
			{"zero amount", func(es []*models.LedgerEntry) { es[600].Amount = 0 }, errs.ErrInvalidInput},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				es := newEntries()
				tc.spoil(es)
				wantErr(t, "AppendBatch", d.Ledger().AppendBatch(ctx, es), tc.kind)
				if n := countRows(t, d, &models.LedgerEntry{}); n != 0 {
					t.Errorf("ledger rows after a failed batch = %d, want 0", n)
				}
			})
		}
		if err := d.Ledger().AppendBatch(ctx, nil); err != nil {
			t.Errorf("AppendBatch(nil): %v", err)
		}
		es := newEntries()
		if err := d.Ledger().AppendBatch(ctx, es); err != nil {
			t.Fatalf("AppendBatch: %v", err)
		}
		ids := idsOf(es, ledgerID)
		distinctIDs(t, "AppendBatch", ids)
		got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.LedgerEntry], error) {
			return d.Ledger().ListByUser(ctx, u.ID, req)
		}, repository.PageRequest{Limit: 500}, nil)
		if diff := cmp.Diff(got, es); diff != "" {
			t.Errorf("entries as stored (-got +want):\n%s", diff)
		}
		if sum, err := d.Ledger().SumByUser(ctx, u.ID); err != nil || sum != size*(size+1)/2 {
			t.Errorf("SumByUser = %d, %v; want %d", sum, err, size*(size+1)/2)
		}
	})
}
