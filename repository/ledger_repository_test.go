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
			{"second payout", models.LedgerEntry{UserID: u.ID, MarketID: &m.ID, Kind: models.LedgerPayout, Amount: 50}, repository.ErrConflict, "market_id, user_id, kind"},
			{"unknown user", models.LedgerEntry{UserID: u.ID + 1000, Kind: models.LedgerAdjustment, Amount: 1}, repository.ErrInvalidReference, ""},
			{"unknown market", models.LedgerEntry{UserID: u.ID, MarketID: &unknown, Kind: models.LedgerRefund, Amount: 1}, repository.ErrInvalidReference, ""},
			{"unknown bet", models.LedgerEntry{UserID: u.ID, MarketID: &m.ID, BetID: &unknown, Kind: models.LedgerBet, Amount: -1}, repository.ErrInvalidReference, ""},
			{"unknown kind", models.LedgerEntry{UserID: u.ID, Kind: "GIFT", Amount: 1}, repository.ErrInvalidInput, "kind"},
			{"zero amount", models.LedgerEntry{UserID: u.ID, Kind: models.LedgerAdjustment}, repository.ErrInvalidInput, "amount"},
			{"payout without market", models.LedgerEntry{UserID: u.ID, Kind: models.LedgerPayout, Amount: 1}, repository.ErrInvalidInput, "market"},
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
			wantErr(t, fmt.Sprintf("ListByUser sorted by %q", sort), err, repository.ErrInvalidInput)
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
