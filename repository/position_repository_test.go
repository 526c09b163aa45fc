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

func TestPositionAddStake(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		first := daltest.Now.In(time.FixedZone("X", 3600))
		steps := []struct {
			outcome models.Outcome
			amount  int64
			at      time.Time
			want    models.Position
		}{
			{models.OutcomeYes, 5, first,
				models.Position{UserID: u.ID, MarketID: m.ID, YesStake: 5, BetCount: 1, FirstBetAt: first, UpdatedAt: first}},
			{models.OutcomeNo, 7, first.Add(time.Minute),
				models.Position{UserID: u.ID, MarketID: m.ID, YesStake: 5, NoStake: 7, BetCount: 2, FirstBetAt: first, UpdatedAt: first.Add(time.Minute)}},
			{models.OutcomeYes, 10, first.Add(time.Hour),
				models.Position{UserID: u.ID, MarketID: m.ID, YesStake: 15, NoStake: 7, BetCount: 3, FirstBetAt: first, UpdatedAt: first.Add(time.Hour)}},
		}
		for i, s := range steps {
			got, err := d.Positions().AddStake(ctx, u.ID, m.ID, s.outcome, s.amount, s.at)
			if err != nil {
				t.Fatalf("AddStake #%d: %v", i, err)
			}
			if diff := cmp.Diff(got, &s.want); diff != "" {
				t.Errorf("AddStake #%d returned (-got +want):\n%s", i, diff)
			}
			stored, err := d.Positions().Get(ctx, u.ID, m.ID)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if diff := cmp.Diff(stored, &s.want); diff != "" {
				t.Errorf("Get after AddStake #%d (-got +want):\n%s", i, diff)
			}
		}

		// Another user's position in the same market is separate.
		other := daltest.User(t, d)
		got, err := d.Positions().AddStake(ctx, other.ID, m.ID, models.OutcomeNo, 3, first)
		if err != nil {
			t.Fatal(err)
		}
		if got.BetCount != 1 || got.NoStake != 3 || got.YesStake != 0 {
			t.Errorf("first stake of another user = %+v", got)
		}
	})
}

func TestPositionErrors(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		if _, err := d.Positions().AddStake(ctx, u.ID, m.ID, models.OutcomeYes, 5, daltest.Now); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			user    int64
			market  int64
			outcome models.Outcome
			amount  int64
			kind    error
		}{
			{"unknown market", u.ID, m.ID + 1000, models.OutcomeYes, 1, errs.ErrInvalidReference},
			{"unknown user", u.ID + 1000, m.ID, models.OutcomeYes, 1, errs.ErrInvalidReference},
			{"unknown outcome", u.ID, m.ID, "MAYBE", 1, errs.ErrInvalidInput},
			{"stake below zero", u.ID, m.ID, models.OutcomeYes, -6, errs.ErrInvalidInput},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p, err := d.Positions().AddStake(ctx, tc.user, tc.market, tc.outcome, tc.amount, daltest.Now)
				wantErr(t, "AddStake", err, tc.kind)
				if p != nil {
					t.Errorf("AddStake returned %+v with the error", p)
				}
			})
		}
		got, err := d.Positions().Get(ctx, u.ID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.YesStake != 5 || got.BetCount != 1 {
			t.Errorf("position after failed AddStakes = %+v, want the first stake only", got)
		}
		other := daltest.User(t, d)
		for _, k := range [][2]int64{{other.ID, m.ID}, {u.ID, m.ID + 1000}, {other.ID + 1000, m.ID}} {
			p, err := d.Positions().Get(ctx, k[0], k[1])
			wantErr(t, fmt.Sprintf("Get(%d, %d)", k[0], k[1]), err, errs.ErrNotFound)
			if p != nil {
				t.Errorf("Get(%d, %d) returned %+v with the error", k[0], k[1], p)
			}
		}
	})
}

func TestPositionLists(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		var users []*models.User
		for range 11 {
			users = append(users, daltest.User(t, d))
		}
		var markets []*models.Market
		for range 9 {
			markets = append(markets, daltest.Market(t, d, users[0].ID))
		}
		// users[i] has a position in markets[j] when (i+j) % 3 != 0.
		has := func(i, j int) bool { return (i+j)%3 != 0 }
		for i, u := range users {
			for j, m := range markets {
				if has(i, j) {
					if _, err := d.Positions().AddStake(ctx, u.ID, m.ID, models.OutcomeYes, int64(i+j+1), daltest.Now); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{1, 2, 5, 0} {
				req := repository.PageRequest{Desc: desc, Limit: limit}
				for j, m := range markets {
					got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Position], error) {
						return d.Positions().ListByMarket(ctx, m.ID, req)
					}, req, nil)
					var want []int64
					for i, u := range users {
						if has(i, j) {
							want = append(want, u.ID)
						}
					}
					slices.Sort(want)
					if desc {
						slices.Reverse(want)
					}
					if diff := cmp.Diff(idsOf(got, func(p *models.Position) int64 { return p.UserID }), want); diff != "" {
						t.Errorf("ListByMarket(%d) desc=%v limit=%d: users (-got +want):\n%s", m.ID, desc, limit, diff)
					}
					for _, p := range got {
						if p.MarketID != m.ID {
							t.Errorf("ListByMarket(%d) returned a position in market %d", m.ID, p.MarketID)
						}
					}
				}
				for i, u := range users {
					got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Position], error) {
						return d.Positions().ListByUser(ctx, u.ID, req)
					}, req, nil)
					var want []int64
					for j, m := range markets {
						if has(i, j) {
							want = append(want, m.ID)
						}
					}
					slices.Sort(want)
					if desc {
						slices.Reverse(want)
					}
					if diff := cmp.Diff(idsOf(got, func(p *models.Position) int64 { return p.MarketID }), want); diff != "" {
						t.Errorf("ListByUser(%d) desc=%v limit=%d: markets (-got +want):\n%s", u.ID, desc, limit, diff)
					}
					for _, p := range got {
						if p.UserID != u.ID {
							t.Errorf("ListByUser(%d) returned a position of user %d", u.ID, p.UserID)
						}
					}
				}
			}
		}
		// The one sort of each list by name; anything else is refused.
		if _, err := d.Positions().ListByMarket(ctx, markets[0].ID, repository.PageRequest{Sort: "user_id"}); err != nil {
			t.Errorf("ListByMarket sorted by user_id: %v", err)
		}
		if _, err := d.Positions().ListByUser(ctx, users[0].ID, repository.PageRequest{Sort: "market_id"}); err != nil {
			t.Errorf("ListByUser sorted by market_id: %v", err)
		}
		for _, sort := range []string{"market_id", "yes_stake", "updated_at"} {
			_, err := d.Positions().ListByMarket(ctx, markets[0].ID, repository.PageRequest{Sort: sort})
			wantErr(t, fmt.Sprintf("ListByMarket sorted by %q", sort), err, errs.ErrInvalidInput)
		}
		for _, sort := range []string{"user_id", "yes_stake", "updated_at"} {
			_, err := d.Positions().ListByUser(ctx, users[0].ID, repository.PageRequest{Sort: sort})
			wantErr(t, fmt.Sprintf("ListByUser sorted by %q", sort), err, errs.ErrInvalidInput)
		}
	})
}

func TestPositionCreateBatch(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		users := newUsers("pos", 700)
		if err := d.Users().CreateBatch(ctx, users); err != nil {
			t.Fatal(err)
		}
		markets := []*models.Market{daltest.Market(t, d, users[0].ID), daltest.Market(t, d, users[0].ID)}
		newPositions := func() []*models.Position {
			var ps []*models.Position
			for _, m := range markets {
				for i, u := range users {
					ps = append(ps, &models.Position{UserID: u.ID, MarketID: m.ID, YesStake: int64(i), NoStake: 1, BetCount: int64(i + 1),
						FirstBetAt: daltest.Now, UpdatedAt: daltest.Now.Add(time.Duration(i) * time.Second)})
				}
			}
			return ps
		}
		tests := []struct {
			name  string
			spoil func(ps []*models.Position)
			kind  error
			field string // checked when not empty
		}{
			{"same user and market twice", func(ps []*models.Position) {
				ps[len(ps)-1].UserID = ps[3].UserID
				ps[len(ps)-1].MarketID = ps[3].MarketID
			},
				errs.ErrConflict, "user_id, market_id"},
			{"unknown market", func(ps []*models.Position) { ps[800].MarketID = markets[1].ID + 1000 }, errs.ErrInvalidReference, ""},
			{"no bet", func(ps []*models.Position) { ps[10].BetCount = 0 }, errs.ErrInvalidInput, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ps := newPositions()
				tc.spoil(ps)
				err := d.Positions().CreateBatch(ctx, ps)
				if tc.field == "" {
					wantErr(t, "CreateBatch", err, tc.kind)
				} else {
					wantConstraint(t, "CreateBatch", err, tc.kind, tc.field)
				}
				if n := countRows(t, d, &models.Position{}); n != 0 {
					t.Errorf("positions after a failed batch = %d, want 0", n)
				}
			})
		}
		if err := d.Positions().CreateBatch(ctx, nil); err != nil {
			t.Errorf("CreateBatch(nil): %v", err)
		}
		ps := newPositions()
		if err := d.Positions().CreateBatch(ctx, ps); err != nil {
			t.Fatalf("CreateBatch: %v", err)
		}
		if n := countRows(t, d, &models.Position{}); n != int64(len(ps)) {
			t.Errorf("positions = %d, want %d", n, len(ps))
		}
		got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Position], error) {
			return d.Positions().ListByMarket(ctx, markets[1].ID, req)
		}, repository.PageRequest{Limit: 500}, nil)
		if diff := cmp.Diff(got, ps[len(users):]); diff != "" {
			t.Errorf("positions in the second market (-got +want):\n%s", diff)
		}
		// AddStake accumulates onto a position the batch created.
		p, err := d.Positions().AddStake(ctx, users[5].ID, markets[0].ID, models.OutcomeYes, 10, daltest.Now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if p.YesStake != 15 || p.NoStake != 1 || p.BetCount != 7 || !p.FirstBetAt.Equal(daltest.Now) {
			t.Errorf("AddStake after the batch = %+v", p)
		}
	})
}
