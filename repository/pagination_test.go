package repository_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

// anyList is a list with its item type erased, for tables over every list.
type anyList func(ctx context.Context, req repository.PageRequest) (items int, next string, err error)

func erase[T any](l lister[T]) anyList {
	return func(ctx context.Context, req repository.PageRequest) (int, string, error) {
		p, err := l(ctx, req)
		return len(p.Items), p.NextCursor, err
	}
}

// fixtureRows is how many rows each list of everyList holds: more than
// DefaultLimit.
const fixtureRows = 60

// everyList fills a database so that each paginated list of every repository
// holds fixtureRows rows, and returns the lists by name.
func everyList(t *testing.T, d *dal.DataAccessLayer) (lists []namedList, users []*models.User, markets []*models.Market) {
	t.Helper()
	ctx := t.Context()
	for i := range fixtureRows {
		users = append(users, &models.User{Username: fmt.Sprintf("p_%03d", i), DisplayName: fmt.Sprintf("P %d", i),
			Email: fmt.Sprintf("p%d@example.com", i), UserType: models.UserTypeRegular, CreatedAt: daltest.Now.Add(time.Duration(i%9) * time.Second)})
	}
	if err := d.Users().CreateBatch(ctx, users); err != nil {
		t.Fatal(err)
	}
	u0 := users[0]
	for range fixtureRows {
		markets = append(markets, daltest.Market(t, d, u0.ID))
	}
	m0 := markets[0]
	var bets []*models.Bet
	var entries []*models.LedgerEntry
	for i := range fixtureRows {
		bets = append(bets, &models.Bet{UserID: u0.ID, MarketID: m0.ID, Outcome: models.OutcomeYes, Amount: int64(i%4 + 1), ProbabilityAfter: 0.5,
			PlacedAt: daltest.Now.Add(time.Duration(i%6) * time.Minute)})
		entries = append(entries, &models.LedgerEntry{UserID: u0.ID, Kind: models.LedgerAdjustment, Amount: 1, CreatedAt: daltest.Now.Add(time.Duration(i%5) * time.Second)})
		if _, err := d.Positions().AddStake(ctx, users[i].ID, m0.ID, models.OutcomeYes, 1, daltest.Now); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			if _, err := d.Positions().AddStake(ctx, u0.ID, markets[i].ID, models.OutcomeNo, 1, daltest.Now); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := d.Bets().CreateBatch(ctx, bets); err != nil {
		t.Fatal(err)
	}
	if err := d.Ledger().Append(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	lists = []namedList{
		{"users", erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.User], error) {
			return d.Users().List(ctx, repository.UserFilters{PageRequest: req})
		})},
		{"markets", erase(listMarkets(d, repository.MarketFilters{}))},
		{"bets", erase(listBets(d, repository.BetFilters{}))},
		{"bets of market", erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
			return d.Bets().ListByMarket(ctx, m0.ID, req)
		})},
		{"bets of user", erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
			return d.Bets().ListByUser(ctx, u0.ID, req)
		})},
		{"ledger of user", erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.LedgerEntry], error) {
			return d.Ledger().ListByUser(ctx, u0.ID, req)
		})},
		{"positions in market", erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Position], error) {
			return d.Positions().ListByMarket(ctx, m0.ID, req)
		})},
		{"positions of user", erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Position], error) {
			return d.Positions().ListByUser(ctx, u0.ID, req)
		})},
	}
	return lists, users, markets
}

type namedList struct {
	name string
	list anyList
}

func TestPageLimits(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		lists, _, _ := everyList(t, d)
		tests := []struct {
			limit    int
			items    int
			hasNext  bool
			wantFail bool
		}{
			{0, repository.DefaultLimit, true, false},
			{1, 1, true, false},
			{fixtureRows - 1, fixtureRows - 1, true, false},
			{fixtureRows, fixtureRows, false, false},
			{repository.MaxLimit, fixtureRows, false, false},
			{repository.MaxLimit + 1, 0, false, true},
			{-1, 0, false, true},
			{math.MinInt, 0, false, true},
			{math.MaxInt, 0, false, true},
		}
		for _, l := range lists {
			for _, tc := range tests {
				t.Run(fmt.Sprintf("%s limit=%d", l.name, tc.limit), func(t *testing.T) {
					n, next, err := l.list(ctx, repository.PageRequest{Limit: tc.limit})
					if tc.wantFail {
						wantErr(t, "list", err, errs.ErrInvalidInput)
						if f := inputField(err); f != "limit" {
							t.Errorf("list: error %v names field %q, want limit", err, f)
						}
						return
					}
					if err != nil {
						t.Fatalf("list: %v", err)
					}
					if n != tc.items || (next != "") != tc.hasNext {
						t.Errorf("list: %d items, next cursor %q; want %d items, a next cursor: %v", n, next, tc.items, tc.hasNext)
					}
				})
			}
		}
	})
}

// TestUnknownSort: every list refuses a sort field it does not have with an
// *errs.InputError naming sort.
func TestUnknownSort(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		lists, _, _ := everyList(t, d)
		for _, l := range lists {
			_, _, err := l.list(t.Context(), repository.PageRequest{Sort: "no_such_field"})
			if !errors.Is(err, errs.ErrInvalidInput) || inputField(err) != "sort" {
				t.Errorf("%s: sort no_such_field: error %v, want an *errs.InputError naming sort", l.name, err)
			}
		}
	})
}

// tamperings returns altered copies of cursor: each character changed,
// truncations, and mixes with other, a cursor of the same list.
func tamperings(cursor, other string) map[string]string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := map[string]string{}
	for i := range len(cursor) {
		c := cursor[i]
		var r byte = 'A'
		if j := strings.IndexByte(alphabet, c); j >= 0 {
			r = alphabet[(j+1)%len(alphabet)]
		}
		out[fmt.Sprintf("char %d %q changed to %q", i, c, r)] = cursor[:i] + string(r) + cursor[i+1:]
	}
	payload, mac, _ := strings.Cut(cursor, ".")
	otherPayload, otherMAC, _ := strings.Cut(other, ".")
	for name, s := range map[string]string{
		"last char dropped":           cursor[:len(cursor)-1],
		"two last chars dropped":      cursor[:len(cursor)-2],
		"first char dropped":          cursor[1:],
		"half":                        cursor[:len(cursor)/2],
		"payload only":                payload,
		"payload and dot":             payload + ".",
		"mac only":                    mac,
		"dot and mac":                 "." + mac,
		"char appended":               cursor + "A",
		"dot appended":                cursor + ".",
		"doubled":                     cursor + cursor,
		"payload with another mac":    payload + "." + otherMAC,
		"another payload with my mac": otherPayload + "." + mac,
		"padding added":               payload + "==." + mac,
		"standard base64 alphabet":    strings.NewReplacer("-", "+", "_", "/").Replace(cursor) + "+/",
		"upper case":                  strings.ToUpper(cursor),
		"space inside":                payload + " ." + mac,
	} {
		if s != cursor {
			out[name] = s
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 5 {
		p := make([]byte, 10+rnd.IntN(80))
		m := make([]byte, 12)
		for j := range p {
			p[j] = byte(rnd.UintN(256))
		}
		for j := range m {
			m[j] = byte(rnd.UintN(256))
		}
		out[fmt.Sprintf("random %d", i)] = base64.RawURLEncoding.EncodeToString(p) + "." + base64.RawURLEncoding.EncodeToString(m)
	}
	// Well-formed JSON of the cursor's shape, with a made-up MAC.
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"created_at","v":"2000-01-01T00:00:00Z","i":1,"f":"x"}`))
	out["forged json"] = forged + "." + mac
	for i, s := range []string{"x", "garbage", ".", "....", "a.b", "%%%", "é.é", "\x00.\x00", strings.Repeat("A", 100_000) + "." + mac, "null.null", "e30.e30"} {
		out[fmt.Sprintf("junk %d", i)] = s
	}
	return out
}

func TestCursorTampering(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		lists, _, _ := everyList(t, d)
		for _, l := range lists {
			t.Run(l.name, func(t *testing.T) {
				// Cursors of several lengths, so that the payload's base64 ends
				// with every kind of partial group.
				var cursors []string
				req := repository.PageRequest{Limit: 3}
				for range 4 {
					_, next, err := l.list(ctx, req)
					if err != nil || next == "" {
						t.Fatalf("list: next %q, %v", next, err)
					}
					cursors = append(cursors, next)
					req.Cursor = next
				}
				var accepted []string
				for i, cursor := range cursors {
					other := cursors[(i+1)%len(cursors)]
					for name, bad := range tamperings(cursor, other) {
						n, _, err := l.list(ctx, repository.PageRequest{Limit: 3, Cursor: bad})
						if !errors.Is(err, errs.ErrInvalidInput) || inputField(err) != "cursor" {
							accepted = append(accepted, fmt.Sprintf("cursor %q with %s: %d items, error %v", cursor, name, n, err))
						}
					}
				}
				if len(accepted) > 0 {
					slices.Sort(accepted)
					t.Errorf("%d altered cursors not refused with an *errs.InputError naming cursor, e.g.:\n%s", len(accepted), strings.Join(accepted[:min(3, len(accepted))], "\n"))
				}
			})
		}
	})
}

func TestCursorReuse(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		_, users, markets := everyList(t, d)
		u0, u1, m0, m1 := users[0], users[1], markets[0], markets[1]
		daltest.Bet(t, d, u1.ID, m1.ID)
		if _, err := d.Positions().AddStake(ctx, u1.ID, m1.ID, models.OutcomeYes, 1, daltest.Now); err != nil {
			t.Fatal(err)
		}
		if err := d.Ledger().Append(ctx, &models.LedgerEntry{UserID: u1.ID, Kind: models.LedgerAdjustment, Amount: 1, CreatedAt: daltest.Now}); err != nil {
			t.Fatal(err)
		}
		first := func(t *testing.T, l anyList, req repository.PageRequest) string {
			t.Helper()
			_, next, err := l(ctx, req)
			if err != nil || next == "" {
				t.Fatalf("first page: next %q, %v", next, err)
			}
			return next
		}
		usersList := func(f repository.UserFilters) anyList {
			return erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.User], error) {
				f.PageRequest = req
				return d.Users().List(ctx, f)
			})
		}
		marketsList := func(f repository.MarketFilters) anyList { return erase(listMarkets(d, f)) }
		betsList := func(f repository.BetFilters) anyList { return erase(listBets(d, f)) }
		betsOfMarket := func(id int64) anyList {
			return erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
				return d.Bets().ListByMarket(ctx, id, req)
			})
		}
		betsOfUser := func(id int64) anyList {
			return erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
				return d.Bets().ListByUser(ctx, id, req)
			})
		}
		ledgerOf := func(id int64) anyList {
			return erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.LedgerEntry], error) {
				return d.Ledger().ListByUser(ctx, id, req)
			})
		}
		positionsIn := func(id int64) anyList {
			return erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Position], error) {
				return d.Positions().ListByMarket(ctx, id, req)
			})
		}
		positionsOf := func(id int64) anyList {
			return erase(func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Position], error) {
				return d.Positions().ListByUser(ctx, id, req)
			})
		}
		page := repository.PageRequest{Limit: 2}
		tests := []struct {
			name      string
			from      anyList
			fromReq   repository.PageRequest
			reuse     anyList
			reuseReq  repository.PageRequest
			wantValid bool
		}{
			{"same list, same request (control)", usersList(repository.UserFilters{}), page, usersList(repository.UserFilters{}), page, true},
			{"same list, another limit (allowed)", usersList(repository.UserFilters{}), page, usersList(repository.UserFilters{}), repository.PageRequest{Limit: 9}, true},
			{"default sort named", usersList(repository.UserFilters{}), page, usersList(repository.UserFilters{}), repository.PageRequest{Limit: 2, Sort: "created_at"}, true},
			{"users: other direction", usersList(repository.UserFilters{}), page, usersList(repository.UserFilters{}), repository.PageRequest{Limit: 2, Desc: true}, false},
			{"users: other sort", usersList(repository.UserFilters{}), page, usersList(repository.UserFilters{}), repository.PageRequest{Limit: 2, Sort: "username"}, false},
			{"users: username sort to created_at", usersList(repository.UserFilters{}), repository.PageRequest{Limit: 2, Sort: "username"}, usersList(repository.UserFilters{}), page, false},
			{"users: filter added", usersList(repository.UserFilters{}), page, usersList(repository.UserFilters{UserType: models.UserTypeRegular}), page, false},
			{"users: filter removed", usersList(repository.UserFilters{UsernamePrefix: "p_"}), page, usersList(repository.UserFilters{}), page, false},
			{"users: filter changed", usersList(repository.UserFilters{Search: "p"}), page, usersList(repository.UserFilters{Search: "P"}), page, false},
			{"users: range changed", usersList(repository.UserFilters{CreatedAfter: ptr(daltest.Now)}), page,
				usersList(repository.UserFilters{CreatedAfter: ptr(daltest.Now.Add(-time.Second))}), page, false},
			{"markets: other direction", marketsList(repository.MarketFilters{}), page, marketsList(repository.MarketFilters{}), repository.PageRequest{Limit: 2, Desc: true}, false},
			{"markets: other sort", marketsList(repository.MarketFilters{}), repository.PageRequest{Limit: 2, Sort: "volume"}, marketsList(repository.MarketFilters{}), repository.PageRequest{Limit: 2, Sort: "closes_at"}, false},
			{"markets: filter added", marketsList(repository.MarketFilters{}), page, marketsList(repository.MarketFilters{Status: models.MarketOpen}), page, false},
			{"markets: creator changed", marketsList(repository.MarketFilters{CreatorID: u0.ID}), page, marketsList(repository.MarketFilters{CreatorID: u1.ID}), page, false},
			{"bets of market to another market", betsOfMarket(m0.ID), page, betsOfMarket(m1.ID), page, false},
			{"bets of market to bets of user", betsOfMarket(m0.ID), page, betsOfUser(u0.ID), page, false},
			{"bets of user to another user", betsOfUser(u0.ID), page, betsOfUser(u1.ID), page, false},
			{"bets to bets with outcome", betsList(repository.BetFilters{}), page, betsList(repository.BetFilters{Outcome: models.OutcomeYes}), page, false},
			{"bets: other sort", betsList(repository.BetFilters{}), page, betsList(repository.BetFilters{}), repository.PageRequest{Limit: 2, Sort: "amount"}, false},
			{"bets: other direction", betsList(repository.BetFilters{}), repository.PageRequest{Limit: 2, Sort: "amount"}, betsList(repository.BetFilters{}), repository.PageRequest{Limit: 2, Sort: "amount", Desc: true}, false},
			{"ledger of user to another user", ledgerOf(u0.ID), page, ledgerOf(u1.ID), page, false},
			{"ledger: other direction", ledgerOf(u0.ID), page, ledgerOf(u0.ID), repository.PageRequest{Limit: 2, Desc: true}, false},
			{"positions in market to another market", positionsIn(m0.ID), page, positionsIn(m1.ID), page, false},
			{"positions of user to another user", positionsOf(u0.ID), page, positionsOf(u1.ID), page, false},
			{"positions in market to positions of user", positionsIn(m0.ID), page, positionsOf(m0.ID), page, false},
			// A cursor belongs to its list: those of another repository are
			// refused even when sort names and filters look alike.
			{"users to markets", usersList(repository.UserFilters{}), page, marketsList(repository.MarketFilters{}), page, false},
			{"markets to users", marketsList(repository.MarketFilters{}), page, usersList(repository.UserFilters{}), page, false},
			{"users to ledger", usersList(repository.UserFilters{}), page, ledgerOf(u0.ID), page, false},
			{"bets to ledger", betsList(repository.BetFilters{}), page, ledgerOf(u0.ID), page, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				req := tc.reuseReq
				req.Cursor = first(t, tc.from, tc.fromReq)
				n, _, err := tc.reuse(ctx, req)
				if tc.wantValid {
					if err != nil || n == 0 {
						t.Errorf("reused cursor: %d items, %v; want a page", n, err)
					}
					return
				}
				if !errors.Is(err, errs.ErrInvalidInput) || inputField(err) != "cursor" {
					t.Errorf("reused cursor: %d items, error %v; want an *errs.InputError naming cursor", n, err)
				}
			})
		}
	})
}

// TestCursorAfterDeletedRow continues a list from a cursor whose last row
// was deleted: the page starts at the next row.
func TestCursorAfterDeletedRow(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		var ids []int64
		for range 10 {
			ids = append(ids, daltest.User(t, d, func(u *models.User) { u.CreatedAt = daltest.Now }).ID)
		}
		p, err := d.Users().List(ctx, repository.UserFilters{PageRequest: repository.PageRequest{Limit: 4}})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Users().Delete(ctx, p.Items[3].ID); err != nil {
			t.Fatal(err)
		}
		if err := d.Users().Delete(ctx, ids[4]); err != nil {
			t.Fatal(err)
		}
		next, err := d.Users().List(ctx, repository.UserFilters{PageRequest: repository.PageRequest{Limit: 4, Cursor: p.NextCursor}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := idsOf(next.Items, userID), ids[5:9]; !slices.Equal(got, want) {
			t.Errorf("page after a deleted row = %v, want %v", got, want)
		}
	})
}

// insertsPerPage is how many rows are inserted for each page fetched.
const insertsPerPage = 3

// concurrentCase pages through a list of T while another goroutine inserts
// rows of it.
type concurrentCase[T any, K cmp.Ordered] struct {
	list lister[T]
	id   func(T) int64
	key  func(T) K
	// insert adds one row, with sort values spread before, among and after
	// the existing ones (rnd is the inserting goroutine's own).
	insert func(ctx context.Context, rnd *rand.Rand) error
}

// run pages with limit 7 through the list while a goroutine inserts rows:
// in lockstep (insertsPerPage rows between two page fetches, the next fetch
// waiting for them) or racing (the same number of rows per page, inserted
// while the next page is being fetched). Every row present at the start must
// appear exactly once, no row twice, in keyset order.
func (c concurrentCase[T, K]) run(t *testing.T, initial []int64, req repository.PageRequest, lockstep bool) {
	t.Helper()
	ctx := t.Context()
	var (
		wg       sync.WaitGroup
		inserted atomic.Int64
		failed   atomic.Value
		// next carries one token per row to insert; done, in lockstep,
		// reports each row inserted.
		next = make(chan struct{}, 1000)
		done = make(chan struct{}, 1000)
	)
	wg.Go(func() {
		rnd := rand.New(rand.NewPCG(7, 11))
		for range next {
			if failed.Load() == nil {
				if err := c.insert(ctx, rnd); err != nil {
					failed.Store(err)
				} else {
					inserted.Add(1)
				}
			}
			done <- struct{}{}
		}
	})
	between := func() {
		for range insertsPerPage {
			next <- struct{}{}
		}
		if lockstep {
			for range insertsPerPage {
				<-done
			}
		}
	}
	got := collectAll(t, c.list, req, between)
	close(next)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if inserted.Load() == 0 {
		t.Fatal("no row was inserted while paging")
	}

	seen := map[int64]int{}
	for _, it := range got {
		seen[c.id(it)]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("row %d listed %d times", id, n)
		}
	}
	for _, id := range initial {
		if seen[id] != 1 {
			t.Errorf("row %d, present at the start, listed %d times", id, seen[id])
		}
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		order := cmp.Or(cmp.Compare(c.key(a), c.key(b)), cmp.Compare(c.id(a), c.id(b)))
		if req.Desc {
			order = -order
		}
		if order >= 0 {
			t.Errorf("rows %d and %d out of order", c.id(a), c.id(b))
		}
	}
	t.Logf("%d rows at the start, %d inserted while paging, %d listed", len(initial), inserted.Load(), len(got))
}

// initialRows is how many rows a list holds when paging starts.
const initialRows = 40

// spread returns a time from d before Now to 2d after it, on a whole second,
// so that inserted rows tie with existing ones.
func spread(rnd *rand.Rand, d time.Duration) time.Time {
	return daltest.Now.Add(time.Duration(rnd.Int64N(int64(d)*3)) - d).Truncate(time.Second)
}

// eachPagingCase runs fn as a subtest for each sort of sorts, both
// directions and both insertion modes, each on fresh databases.
func eachPagingCase(t *testing.T, sorts []string, fn func(t *testing.T, d *dal.DataAccessLayer, req repository.PageRequest, lockstep bool)) {
	for _, sort := range sorts {
		for _, desc := range []bool{false, true} {
			for _, lockstep := range []bool{true, false} {
				mode := "racing"
				if lockstep {
					mode = "lockstep"
				}
				t.Run(fmt.Sprintf("%s desc=%v %s", sort, desc, mode), func(t *testing.T) {
					daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
						fn(t, d, repository.PageRequest{Sort: sort, Desc: desc, Limit: 7}, lockstep)
					})
				})
			}
		}
	}
}

func TestPaginationWhileInsertingUsers(t *testing.T) {
	eachPagingCase(t, []string{"created_at", "username"}, func(t *testing.T, d *dal.DataAccessLayer, req repository.PageRequest, lockstep bool) {
		var initial []int64
		for i := range initialRows {
			initial = append(initial, daltest.User(t, d, func(u *models.User) {
				u.CreatedAt = daltest.Now.Add(time.Duration(i%8) * time.Second)
				u.Username = fmt.Sprintf("m_%03d", (i*17)%initialRows)
			}).ID)
		}
		var n atomic.Int64
		insert := func(ctx context.Context, rnd *rand.Rand) error {
			i := n.Add(1)
			u := &models.User{Username: fmt.Sprintf("m_%03d_%d", rnd.IntN(initialRows+5), i), DisplayName: fmt.Sprintf("New %d", i),
				Email: fmt.Sprintf("new%d@example.com", i), UserType: models.UserTypeRegular, CreatedAt: spread(rnd, 8*time.Second)}
			return d.Users().Create(ctx, u)
		}
		list := func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.User], error) {
			return d.Users().List(ctx, repository.UserFilters{PageRequest: req})
		}
		if req.Sort == "username" {
			c := concurrentCase[*models.User, string]{list: list, id: userID, key: func(u *models.User) string { return u.Username }, insert: insert}
			c.run(t, initial, req, lockstep)
			return
		}
		c := concurrentCase[*models.User, int64]{list: list, id: userID, key: func(u *models.User) int64 { return u.CreatedAt.UnixNano() }, insert: insert}
		c.run(t, initial, req, lockstep)
	})
}

func TestPaginationWhileInsertingMarkets(t *testing.T) {
	keys := map[string]func(m *models.Market) int64{
		"created_at": func(m *models.Market) int64 { return m.CreatedAt.UnixNano() },
		"closes_at":  func(m *models.Market) int64 { return m.ClosesAt.UnixNano() },
		"volume":     func(m *models.Market) int64 { return m.Volume },
	}
	eachPagingCase(t, []string{"created_at", "closes_at", "volume"}, func(t *testing.T, d *dal.DataAccessLayer, req repository.PageRequest, lockstep bool) {
		creator := daltest.User(t, d)
		var initial []int64
		for i := range initialRows {
			m := daltest.Market(t, d, creator.ID, func(m *models.Market) {
				m.CreatedAt = daltest.Now.Add(time.Duration(i%8) * time.Second)
				m.ClosesAt = daltest.Now.Add(time.Duration(i%5) * time.Second)
			})
			if i%3 > 0 {
				if err := d.Markets().AddBet(t.Context(), m.ID, models.OutcomeYes, int64(i%4*10), 0.5); err != nil {
					t.Fatal(err)
				}
			}
			initial = append(initial, m.ID)
		}
		insert := func(ctx context.Context, rnd *rand.Rand) error {
			// The volume is set at creation: a market's sort value never
			// changes while the list is paged.
			v := rnd.Int64N(5) * 10
			m := &models.Market{CreatorID: creator.ID, QuestionTitle: "New", YesLabel: "YES", NoLabel: "NO", Status: models.MarketOpen, Probability: 0.5,
				CreatedAt: spread(rnd, 8*time.Second), ClosesAt: spread(rnd, 5*time.Second), YesStake: v, Volume: v}
			return d.Markets().Create(ctx, m)
		}
		c := concurrentCase[*models.Market, int64]{list: listMarkets(d, repository.MarketFilters{}), id: marketID, key: keys[req.Sort], insert: insert}
		c.run(t, initial, req, lockstep)
	})
}

func TestPaginationWhileInsertingBets(t *testing.T) {
	keys := map[string]func(b *models.Bet) int64{
		"placed_at": func(b *models.Bet) int64 { return b.PlacedAt.UnixNano() },
		"amount":    func(b *models.Bet) int64 { return b.Amount },
	}
	eachPagingCase(t, []string{"placed_at", "amount"}, func(t *testing.T, d *dal.DataAccessLayer, req repository.PageRequest, lockstep bool) {
		u := daltest.User(t, d)
		mk := daltest.Market(t, d, u.ID)
		var initial []int64
		for i := range initialRows {
			initial = append(initial, daltest.Bet(t, d, u.ID, mk.ID, func(b *models.Bet) {
				b.PlacedAt = daltest.Now.Add(time.Duration(i%8) * time.Second)
				b.Amount = int64(i%5 + 1)
			}).ID)
		}
		insert := func(ctx context.Context, rnd *rand.Rand) error {
			return d.Bets().Create(ctx, &models.Bet{UserID: u.ID, MarketID: mk.ID, Outcome: models.OutcomeYes, Amount: rnd.Int64N(7) + 1,
				ProbabilityAfter: 0.5, PlacedAt: spread(rnd, 8*time.Second)})
		}
		list := func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Bet], error) {
			return d.Bets().ListByMarket(ctx, mk.ID, req)
		}
		c := concurrentCase[*models.Bet, int64]{list: list, id: betID, key: keys[req.Sort], insert: insert}
		c.run(t, initial, req, lockstep)
	})
}
