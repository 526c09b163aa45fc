package repository_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

func TestBetCreateAndGet(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		b := &models.Bet{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeNo, Amount: 25, Fee: 1, ProbabilityAfter: 0.42,
			PlacedAt: daltest.Now.In(time.FixedZone("X", -3600)), IdempotencyKey: ptr("key-1")}
		if err := d.Bets().Create(ctx, b); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if b.ID == 0 {
			t.Fatal("Create did not set the ID")
		}
		got, err := d.Bets().GetByID(ctx, b.ID)
		if err != nil {
			t.Fatalf("GetByID: %v", err)
		}
		if diff := cmp.Diff(got, b); diff != "" {
			t.Errorf("GetByID (-got +want):\n%s", diff)
		}
		got, err = d.Bets().GetByIdempotencyKey(ctx, u.ID, "key-1")
		if err != nil {
			t.Fatalf("GetByIdempotencyKey: %v", err)
		}
		if diff := cmp.Diff(got, b); diff != "" {
			t.Errorf("GetByIdempotencyKey (-got +want):\n%s", diff)
		}

		// Without a key, any number of bets; the same key for another user.
		other := daltest.User(t, d)
		for _, nb := range []*models.Bet{
			{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeYes, Amount: 1, PlacedAt: daltest.Now},
			{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeYes, Amount: 1, PlacedAt: daltest.Now},
			{UserID: other.ID, MarketID: m.ID, Outcome: models.OutcomeYes, Amount: 1, PlacedAt: daltest.Now, IdempotencyKey: ptr("key-1")},
		} {
			if err := d.Bets().Create(ctx, nb); err != nil {
				t.Errorf("Create %+v: %v", nb, err)
			}
		}
		got, err = d.Bets().GetByIdempotencyKey(ctx, other.ID, "key-1")
		if err != nil || got.UserID != other.ID {
			t.Errorf("GetByIdempotencyKey of the other user = %+v, %v", got, err)
		}
	})
}

func TestBetGetNotFound(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		other := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		b := daltest.Bet(t, d, u.ID, m.ID, func(b *models.Bet) { b.IdempotencyKey = ptr("k") })
		_, err := d.Bets().GetByID(ctx, b.ID+1000)
		wantErr(t, "GetByID", err, errs.ErrNotFound)
		tests := []struct {
			name string
			user int64
			key  string
		}{
			{"other user's key", other.ID, "k"},
			{"unknown key", u.ID, "x"},
			{"key as a pattern", u.ID, "%"},
			{"empty key", u.ID, ""},
		}
		for _, tc := range tests {
			got, err := d.Bets().GetByIdempotencyKey(ctx, tc.user, tc.key)
			wantErr(t, "GetByIdempotencyKey: "+tc.name, err, errs.ErrNotFound)
			if got != nil {
				t.Errorf("GetByIdempotencyKey: %s: returned %+v with the error", tc.name, got)
			}
		}
	})
}

func TestBetCreateErrors(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		existing := daltest.Bet(t, d, u.ID, m.ID, func(b *models.Bet) { b.IdempotencyKey = ptr("once") })
		tests := []struct {
			name string
			set  func(b *models.Bet)
			kind error
			// field is checked when not empty (SQLite does not name the
			// columns of a foreign key).
			field string
		}{
			{"repeated idempotency key", func(b *models.Bet) { b.IdempotencyKey = ptr("once") }, errs.ErrConflict, "user_id, idempotency_key"},
			{"taken id", func(b *models.Bet) { b.ID = existing.ID }, errs.ErrConflict, "id"},
			{"unknown market", func(b *models.Bet) { b.MarketID = m.ID + 1000 }, errs.ErrInvalidReference, ""},
			{"unknown user", func(b *models.Bet) { b.UserID = u.ID + 1000 }, errs.ErrInvalidReference, ""},
			{"unknown outcome", func(b *models.Bet) { b.Outcome = "MAYBE" }, errs.ErrInvalidInput, "outcome"},
			{"zero amount", func(b *models.Bet) { b.Amount = 0 }, errs.ErrInvalidInput, "amount"},
			{"negative fee", func(b *models.Bet) { b.Fee = -1 }, errs.ErrInvalidInput, "fee"},
			{"probability below 0", func(b *models.Bet) { b.ProbabilityAfter = -0.1 }, errs.ErrInvalidInput, "probability_after"},
			{"empty idempotency key", func(b *models.Bet) { b.IdempotencyKey = ptr("") }, errs.ErrInvalidInput, "idempotency_key"},
			{"idempotency key too long", func(b *models.Bet) { b.IdempotencyKey = ptr(strings.Repeat("k", 101)) }, errs.ErrInvalidInput, "idempotency_key"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b := &models.Bet{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeYes, Amount: 3, ProbabilityAfter: 0.5, PlacedAt: daltest.Now}
				tc.set(b)
				err := d.Bets().Create(ctx, b)
				if tc.field == "" {
					wantErr(t, "Create", err, tc.kind)
				} else {
					wantConstraint(t, "Create", err, tc.kind, tc.field)
				}
			})
		}
		if n, err := d.Bets().Count(ctx, repository.BetFilters{}); err != nil || n != 1 {
			t.Errorf("Count after failed creates = %d, %v; want 1", n, err)
		}
	})
}

// betFixture creates bets of three users on three markets with both
// outcomes, placing times and amounts that repeat (ties), and returns them.
func betFixture(t *testing.T, d *dal.DataAccessLayer) (bets []*models.Bet, users []*models.User, markets []*models.Market) {
	t.Helper()
	for range 3 {
		users = append(users, daltest.User(t, d))
	}
	for i := range 3 {
		markets = append(markets, daltest.Market(t, d, users[i].ID))
	}
	for i := range 40 {
		bets = append(bets, daltest.Bet(t, d, users[i%3].ID, markets[i/3%3].ID, func(b *models.Bet) {
			b.PlacedAt = daltest.Now.Add(time.Duration(i%7) * time.Minute).Add(time.Duration(i%2) * time.Microsecond)
			b.Amount = int64(i%5*10 + 1)
			if i%4 == 0 {
				b.Outcome = models.OutcomeNo
			}
		}))
	}
	return bets, users, markets
}

func listBets(d *dal.DataAccessLayer, f repository.BetFilters) lister[*models.Bet] {
	return func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
		f.PageRequest = req
		return d.Bets().List(ctx, f)
	}
}

func TestBetListFilters(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		bets, users, markets := betFixture(t, d)
		minute := func(n int) time.Time { return daltest.Now.Add(time.Duration(n) * time.Minute) }
		tests := []struct {
			name   string
			filter repository.BetFilters
			keep   func(b *models.Bet) bool
		}{
			{"none", repository.BetFilters{}, func(*models.Bet) bool { return true }},
			{"market", repository.BetFilters{MarketID: markets[1].ID}, func(b *models.Bet) bool { return b.MarketID == markets[1].ID }},
			{"unknown market", repository.BetFilters{MarketID: markets[2].ID + 1000}, func(*models.Bet) bool { return false }},
			{"user", repository.BetFilters{UserID: users[2].ID}, func(b *models.Bet) bool { return b.UserID == users[2].ID }},
			{"outcome YES", repository.BetFilters{Outcome: models.OutcomeYes}, func(b *models.Bet) bool { return b.Outcome == models.OutcomeYes }},
			{"outcome NO", repository.BetFilters{Outcome: models.OutcomeNo}, func(b *models.Bet) bool { return b.Outcome == models.OutcomeNo }},
			{"placed after (inclusive)", repository.BetFilters{PlacedAfter: ptr(minute(3))}, func(b *models.Bet) bool { return !b.PlacedAt.Before(minute(3)) }},
			{"placed before (exclusive)", repository.BetFilters{PlacedBefore: ptr(minute(3))}, func(b *models.Bet) bool { return b.PlacedAt.Before(minute(3)) }},
			{"placed between", repository.BetFilters{PlacedAfter: ptr(minute(2)), PlacedBefore: ptr(minute(5))},
				func(b *models.Bet) bool { return !b.PlacedAt.Before(minute(2)) && b.PlacedAt.Before(minute(5)) }},
			{"market, user and outcome", repository.BetFilters{MarketID: markets[0].ID, UserID: users[0].ID, Outcome: models.OutcomeNo},
				func(b *models.Bet) bool {
					return b.MarketID == markets[0].ID && b.UserID == users[0].ID && b.Outcome == models.OutcomeNo
				}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				want := matchingIDs(bets, betID, tc.keep)
				if tc.name != "unknown market" && len(want) == 0 {
					t.Fatal("the fixture has no matching bet: the case tests nothing")
				}
				got := collectAll(t, listBets(d, tc.filter), repository.PageRequest{Limit: 4}, nil)
				if diff := cmp.Diff(ascending(idsOf(got, betID)), want); diff != "" {
					t.Errorf("List ids (-got +want):\n%s", diff)
				}
				n, err := d.Bets().Count(ctx, tc.filter)
				if err != nil {
					t.Fatalf("Count: %v", err)
				}
				if n != int64(len(want)) {
					t.Errorf("Count = %d, want %d", n, len(want))
				}
			})
		}
		// ListByMarket and ListByUser are the market and user filters.
		for _, m := range markets {
			got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
				return d.Bets().ListByMarket(ctx, m.ID, req)
			}, repository.PageRequest{Limit: 5}, nil)
			if diff := cmp.Diff(ascending(idsOf(got, betID)), matchingIDs(bets, betID, func(b *models.Bet) bool { return b.MarketID == m.ID })); diff != "" {
				t.Errorf("ListByMarket(%d) ids (-got +want):\n%s", m.ID, diff)
			}
		}
		for _, u := range users {
			got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
				return d.Bets().ListByUser(ctx, u.ID, req)
			}, repository.PageRequest{Limit: 5}, nil)
			if diff := cmp.Diff(ascending(idsOf(got, betID)), matchingIDs(bets, betID, func(b *models.Bet) bool { return b.UserID == u.ID })); diff != "" {
				t.Errorf("ListByUser(%d) ids (-got +want):\n%s", u.ID, diff)
			}
		}
		for _, o := range []models.Outcome{"yes", "MAYBE", "N/A"} {
			_, err := d.Bets().List(ctx, repository.BetFilters{Outcome: o})
			wantErr(t, fmt.Sprintf("List with outcome %q", o), err, errs.ErrInvalidInput)
			_, err = d.Bets().Count(ctx, repository.BetFilters{Outcome: o})
			wantErr(t, fmt.Sprintf("Count with outcome %q", o), err, errs.ErrInvalidInput)
		}
	})
}

func TestBetListSorts(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		bets, _, markets := betFixture(t, d)
		byPlaced := func(b *models.Bet) int64 { return b.PlacedAt.UnixNano() }
		byAmount := func(b *models.Bet) int64 { return b.Amount }
		keys := map[string]func(b *models.Bet) int64{"": byPlaced, "placed_at": byPlaced, "amount": byAmount}
		ofMarket := matchingBets(bets, func(b *models.Bet) bool { return b.MarketID == markets[0].ID })
		lists := []struct {
			name string
			list lister[*models.Bet]
			bets []*models.Bet
		}{
			{"List", listBets(d, repository.BetFilters{}), bets},
			{"ListByMarket", func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
				return d.Bets().ListByMarket(ctx, markets[0].ID, req)
			}, ofMarket},
		}
		for _, l := range lists {
			for _, sort := range []string{"", "placed_at", "amount"} {
				for _, desc := range []bool{false, true} {
					want := sortedIDs(l.bets, keys[sort], betID, desc)
					for _, limit := range []int{1, 6, 0} {
						t.Run(fmt.Sprintf("%s %s desc=%v limit=%d", l.name, sort, desc, limit), func(t *testing.T) {
							got := collectAll(t, l.list, repository.PageRequest{Sort: sort, Desc: desc, Limit: limit}, nil)
							if diff := cmp.Diff(idsOf(got, betID), want); diff != "" {
								t.Errorf("order (-got +want):\n%s", diff)
							}
						})
					}
				}
			}
		}
		for _, sort := range []string{"fee", "id", "user_id", "placed_at DESC", "AMOUNT"} {
			_, err := d.Bets().List(ctx, repository.BetFilters{PageRequest: repository.PageRequest{Sort: sort}})
			wantErr(t, fmt.Sprintf("List sorted by %q", sort), err, errs.ErrInvalidInput)
			_, err = d.Bets().ListByMarket(ctx, markets[0].ID, repository.PageRequest{Sort: sort})
			wantErr(t, fmt.Sprintf("ListByMarket sorted by %q", sort), err, errs.ErrInvalidInput)
			_, err = d.Bets().ListByUser(ctx, markets[0].CreatorID, repository.PageRequest{Sort: sort})
			wantErr(t, fmt.Sprintf("ListByUser sorted by %q", sort), err, errs.ErrInvalidInput)
		}
	})
}

func TestBetListTies(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		u := daltest.User(t, d)
		m := daltest.Market(t, d, u.ID)
		// Every bet has the same time and amount: the id alone orders them,
		// whichever the sort.
		var ids []int64
		for range 31 {
			ids = append(ids, daltest.Bet(t, d, u.ID, m.ID).ID)
		}
		for _, sort := range []string{"placed_at", "amount"} {
			for _, desc := range []bool{false, true} {
				got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
					return d.Bets().ListByUser(ctx, u.ID, req)
				}, repository.PageRequest{Sort: sort, Desc: desc, Limit: 7}, nil)
				want := ascending(ids)
				if desc {
					slices.Reverse(want)
				}
				if diff := cmp.Diff(idsOf(got, betID), want); diff != "" {
					t.Errorf("%s desc=%v: order (-got +want):\n%s", sort, desc, diff)
				}
			}
		}
	})
}

func matchingBets(bets []*models.Bet, keep func(*models.Bet) bool) []*models.Bet {
	var out []*models.Bet
	for _, b := range bets {
		if keep(b) {
			out = append(out, b)
		}
	}
	return out
}

func TestBetScanMarkets(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		bets, users, markets := betFixture(t, d)
		names := map[int64]string{}
		for _, u := range users {
			names[u.ID] = u.Username
		}
		type scanned struct {
			Bet      *models.Bet
			Username string
		}
		scan := func(ids []int64) ([]scanned, error) {
			var got []scanned
			err := d.Bets().ScanMarkets(ctx, ids, func(b *models.Bet, username string) error {
				got = append(got, scanned{b, username})
				return nil
			})
			return got, err
		}
		byMarketThenTime := func(ms ...*models.Market) []scanned {
			var want []*models.Bet
			for _, m := range ms {
				want = append(want, matchingBets(bets, func(b *models.Bet) bool { return b.MarketID == m.ID })...)
			}
			slices.SortStableFunc(want, func(a, b *models.Bet) int {
				if c := compareInt64(a.MarketID, b.MarketID); c != 0 {
					return c
				}
				if c := a.PlacedAt.Compare(b.PlacedAt); c != 0 {
					return c
				}
				return compareInt64(a.ID, b.ID)
			})
			var out []scanned
			for _, b := range want {
				out = append(out, scanned{b, names[b.UserID]})
			}
			return out
		}
		tests := []struct {
			name string
			ids  []int64
			want []scanned
		}{
			{"two markets, asked out of order", []int64{markets[2].ID, markets[0].ID}, byMarketThenTime(markets[0], markets[2])},
			{"every market", []int64{markets[0].ID, markets[1].ID, markets[2].ID}, byMarketThenTime(markets...)},
			{"a market twice", []int64{markets[1].ID, markets[1].ID}, byMarketThenTime(markets[1])},
			{"unknown market", []int64{markets[2].ID + 1000}, nil},
			{"no market", nil, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := scan(tc.ids)
				if err != nil {
					t.Fatalf("ScanMarkets: %v", err)
				}
				if diff := cmp.Diff(got, tc.want); diff != "" {
					t.Errorf("ScanMarkets (-got +want):\n%s", diff)
				}
			})
		}
		t.Run("stops at the first error", func(t *testing.T) {
			errStop := errors.New("stop")
			calls := 0
			err := d.Bets().ScanMarkets(ctx, []int64{markets[0].ID, markets[1].ID}, func(*models.Bet, string) error {
				calls++
				if calls == 3 {
					return errStop
				}
				return nil
			})
			if !errors.Is(err, errStop) {
				t.Errorf("ScanMarkets = %v, want fn's error", err)
			}
			if calls != 3 {
				t.Errorf("fn called %d times, want 3", calls)
			}
			// The connection is usable again.
			if _, err := d.Bets().Count(ctx, repository.BetFilters{}); err != nil {
				t.Errorf("Count after a stopped scan: %v", err)
			}
		})
	})
}

// compareInt64 orders int64s (the standard cmp package is shadowed by go-cmp here).
func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
