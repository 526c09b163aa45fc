package repository_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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

func TestUserCreateAndGet(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		// A time in another zone is stored as the same instant.
		created := daltest.Now.Add(-90 * time.Minute).In(time.FixedZone("UTC+3", 3*3600))
		u := &models.User{Username: "alice_1", DisplayName: "Alice", Email: "alice@example.com", UserType: models.UserTypeAdmin,
			InitialBalance: 1000, Balance: 900, CreatedAt: created, UpdatedAt: created.Add(time.Microsecond)}
		if err := d.Users().Create(ctx, u); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if u.ID == 0 {
			t.Fatal("Create did not set the ID")
		}
		got, err := d.Users().GetByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("GetByID: %v", err)
		}
		if diff := cmp.Diff(got, u); diff != "" {
			t.Errorf("GetByID (-got +want):\n%s", diff)
		}
		got, err = d.Users().GetByUsername(ctx, "alice_1")
		if err != nil {
			t.Fatalf("GetByUsername: %v", err)
		}
		if diff := cmp.Diff(got, u); diff != "" {
			t.Errorf("GetByUsername (-got +want):\n%s", diff)
		}

		// Zero timestamps are set by Create.
		v := &models.User{Username: "bob", DisplayName: "Bob", Email: "bob@example.com", UserType: models.UserTypeRegular}
		if err := d.Users().Create(ctx, v); err != nil {
			t.Fatalf("Create without times: %v", err)
		}
		if v.ID == 0 || v.ID == u.ID || v.CreatedAt.IsZero() || v.UpdatedAt.IsZero() {
			t.Errorf("Create without times: ID %d (first user %d), CreatedAt %v, UpdatedAt %v", v.ID, u.ID, v.CreatedAt, v.UpdatedAt)
		}
	})
}

func TestUserGetNotFound(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		got, err := d.Users().GetByID(ctx, u.ID+1000)
		wantErr(t, "GetByID of an unknown id", err, errs.ErrNotFound)
		if got != nil {
			t.Errorf("GetByID of an unknown id returned %+v with the error", got)
		}
		got, err = d.Users().GetByUsername(ctx, "nobody_here")
		wantErr(t, "GetByUsername of an unknown name", err, errs.ErrNotFound)
		if got != nil {
			t.Errorf("GetByUsername of an unknown name returned %+v with the error", got)
		}
		// Usernames match exactly: no pattern, no case folding.
		_, err = d.Users().GetByUsername(ctx, strings.ToUpper(u.Username))
		wantErr(t, "GetByUsername in upper case", err, errs.ErrNotFound)
		_, err = d.Users().GetByUsername(ctx, "user_%")
		wantErr(t, "GetByUsername with a wildcard", err, errs.ErrNotFound)
	})
}

func TestUserCreateConflict(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		taken := daltest.User(t, d)
		tests := []struct {
			name  string
			set   func(u *models.User)
			field string
		}{
			{"username", func(u *models.User) { u.Username = taken.Username }, "username"},
			{"display name", func(u *models.User) { u.DisplayName = taken.DisplayName }, "display_name"},
			{"email", func(u *models.User) { u.Email = taken.Email }, "email"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				u := &models.User{Username: "fresh_name", DisplayName: "Fresh", Email: "fresh@example.com", UserType: models.UserTypeRegular}
				tc.set(u)
				err := d.Users().Create(ctx, u)
				wantConstraint(t, "Create", err, errs.ErrConflict, tc.field)
			})
		}
		if n := countRows(t, d, &models.User{}); n != 1 {
			t.Errorf("users after failed creates = %d, want 1", n)
		}
	})
}

func TestUserCreateInvalidInput(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		tests := []struct {
			name  string
			set   func(u *models.User)
			field string
		}{
			{"username with upper case", func(u *models.User) { u.Username = "Alice" }, "username"},
			{"username too short", func(u *models.User) { u.Username = "ab" }, "username"},
			{"username too long", func(u *models.User) { u.Username = strings.Repeat("a", 31) }, "username"},
			{"username with a dash", func(u *models.User) { u.Username = "al-ice" }, "username"},
			{"empty display name", func(u *models.User) { u.DisplayName = "" }, "display_name"},
			{"email without at", func(u *models.User) { u.Email = "alice.example.com" }, "email"},
			{"unknown user type", func(u *models.User) { u.UserType = "ROOT" }, "user_type"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				u := &models.User{Username: "alice", DisplayName: "Alice", Email: "alice@example.com", UserType: models.UserTypeRegular}
				tc.set(u)
				wantConstraint(t, "Create", d.Users().Create(ctx, u), errs.ErrInvalidInput, tc.field)
			})
		}
		// The boundaries of the username rule are accepted.
		for _, name := range []string{"abc", strings.Repeat("z", 30), "a_1"} {
			u := &models.User{Username: name, DisplayName: "D " + name, Email: name + "@example.com", UserType: models.UserTypeRegular}
			if err := d.Users().Create(ctx, u); err != nil {
				t.Errorf("Create %q: %v", name, err)
			}
		}
	})
}

func TestUserUpdate(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		created := daltest.User(t, d, func(u *models.User) { u.Balance, u.InitialBalance = 500, 500 })
		other := daltest.User(t, d)
		// As stored (PostgreSQL keeps microseconds of the nanoseconds Create set).
		u, err := d.Users().GetByID(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}

		change := *u
		change.DisplayName, change.Email, change.UserType = "Renamed", "renamed@example.com", models.UserTypeAdmin
		// Update saves only the profile fields: the rest is ignored.
		change.Username, change.Balance, change.InitialBalance = "sneaky", 1_000_000, 7
		if err := d.Users().Update(ctx, &change); err != nil {
			t.Fatalf("Update: %v", err)
		}
		// Saving the same values again is no "not found".
		if err := d.Users().Update(ctx, &change); err != nil {
			t.Errorf("Update with unchanged values: %v", err)
		}
		got, err := d.Users().GetByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("GetByID: %v", err)
		}
		want := *u
		want.DisplayName, want.Email, want.UserType = "Renamed", "renamed@example.com", models.UserTypeAdmin
		want.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(got, &want); diff != "" {
			t.Errorf("after Update (-got +want):\n%s", diff)
		}
		if got.UpdatedAt.Before(u.UpdatedAt) {
			t.Errorf("UpdatedAt went back from %v to %v", u.UpdatedAt, got.UpdatedAt)
		}

		tests := []struct {
			name string
			set  func(u *models.User)
			kind error
			// field is checked for constraint errors.
			field string
		}{
			{"unknown user", func(u *models.User) { u.ID += 1000 }, errs.ErrNotFound, ""},
			{"display name taken", func(u *models.User) { u.DisplayName = other.DisplayName }, errs.ErrConflict, "display_name"},
			{"email taken", func(u *models.User) { u.Email = other.Email }, errs.ErrConflict, "email"},
			{"invalid email", func(u *models.User) { u.Email = "nope" }, errs.ErrInvalidInput, "email"},
			{"invalid user type", func(u *models.User) { u.UserType = "GUEST" }, errs.ErrInvalidInput, "user_type"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c := *got
				tc.set(&c)
				err := d.Users().Update(ctx, &c)
				if tc.field == "" {
					wantErr(t, "Update", err, tc.kind)
				} else {
					wantConstraint(t, "Update", err, tc.kind, tc.field)
				}
				after, err := d.Users().GetByID(ctx, u.ID)
				if err != nil {
					t.Fatalf("GetByID: %v", err)
				}
				if diff := cmp.Diff(after, got); diff != "" {
					t.Errorf("a failed Update changed the user (-got +want):\n%s", diff)
				}
			})
		}
	})
}

func TestUserDelete(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		ctx := t.Context()
		t.Run("deletes the user and their API keys", func(t *testing.T) {
			u := daltest.User(t, d)
			key := &models.APIKey{UserID: u.ID, KeyHash: strings.Repeat("ab", 32), KeyPrefix: "sp_ab", CreatedAt: daltest.Now}
			if err := tdb.DB.Create(key).Error; err != nil {
				t.Fatal(err)
			}
			if err := d.Users().Delete(ctx, u.ID); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			_, err := d.Users().GetByID(ctx, u.ID)
			wantErr(t, "GetByID after Delete", err, errs.ErrNotFound)
			if n := countRows(t, d, &models.APIKey{}); n != 0 {
				t.Errorf("API keys after Delete = %d, want 0", n)
			}
			wantErr(t, "second Delete", d.Users().Delete(ctx, u.ID), errs.ErrNotFound)
		})
		t.Run("unknown user", func(t *testing.T) {
			wantErr(t, "Delete", d.Users().Delete(ctx, 987654), errs.ErrNotFound)
		})

		creator := daltest.User(t, d)
		market := daltest.Market(t, d, creator.ID)
		bettor := daltest.User(t, d)
		daltest.Bet(t, d, bettor.ID, market.ID)
		ledgerOnly := daltest.User(t, d)
		if err := d.Ledger().Append(ctx, &models.LedgerEntry{UserID: ledgerOnly.ID, Kind: models.LedgerAdjustment, Amount: 5, BalanceAfter: 5, CreatedAt: daltest.Now}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			id   int64
		}{
			{"user who has bets", bettor.ID},
			{"creator of a market", creator.ID},
			{"user with ledger entries", ledgerOnly.ID},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "Delete", d.Users().Delete(ctx, tc.id), errs.ErrInvalidReference)
				if _, err := d.Users().GetByID(ctx, tc.id); err != nil {
					t.Errorf("GetByID after a refused Delete: %v", err)
				}
			})
		}
	})
}

func TestUserAddToBalance(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d, func(u *models.User) { u.Balance = 100 })
		const floor = -50
		steps := []struct {
			name  string
			delta int64
			want  int64 // balance after
			err   error
		}{
			{"credit", 20, 120, nil},
			{"debit to exactly the floor", -170, floor, nil},
			{"one credit below the floor", -1, floor, errs.ErrInsufficientCredits},
			{"a large debit", -1_000_000, floor, errs.ErrInsufficientCredits},
			{"zero at the floor", 0, floor, nil},
			{"credit from the floor", 1, floor + 1, nil},
			{"debit back to the floor", -1, floor, nil},
		}
		for _, s := range steps {
			got, err := d.Users().AddToBalance(ctx, u.ID, s.delta, floor)
			wantErr(t, s.name, err, s.err)
			if s.err == nil && got != s.want {
				t.Errorf("%s: AddToBalance returned %d, want %d", s.name, got, s.want)
			}
			after, err := d.Users().GetByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Balance != s.want {
				t.Errorf("%s: balance = %d, want %d", s.name, after.Balance, s.want)
			}
		}
		for _, delta := range []int64{10, -10, -1_000_000} {
			_, err := d.Users().AddToBalance(ctx, u.ID+1000, delta, floor)
			wantErr(t, fmt.Sprintf("AddToBalance(%d) of an unknown user", delta), err, errs.ErrNotFound)
		}
	})
}

func TestUserAddToBalanceConcurrently(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d, func(u *models.User) { u.Balance = 95 })
		// 16 debits of 10 race for 95 credits above a floor of -5: exactly
		// 10 succeed, whatever the interleaving.
		const workers = 16
		results := make([]error, workers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				<-start
				_, results[i] = d.Users().AddToBalance(ctx, u.ID, -10, -5)
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range results {
			if err == nil {
				ok++
				continue
			}
			wantErr(t, fmt.Sprintf("debit %d", i), err, errs.ErrInsufficientCredits)
		}
		if ok != 10 {
			t.Errorf("%d debits succeeded, want 10", ok)
		}
		got, err := d.Users().GetByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Balance != -5 {
			t.Errorf("balance = %d, want -5", got.Balance)
		}
	})
}

func TestUserAdjustBalances(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		users := []*models.User{
			daltest.User(t, d, func(u *models.User) { u.Balance = 10 }),
			daltest.User(t, d, func(u *models.User) { u.Balance = 0 }),
			daltest.User(t, d, func(u *models.User) { u.Balance = -30 }),
			daltest.User(t, d, func(u *models.User) { u.Balance = 7 }),
		}
		balances := func() []int64 {
			t.Helper()
			var got []int64
			for _, u := range users {
				x, err := d.Users().GetByID(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, x.Balance)
			}
			return got
		}

		err := d.Users().AdjustBalances(ctx, []repository.BalanceDelta{
			{UserID: users[0].ID, Delta: 5}, {UserID: users[1].ID, Delta: 100}, {UserID: users[2].ID, Delta: -20},
		})
		if err != nil {
			t.Fatalf("AdjustBalances: %v", err)
		}
		want := []int64{15, 100, -50, 7} // no floor; users[3] untouched
		if diff := cmp.Diff(balances(), want); diff != "" {
			t.Errorf("balances (-got +want):\n%s", diff)
		}

		if err := d.Users().AdjustBalances(ctx, nil); err != nil {
			t.Errorf("AdjustBalances(nil): %v", err)
		}

		tests := []struct {
			name   string
			deltas []repository.BalanceDelta
		}{
			{"unknown user", []repository.BalanceDelta{{UserID: users[0].ID, Delta: 1}, {UserID: users[3].ID + 1000, Delta: 1}}},
			{"only unknown users", []repository.BalanceDelta{{UserID: users[3].ID + 1000, Delta: 1}}},
			{"user listed twice", []repository.BalanceDelta{{UserID: users[0].ID, Delta: 1}, {UserID: users[0].ID, Delta: 1}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				// Inside a transaction the failure changes nothing.
				err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
					return tx.Users().AdjustBalances(ctx, tc.deltas)
				})
				wantErr(t, "AdjustBalances", err, errs.ErrNotFound)
				if diff := cmp.Diff(balances(), want); diff != "" {
					t.Errorf("balances after a failed AdjustBalances (-got +want):\n%s", diff)
				}
			})
		}
	})
}

func TestUserListFilters(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		at := func(minutes int) time.Time { return daltest.Now.Add(time.Duration(minutes) * time.Minute) }
		specs := []struct {
			username, display string
			admin             bool
			created           time.Time
		}{
			{"ab_c", "Alpha", true, at(0)},
			{"abxc", "Bravo 100% sure", false, at(1)},
			{"ab_d", "CHARLIE", false, at(2)},
			{"abc", "delta_x", true, at(3)},
			{"zed", "Echo Ab", false, at(4)},
			{"charlie_2", "Foxtrot", false, at(5)},
			{"xab", "Golf 100x", true, at(5)},
		}
		var users []*models.User
		for _, s := range specs {
			u := &models.User{Username: s.username, DisplayName: s.display, Email: s.username + "@example.com",
				UserType: models.UserTypeRegular, CreatedAt: s.created}
			if s.admin {
				u.UserType = models.UserTypeAdmin
			}
			if err := d.Users().Create(ctx, u); err != nil {
				t.Fatal(err)
			}
			users = append(users, u)
		}
		containsFold := func(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }
		search := func(q string) func(u *models.User) bool {
			return func(u *models.User) bool { return containsFold(u.Username, q) || containsFold(u.DisplayName, q) }
		}
		tests := []struct {
			name   string
			filter repository.UserFilters
			keep   func(u *models.User) bool
		}{
			{"none", repository.UserFilters{}, func(*models.User) bool { return true }},
			{"admins", repository.UserFilters{UserType: models.UserTypeAdmin}, func(u *models.User) bool { return u.UserType == models.UserTypeAdmin }},
			{"regular", repository.UserFilters{UserType: models.UserTypeRegular}, func(u *models.User) bool { return u.UserType == models.UserTypeRegular }},
			{"prefix", repository.UserFilters{UsernamePrefix: "ab"}, func(u *models.User) bool { return strings.HasPrefix(u.Username, "ab") }},
			// _ and % in a prefix are literal characters, not wildcards.
			{"prefix with underscore", repository.UserFilters{UsernamePrefix: "ab_"}, func(u *models.User) bool { return strings.HasPrefix(u.Username, "ab_") }},
			{"prefix with percent", repository.UserFilters{UsernamePrefix: "ab%"}, func(*models.User) bool { return false }},
			{"prefix only percent", repository.UserFilters{UsernamePrefix: "%"}, func(*models.User) bool { return false }},
			{"prefix with backslash", repository.UserFilters{UsernamePrefix: `ab\`}, func(*models.User) bool { return false }},
			{"prefix is case sensitive", repository.UserFilters{UsernamePrefix: "AB"}, func(*models.User) bool { return false }},
			// Nor are the GLOB wildcards (SQLite matches prefixes with GLOB).
			{"prefix only star", repository.UserFilters{UsernamePrefix: "*"}, func(*models.User) bool { return false }},
			{"prefix with star", repository.UserFilters{UsernamePrefix: "ab*"}, func(*models.User) bool { return false }},
			{"prefix with question mark", repository.UserFilters{UsernamePrefix: "ab?c"}, func(*models.User) bool { return false }},
			{"prefix with a class", repository.UserFilters{UsernamePrefix: "[a]b"}, func(*models.User) bool { return false }},
			{"prefix with brackets", repository.UserFilters{UsernamePrefix: "ab["}, func(*models.User) bool { return false }},
			{"prefix with closing bracket", repository.UserFilters{UsernamePrefix: "]"}, func(*models.User) bool { return false }},
			{"whole username as prefix", repository.UserFilters{UsernamePrefix: "abxc"}, func(u *models.User) bool { return u.Username == "abxc" }},
			{"prefix matches at the start only", repository.UserFilters{UsernamePrefix: "c"}, func(u *models.User) bool { return strings.HasPrefix(u.Username, "c") }},
			{"search any case in both names", repository.UserFilters{Search: "AB"}, search("ab")},
			{"search display name", repository.UserFilters{Search: "charlie"}, search("charlie")},
			{"search percent is literal", repository.UserFilters{Search: "0%"}, search("0%")},
			{"search underscore is literal", repository.UserFilters{Search: "a_"}, search("a_")},
			{"search nothing", repository.UserFilters{Search: "nothing like it"}, func(*models.User) bool { return false }},
			{"created after (inclusive)", repository.UserFilters{CreatedAfter: ptr(at(2))}, func(u *models.User) bool { return !u.CreatedAt.Before(at(2)) }},
			{"created before (exclusive)", repository.UserFilters{CreatedBefore: ptr(at(2))}, func(u *models.User) bool { return u.CreatedAt.Before(at(2)) }},
			{"created range", repository.UserFilters{CreatedAfter: ptr(at(1)), CreatedBefore: ptr(at(5))},
				func(u *models.User) bool { return !u.CreatedAt.Before(at(1)) && u.CreatedAt.Before(at(5)) }},
			{"created range in another zone", repository.UserFilters{CreatedAfter: ptr(at(1).In(time.FixedZone("W", -5*3600))), CreatedBefore: ptr(at(5).In(time.FixedZone("E", 9*3600)))},
				func(u *models.User) bool { return !u.CreatedAt.Before(at(1)) && u.CreatedAt.Before(at(5)) }},
			{"empty range", repository.UserFilters{CreatedAfter: ptr(at(3)), CreatedBefore: ptr(at(3))}, func(*models.User) bool { return false }},
			{"combined", repository.UserFilters{UserType: models.UserTypeAdmin, UsernamePrefix: "ab", CreatedBefore: ptr(at(3))},
				func(u *models.User) bool {
					return u.UserType == models.UserTypeAdmin && strings.HasPrefix(u.Username, "ab") && u.CreatedAt.Before(at(3))
				}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				f := tc.filter
				f.Limit = 2
				got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.User], error) {
					f.PageRequest = req
					return d.Users().List(ctx, f)
				}, f.PageRequest, nil)
				if diff := cmp.Diff(ascending(idsOf(got, userID)), matchingIDs(users, userID, tc.keep)); diff != "" {
					t.Errorf("ids (-got +want):\n%s", diff)
				}
			})
		}
		t.Run("unknown user type", func(t *testing.T) {
			_, err := d.Users().List(ctx, repository.UserFilters{UserType: "ROOT"})
			wantErr(t, "List", err, errs.ErrInvalidInput)
		})
	})
}

func TestUserListSorts(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		// Several users share each creation time, so that pages end inside
		// runs of equal values.
		var users []*models.User
		for i := range 23 {
			created := daltest.Now.Add(time.Duration(i%4) * time.Second).Add(time.Duration(i%2) * time.Microsecond)
			users = append(users, daltest.User(t, d, func(u *models.User) {
				u.Username = fmt.Sprintf("u%02d_%c", (i*7)%23, 'a'+i%3)
				u.CreatedAt = created
				u.Balance = int64(i%5) * 100 // runs of equal balances
			}))
		}
		byCreated := func(u *models.User) int64 { return u.CreatedAt.UnixNano() }
		byUsername := func(u *models.User) string { return u.Username }
		byBalance := func(u *models.User) int64 { return u.Balance }
		tests := []struct {
			sort string
			desc bool
			want []int64
		}{
			{"", false, sortedIDs(users, byCreated, userID, false)},
			{"", true, sortedIDs(users, byCreated, userID, true)},
			{"created_at", false, sortedIDs(users, byCreated, userID, false)},
			{"created_at", true, sortedIDs(users, byCreated, userID, true)},
			{"username", false, sortedIDs(users, byUsername, userID, false)},
			{"username", true, sortedIDs(users, byUsername, userID, true)},
			{"balance", false, sortedIDs(users, byBalance, userID, false)},
			{"balance", true, sortedIDs(users, byBalance, userID, true)},
		}
		for _, tc := range tests {
			for _, limit := range []int{1, 4, 23, 0} {
				t.Run(fmt.Sprintf("%s desc=%v limit=%d", tc.sort, tc.desc, limit), func(t *testing.T) {
					got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.User], error) {
						return d.Users().List(ctx, repository.UserFilters{PageRequest: req})
					}, repository.PageRequest{Sort: tc.sort, Desc: tc.desc, Limit: limit}, nil)
					if diff := cmp.Diff(idsOf(got, userID), tc.want); diff != "" {
						t.Errorf("order (-got +want):\n%s", diff)
					}
				})
			}
		}
		for _, sort := range []string{"id", "created_at DESC", "username; DROP TABLE users", "CREATED_AT"} {
			_, err := d.Users().List(ctx, repository.UserFilters{PageRequest: repository.PageRequest{Sort: sort}})
			wantErr(t, fmt.Sprintf("List sorted by %q", sort), err, errs.ErrInvalidInput)
		}
	})
}

func TestUserListTies(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		// Every user has the same creation time: the id alone orders them.
		var ids []int64
		for range 30 {
			ids = append(ids, daltest.User(t, d, func(u *models.User) { u.CreatedAt = daltest.Now }).ID)
		}
		for _, desc := range []bool{false, true} {
			got := collectAll(t, func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.User], error) {
				return d.Users().List(ctx, repository.UserFilters{PageRequest: req})
			}, repository.PageRequest{Limit: 7, Desc: desc}, nil)
			want := ascending(ids)
			if desc {
				slices.Reverse(want)
			}
			if diff := cmp.Diff(idsOf(got, userID), want); diff != "" {
				t.Errorf("desc=%v: order (-got +want):\n%s", desc, diff)
			}
		}
	})
}

// keyHash returns a well-formed (64 hex digits) API key hash for n.
func keyHash(n int) string { return fmt.Sprintf("%064x", n) }

func TestUserAPIKeys(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		u := daltest.User(t, d)
		other := daltest.User(t, d)
		keys := []*models.APIKey{
			{UserID: u.ID, KeyHash: keyHash(1), KeyPrefix: "sp_1", CreatedAt: daltest.Now},
			{UserID: u.ID, KeyHash: keyHash(2), KeyPrefix: "sp_2", CreatedAt: daltest.Now},
			{UserID: other.ID, KeyHash: keyHash(3), KeyPrefix: "sp_3", CreatedAt: daltest.Now},
			{UserID: other.ID, KeyHash: keyHash(4), KeyPrefix: "sp_4", CreatedAt: daltest.Now, RevokedAt: ptr(daltest.Now)},
		}
		for _, k := range keys {
			if err := d.Users().CreateAPIKey(ctx, k); err != nil {
				t.Fatalf("CreateAPIKey: %v", err)
			}
			if k.ID == 0 {
				t.Fatal("CreateAPIKey did not set the ID")
			}
		}
		for _, tc := range []struct {
			hash string
			want *models.User
		}{{keyHash(1), u}, {keyHash(2), u}, {keyHash(3), other}} {
			got, err := d.Users().GetByAPIKeyHash(ctx, tc.hash)
			if err != nil {
				t.Fatalf("GetByAPIKeyHash: %v", err)
			}
			want, err := d.Users().GetByID(ctx, tc.want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("GetByAPIKeyHash (-got +want):\n%s", diff)
			}
		}
		for name, hash := range map[string]string{"revoked key": keyHash(4), "unknown key": keyHash(5), "prefix of a hash": keyHash(1)[:10], "empty": ""} {
			got, err := d.Users().GetByAPIKeyHash(ctx, hash)
			wantErr(t, "GetByAPIKeyHash of a "+name, err, errs.ErrNotFound)
			if got != nil {
				t.Errorf("GetByAPIKeyHash of a %s returned %+v with the error", name, got)
			}
		}

		tests := []struct {
			name  string
			key   models.APIKey
			kind  error
			field string // checked when not empty
		}{
			{"hash taken", models.APIKey{UserID: other.ID, KeyHash: keyHash(1), KeyPrefix: "sp_x"}, errs.ErrConflict, "key_hash"},
			{"unknown user", models.APIKey{UserID: other.ID + 1000, KeyHash: keyHash(6), KeyPrefix: "sp_x"}, errs.ErrInvalidReference, ""},
			{"short hash", models.APIKey{UserID: u.ID, KeyHash: "abc", KeyPrefix: "sp_x"}, errs.ErrInvalidInput, "key_hash"},
			{"empty prefix", models.APIKey{UserID: u.ID, KeyHash: keyHash(7), KeyPrefix: ""}, errs.ErrInvalidInput, "key_prefix"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				k := tc.key
				k.CreatedAt = daltest.Now
				err := d.Users().CreateAPIKey(ctx, &k)
				if tc.field == "" {
					wantErr(t, "CreateAPIKey", err, tc.kind)
				} else {
					wantConstraint(t, "CreateAPIKey", err, tc.kind, tc.field)
				}
			})
		}

		// Deleting the user deletes their keys.
		if err := d.Users().Delete(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err := d.Users().GetByAPIKeyHash(ctx, keyHash(1))
		wantErr(t, "GetByAPIKeyHash after the user's deletion", err, errs.ErrNotFound)
	})
}
