package repository_test

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"

	"go.uber.org/goleak"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

// TestMain fails the package when a test leaves a goroutine behind (a pool
// not closed, a transaction never ended); dbtest fails each test whose pool
// still has connections in use.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wantErr fails t unless err matches want (errors.Is), or is nil when want is.
func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error: %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

// inputField returns the field an *errs.InputError in err names ("" when
// there is none).
func inputField(err error) string {
	var ie *errs.InputError
	if errors.As(err, &ie) {
		return ie.Field
	}
	return ""
}

// wantConstraint fails t unless err matches kind and is a
// *errs.ConstraintError naming field.
func wantConstraint(t testing.TB, what string, err, kind error, field string) {
	t.Helper()
	wantErr(t, what, err, kind)
	var ce *errs.ConstraintError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: error %v (%T) is not a *errs.ConstraintError", what, err, err)
	}
	if ce.Field != field {
		t.Errorf("%s: ConstraintError.Field = %q, want %q", what, ce.Field, field)
	}
}

// lister fetches one page of a list.
type lister[T any] func(ctx context.Context, req repository.PageRequest) (repository.Page[T], error)

// maxPages bounds the pages collectAll reads, so that a cursor that never
// ends fails the test instead of hanging it.
const maxPages = 10_000

// collectAll reads every page of a list starting from req, calling between
// (when not nil) after each page but the last, and returns the items in order.
func collectAll[T any](t testing.TB, list lister[T], req repository.PageRequest, between func()) []T {
	t.Helper()
	var all []T
	for range maxPages {
		p, err := list(context.Background(), req)
		if err != nil {
			t.Fatalf("list %+v: %v", req, err)
		}
		limit := req.Limit
		if limit == 0 {
			limit = repository.DefaultLimit
		}
		if len(p.Items) > limit {
			t.Fatalf("list %+v: page of %d items, limit %d", req, len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			return all
		}
		if len(p.Items) == 0 {
			t.Fatalf("list %+v: empty page with a next cursor", req)
		}
		req.Cursor = p.NextCursor
		if between != nil {
			between()
		}
	}
	t.Fatalf("list %+v: more than %d pages", req, maxPages)
	return nil
}

func userID(u *models.User) int64     { return u.ID }
func marketID(m *models.Market) int64 { return m.ID }
func betID(b *models.Bet) int64       { return b.ID }

// idsOf returns the ids of items, in their order.
func idsOf[T any](items []T, id func(T) int64) []int64 {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = id(it)
	}
	return ids
}

// sortedIDs returns the ids of items in keyset order: by key, then by id,
// both descending when desc.
func sortedIDs[T any, K cmp.Ordered](items []T, key func(T) K, id func(T) int64, desc bool) []int64 {
	s := slices.Clone(items)
	slices.SortFunc(s, func(a, b T) int {
		c := cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(id(a), id(b)))
		if desc {
			return -c
		}
		return c
	})
	return idsOf(s, id)
}

// matchingIDs returns the ids of the items keep accepts, ascending.
func matchingIDs[T any](items []T, id func(T) int64, keep func(T) bool) []int64 {
	var ids []int64
	for _, it := range items {
		if keep(it) {
			ids = append(ids, id(it))
		}
	}
	slices.Sort(ids)
	return ids
}

// ascending returns ids sorted, as a new slice (nil for none, like
// matchingIDs).
func ascending(ids []int64) []int64 {
	if len(ids) == 0 {
		return nil
	}
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

func ptr[T any](v T) *T { return &v }

// countRows counts the rows of model's table, outside any transaction.
func countRows(t testing.TB, d *dal.DataAccessLayer, model any) int64 {
	t.Helper()
	var n int64
	if err := daltest.DB(t, d).Model(model).Count(&n).Error; err != nil {
		t.Fatalf("count %T: %v", model, err)
	}
	return n
}
