package repository_test

import (
	"fmt"
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

// bulkRows is the size of the large batches: the issue asks for 100k.
const bulkRows = 100_000

// newUsers returns n users named with prefix, created a millisecond apart.
func newUsers(prefix string, n int) []*models.User {
	users := make([]*models.User, n)
	for i := range users {
		users[i] = &models.User{Username: fmt.Sprintf("%s_%d", prefix, i), DisplayName: fmt.Sprintf("%s %d", prefix, i),
			Email: fmt.Sprintf("%s%d@example.com", prefix, i), UserType: models.UserTypeRegular, InitialBalance: 1000, Balance: int64(i),
			CreatedAt: daltest.Now.Add(time.Duration(i) * time.Millisecond), UpdatedAt: daltest.Now}
	}
	return users
}

// betsOn returns n bets spread over users on market; every other one has an
// idempotency key, unique per user.
func betsOn(n int, users []*models.User, market int64) []*models.Bet {
	bets := make([]*models.Bet, n)
	for i := range bets {
		bets[i] = &models.Bet{UserID: users[i%len(users)].ID, MarketID: market, Outcome: models.OutcomeYes, Amount: int64(i%100 + 1),
			Fee: int64(i % 3), ProbabilityAfter: 0.5, PlacedAt: daltest.Now.Add(time.Duration(i) * time.Millisecond)}
		if i%2 == 0 {
			bets[i].Outcome, bets[i].IdempotencyKey = models.OutcomeNo, ptr(fmt.Sprintf("key-%d", i))
		}
	}
	return bets
}

// distinctIDs fails t unless every id is set and none repeats.
func distinctIDs(t *testing.T, what string, ids []int64) {
	t.Helper()
	seen := make(map[int64]bool, len(ids))
	for i, id := range ids {
		if id == 0 {
			t.Fatalf("%s: row %d has no ID", what, i)
		}
		if seen[id] {
			t.Fatalf("%s: ID %d given twice", what, id)
		}
		seen[id] = true
	}
}

func TestBetCreateBatchLarge(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		users := newUsers("bulk", 500)
		if err := d.Users().CreateBatch(ctx, users); err != nil {
			t.Fatal(err)
		}
		m := daltest.Market(t, d, users[0].ID)
		other := daltest.Market(t, d, users[0].ID)
		daltest.Bet(t, d, users[1].ID, other.ID)
		bets := betsOn(bulkRows, users, m.ID)

		start := time.Now()
		if err := d.Bets().CreateBatch(ctx, bets); err != nil {
			t.Fatalf("CreateBatch of %d bets: %v", len(bets), err)
		}
		t.Logf("CreateBatch of %d bets: %v", len(bets), time.Since(start))
		distinctIDs(t, "CreateBatch", idsOf(bets, betID))

		counts := []struct {
			filter repository.BetFilters
			want   int64
		}{
			{repository.BetFilters{}, bulkRows + 1},
			{repository.BetFilters{MarketID: m.ID}, bulkRows},
			{repository.BetFilters{MarketID: m.ID, Outcome: models.OutcomeNo}, bulkRows / 2},
			{repository.BetFilters{UserID: users[7].ID, MarketID: m.ID}, int64(bulkRows / len(users))},
		}
		for _, c := range counts {
			n, err := d.Bets().Count(ctx, c.filter)
			if err != nil {
				t.Fatalf("Count(%+v): %v", c.filter, err)
			}
			if n != c.want {
				t.Errorf("Count(%+v) = %d, want %d", c.filter, n, c.want)
			}
		}
		for _, i := range []int{0, 1, bulkRows / 2, bulkRows - 1} {
			got, err := d.Bets().GetByID(ctx, bets[i].ID)
			if err != nil {
				t.Fatalf("GetByID of bet %d: %v", i, err)
			}
			if diff := cmp.Diff(got, bets[i]); diff != "" {
				t.Errorf("bet %d as stored (-got +want):\n%s", i, diff)
			}
		}
		got, err := d.Bets().GetByIdempotencyKey(ctx, bets[bulkRows-2].UserID, "key-99998")
		if err != nil || got.ID != bets[bulkRows-2].ID {
			t.Errorf("GetByIdempotencyKey of the batch's last key = %+v, %v; want bet %d", got, err, bets[bulkRows-2].ID)
		}
	})
}

func TestUserCreateBatchLarge(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		daltest.User(t, d)
		users := newUsers("many", bulkRows)
		start := time.Now()
		if err := d.Users().CreateBatch(ctx, users); err != nil {
			t.Fatalf("CreateBatch of %d users: %v", len(users), err)
		}
		t.Logf("CreateBatch of %d users: %v", len(users), time.Since(start))
		distinctIDs(t, "CreateBatch", idsOf(users, userID))
		if n := countRows(t, d, &models.User{}); n != bulkRows+1 {
			t.Errorf("users = %d, want %d", n, bulkRows+1)
		}
		for _, i := range []int{0, bulkRows / 3, bulkRows - 1} {
			got, err := d.Users().GetByUsername(ctx, users[i].Username)
			if err != nil {
				t.Fatalf("GetByUsername of user %d: %v", i, err)
			}
			if diff := cmp.Diff(got, users[i]); diff != "" {
				t.Errorf("user %d as stored (-got +want):\n%s", i, diff)
			}
		}
	})
}

func TestBetCreateBatchAllOrNothing(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		users := newUsers("aon", 7)
		if err := d.Users().CreateBatch(ctx, users); err != nil {
			t.Fatal(err)
		}
		m := daltest.Market(t, d, users[0].ID)
		existing := daltest.Bet(t, d, users[0].ID, m.ID, func(b *models.Bet) { b.IdempotencyKey = ptr("taken") })
		const size = 2_000 // several SQLite INSERT statements
		tests := []struct {
			name  string
			spoil func(bets []*models.Bet)
			kind  error
			field string // checked when not empty
		}{
			{"same user and key twice in the batch", func(bets []*models.Bet) {
				// Far apart, in different INSERTs on SQLite.
				bets[1_707].UserID, bets[1_707].IdempotencyKey = bets[4].UserID, bets[4].IdempotencyKey
			}, errs.ErrConflict, "user_id, idempotency_key"},
			{"same user and key twice, adjacent", func(bets []*models.Bet) {
				bets[11].UserID, bets[11].IdempotencyKey = bets[10].UserID, bets[10].IdempotencyKey
			}, errs.ErrConflict, "user_id, idempotency_key"},
			{"key of a stored bet", func(bets []*models.Bet) {
				bets[size-1].UserID, bets[size-1].IdempotencyKey = existing.UserID, ptr("taken")
			}, errs.ErrConflict, "user_id, idempotency_key"},
			{"unknown market", func(bets []*models.Bet) { bets[1_500].MarketID = m.ID + 1000 }, errs.ErrInvalidReference, ""},
			{"unknown user", func(bets []*models.Bet) { bets[600].UserID = users[6].ID + 1000 }, errs.ErrInvalidReference, ""},
			{"invalid outcome", func(bets []*models.Bet) { bets[999].Outcome = "MAYBE" }, errs.ErrInvalidInput, "outcome"},
			{"zero amount", func(bets []*models.Bet) { bets[0].Amount = 0 }, errs.ErrInvalidInput, "amount"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				bets := betsOn(size, users, m.ID)
				tc.spoil(bets)
				err := d.Bets().CreateBatch(ctx, bets)
				if tc.field == "" {
					wantErr(t, "CreateBatch", err, tc.kind)
				} else {
					wantConstraint(t, "CreateBatch", err, tc.kind, tc.field)
				}
				if n, err := d.Bets().Count(ctx, repository.BetFilters{}); err != nil || n != 1 {
					t.Errorf("Count after a failed batch = %d, %v; want 1 (nothing of the batch)", n, err)
				}
			})
		}
		t.Run("same key for different users", func(t *testing.T) {
			bets := betsOn(len(users), users, m.ID)
			for _, b := range bets {
				b.IdempotencyKey = ptr("shared")
			}
			if err := d.Bets().CreateBatch(ctx, bets); err != nil {
				t.Fatalf("CreateBatch: %v", err)
			}
			if n, err := d.Bets().Count(ctx, repository.BetFilters{}); err != nil || n != int64(1+len(users)) {
				t.Errorf("Count = %d, %v; want %d", n, err, 1+len(users))
			}
		})
		t.Run("empty batch", func(t *testing.T) {
			if err := d.Bets().CreateBatch(ctx, nil); err != nil {
				t.Errorf("CreateBatch(nil): %v", err)
			}
			if err := d.Bets().CreateBatch(ctx, []*models.Bet{}); err != nil {
				t.Errorf("CreateBatch(empty): %v", err)
			}
		})
		t.Run("the batch fixed and sent again", func(t *testing.T) {
			before, err := d.Bets().Count(ctx, repository.BetFilters{})
			if err != nil {
				t.Fatal(err)
			}
			bets := betsOn(size, users, m.ID)
			for _, b := range bets {
				b.IdempotencyKey = nil
			}
			bets[size-1].Amount = 0
			wantErr(t, "first CreateBatch", d.Bets().CreateBatch(ctx, bets), errs.ErrInvalidInput)
			bets[size-1].Amount = 1
			if err := d.Bets().CreateBatch(ctx, bets); err != nil {
				t.Fatalf("second CreateBatch of the same bets: %v", err)
			}
			distinctIDs(t, "second CreateBatch", idsOf(bets, betID))
			if n, err := d.Bets().Count(ctx, repository.BetFilters{}); err != nil || n != before+size {
				t.Errorf("Count = %d, %v; want %d", n, err, before+size)
			}
		})
	})
}

func TestUserCreateBatchAllOrNothing(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		existing := daltest.User(t, d)
		const size = 1_200
		tests := []struct {
			name  string
			spoil func(users []*models.User)
			kind  error
			field string
		}{
			{"username twice in the batch", func(u []*models.User) { u[1_100].Username = u[2].Username }, errs.ErrConflict, "username"},
			{"display name twice in the batch", func(u []*models.User) { u[700].DisplayName = u[699].DisplayName }, errs.ErrConflict, "display_name"},
			{"email twice in the batch", func(u []*models.User) { u[size-1].Email = u[0].Email }, errs.ErrConflict, "email"},
			{"username of a stored user", func(u []*models.User) { u[501].Username = existing.Username }, errs.ErrConflict, "username"},
			{"invalid username", func(u []*models.User) { u[1_000].Username = "No Way" }, errs.ErrInvalidInput, "username"},
			{"invalid user type", func(u []*models.User) { u[5].UserType = "" }, errs.ErrInvalidInput, "user_type"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				users := newUsers("aon", size)
				tc.spoil(users)
				wantConstraint(t, "CreateBatch", d.Users().CreateBatch(ctx, users), tc.kind, tc.field)
				if n := countRows(t, d, &models.User{}); n != 1 {
					t.Errorf("users after a failed batch = %d, want 1 (nothing of the batch)", n)
				}
			})
		}
		t.Run("zero times are set", func(t *testing.T) {
			users := newUsers("zt", 3)
			for _, u := range users {
				u.CreatedAt, u.UpdatedAt = time.Time{}, time.Time{}
			}
			if err := d.Users().CreateBatch(ctx, users); err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				got, err := d.Users().GetByID(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() || got.Username != u.Username {
					t.Errorf("stored user %+v: want its times set", got)
				}
			}
		})
		t.Run("empty batch", func(t *testing.T) {
			if err := d.Users().CreateBatch(ctx, nil); err != nil {
				t.Errorf("CreateBatch(nil): %v", err)
			}
		})
	})
}
