package repository_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

func TestMarketCreateAndGet(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		creator := daltest.User(t, d)
		m := &models.Market{CreatorID: creator.ID, QuestionTitle: "Will it rain?", Description: "In Paris.", YesLabel: "Rain", NoLabel: "Dry",
			ClosesAt: daltest.Now.Add(48 * time.Hour).In(time.FixedZone("UTC-7", -7*3600)), Status: models.MarketOpen, Probability: 0.3,
			CreatedAt: daltest.Now, UpdatedAt: daltest.Now}
		if err := d.Markets().Create(ctx, m); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if m.ID == 0 {
			t.Fatal("Create did not set the ID")
		}
		got, err := d.Markets().GetByID(ctx, m.ID)
		if err != nil {
			t.Fatalf("GetByID: %v", err)
		}
		if diff := cmp.Diff(got, m); diff != "" {
			t.Errorf("GetByID (-got +want):\n%s", diff)
		}
		_, err = d.Markets().GetByID(ctx, m.ID+1000)
		wantErr(t, "GetByID of an unknown id", err, errs.ErrNotFound)
	})
}

// TestMarketGetByIDReadsAsTheListDoes checks GetByID (straight through pgx
// on PostgreSQL, GORM on SQLite) against the list's scan of the same row,
// resolved and not: every column read the same way. It reads inside a
// caller's transaction (seeing its uncommitted market, gone after the
// rollback), and the query monitor counts it as one statement.
func TestMarketGetByIDReadsAsTheListDoes(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		creator := daltest.User(t, d)
		daltest.Market(t, d, creator.ID)
		resolved := daltest.Market(t, d, creator.ID)
		if _, err := d.Markets().Resolve(ctx, resolved.ID, models.ResolutionNo, daltest.Now.Add(time.Hour)); err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		page, err := d.Markets().List(ctx, repository.MarketFilters{})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(page.Items) != 2 {
			t.Fatalf("List: %d markets, want 2", len(page.Items))
		}
		for _, want := range page.Items {
			sctx, scope := database.WithQueryScope(ctx)
			got, err := d.Markets().GetByID(sctx, want.ID)
			if err != nil {
				t.Fatalf("GetByID(%d): %v", want.ID, err)
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("GetByID(%d) (-got +want):\n%s", want.ID, diff)
			}
			if n := scope.Queries(); n != 1 {
				t.Errorf("GetByID(%d): the query monitor saw %d statements, want 1", want.ID, n)
			}
		}
		if got, _ := d.Markets().GetByID(ctx, resolved.ID); got.ResolvedAt == nil || got.ResolutionResult == nil {
			t.Errorf("GetByID of a resolved market: resolved_at %v, resolution_result %v", got.ResolvedAt, got.ResolutionResult)
		}
		var inside int64
		rollback := errors.New("roll back")
		err = d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
			m := daltest.Market(t, tx, creator.ID)
			inside = m.ID
			got, err := tx.Markets().GetByID(ctx, m.ID)
			if err != nil {
				return fmt.Errorf("GetByID inside the transaction: %w", err)
			}
			if got.QuestionTitle != m.QuestionTitle {
				t.Errorf("GetByID inside the transaction: %q, want %q", got.QuestionTitle, m.QuestionTitle)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("WithTransaction: %v, want the rollback", err)
		}
		_, err = d.Markets().GetByID(ctx, inside)
		wantErr(t, "GetByID of a rolled back market", err, errs.ErrNotFound)
	})
}

func TestMarketCreateErrors(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		creator := daltest.User(t, d)
		existing := daltest.Market(t, d, creator.ID)
		tests := []struct {
			name string
			set  func(m *models.Market)
			kind error
			// field is checked when not empty (SQLite does not name the
			// columns of a foreign key).
			field string
		}{
			{"unknown creator", func(m *models.Market) { m.CreatorID = creator.ID + 1000 }, errs.ErrInvalidReference, ""},
			{"taken id", func(m *models.Market) { m.ID = existing.ID }, errs.ErrConflict, "id"},
			{"empty title", func(m *models.Market) { m.QuestionTitle = "" }, errs.ErrInvalidInput, "question_title"},
			{"title too long", func(m *models.Market) { m.QuestionTitle = strings.Repeat("q", 161) }, errs.ErrInvalidInput, "question_title"},
			{"unknown status", func(m *models.Market) { m.Status = "PENDING" }, errs.ErrInvalidInput, "status"},
			{"probability above 1", func(m *models.Market) { m.Probability = 1.5 }, errs.ErrInvalidInput, "probability"},
			{"resolved without a result", func(m *models.Market) { m.Status = models.MarketResolved }, errs.ErrInvalidInput, "resolution"},
			{"volume not the sum of stakes", func(m *models.Market) { m.YesStake, m.Volume = 5, 6 }, errs.ErrInvalidInput, "stakes"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				m := &models.Market{CreatorID: creator.ID, QuestionTitle: "Q", YesLabel: "YES", NoLabel: "NO",
					ClosesAt: daltest.Now, Status: models.MarketOpen, Probability: 0.5}
				tc.set(m)
				err := d.Markets().Create(ctx, m)
				if tc.field == "" {
					wantErr(t, "Create", err, tc.kind)
				} else {
					wantConstraint(t, "Create", err, tc.kind, tc.field)
				}
			})
		}
		if n := countRows(t, d, &models.Market{}); n != 1 {
			t.Errorf("markets after failed creates = %d, want 1", n)
		}
	})
}

func TestMarketUpdate(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		creator := daltest.User(t, d)
		created := daltest.Market(t, d, creator.ID)
		if err := d.Markets().AddBet(ctx, created.ID, models.OutcomeYes, 40, 0.7); err != nil {
			t.Fatal(err)
		}
		m, err := d.Markets().GetByID(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		change := *m
		change.QuestionTitle, change.Description, change.YesLabel, change.NoLabel = "New title", "New description", "Up", "Down"
		change.ClosesAt = daltest.Now.Add(72 * time.Hour)
		// Update saves only the descriptive fields: the rest is ignored.
		change.Status, change.Volume, change.YesStake, change.BetCount, change.CreatorID = models.MarketClosed, 1, 1, 9, creator.ID+1000
		if err := d.Markets().Update(ctx, &change); err != nil {
			t.Fatalf("Update: %v", err)
		}
		got, err := d.Markets().GetByID(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *m
		want.QuestionTitle, want.Description, want.YesLabel, want.NoLabel = "New title", "New description", "Up", "Down"
		want.ClosesAt, want.UpdatedAt = daltest.Now.Add(72*time.Hour), got.UpdatedAt
		if diff := cmp.Diff(got, &want); diff != "" {
			t.Errorf("after Update (-got +want):\n%s", diff)
		}

		unknown := want
		unknown.ID += 1000
		wantErr(t, "Update of an unknown market", d.Markets().Update(ctx, &unknown), errs.ErrNotFound)
		invalid := want
		invalid.QuestionTitle = ""
		wantConstraint(t, "Update with an empty title", d.Markets().Update(ctx, &invalid), errs.ErrInvalidInput, "question_title")
		invalid = want
		invalid.YesLabel = strings.Repeat("y", 21)
		wantConstraint(t, "Update with a long label", d.Markets().Update(ctx, &invalid), errs.ErrInvalidInput, "yes_label")
		after, err := d.Markets().GetByID(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(after, got); diff != "" {
			t.Errorf("failed updates changed the market (-got +want):\n%s", diff)
		}
	})
}

func TestMarketAddBet(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		creator := daltest.User(t, d)
		m := daltest.Market(t, d, creator.ID)
		before, err := d.Markets().GetByID(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Markets().AddBet(ctx, m.ID, models.OutcomeYes, 10, 0.6); err != nil {
			t.Fatalf("AddBet YES: %v", err)
		}
		if err := d.Markets().AddBet(ctx, m.ID, models.OutcomeNo, 5, 0.55); err != nil {
			t.Fatalf("AddBet NO: %v", err)
		}
		if err := d.Markets().AddBet(ctx, m.ID, models.OutcomeYes, 1, 0.57); err != nil {
			t.Fatalf("AddBet YES: %v", err)
		}
		got, err := d.Markets().GetByID(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *before
		want.YesStake, want.NoStake, want.Volume, want.BetCount, want.Probability = 11, 5, 16, 3, 0.57
		want.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(got, &want); diff != "" {
			t.Errorf("aggregates (-got +want):\n%s", diff)
		}
		if got.UpdatedAt.Before(before.UpdatedAt) {
			t.Errorf("UpdatedAt went back from %v to %v", before.UpdatedAt, got.UpdatedAt)
		}

		wantErr(t, "AddBet to an unknown market", d.Markets().AddBet(ctx, m.ID+1000, models.OutcomeYes, 1, 0.5), errs.ErrNotFound)
		wantErr(t, "AddBet with outcome MAYBE", d.Markets().AddBet(ctx, m.ID, "MAYBE", 1, 0.5), errs.ErrInvalidInput)
		wantErr(t, "AddBet with outcome yes", d.Markets().AddBet(ctx, m.ID, "yes", 1, 0.5), errs.ErrInvalidInput)
		wantErr(t, "AddBet with probability 1.5", d.Markets().AddBet(ctx, m.ID, models.OutcomeYes, 1, 1.5), errs.ErrInvalidInput)
		wantErr(t, "AddBet taking the stake below 0", d.Markets().AddBet(ctx, m.ID, models.OutcomeNo, -6, 0.5), errs.ErrInvalidInput)
		after, err := d.Markets().GetByID(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(after, got); diff != "" {
			t.Errorf("failed AddBets changed the market (-got +want):\n%s", diff)
		}
	})
}

func TestMarketResolve(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		creator := daltest.User(t, d)
		tests := []struct {
			name   string
			status models.MarketStatus
			result models.Resolution
		}{
			{"open market to YES", models.MarketOpen, models.ResolutionYes},
			{"closed market to NO", models.MarketClosed, models.ResolutionNo},
			{"open market to N/A", models.MarketOpen, models.ResolutionNA},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				m := daltest.Market(t, d, creator.ID, func(m *models.Market) { m.Status = tc.status })
				at := daltest.Now.Add(30 * time.Hour).In(time.FixedZone("X", 3600))
				resolved, err := d.Markets().Resolve(ctx, m.ID, tc.result, at)
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				got, err := d.Markets().GetByID(ctx, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(resolved, got); diff != "" {
					t.Errorf("Resolve returned (-got +want as stored):\n%s", diff)
				}
				if got.Status != models.MarketResolved || got.ResolutionResult == nil || *got.ResolutionResult != tc.result ||
					got.ResolvedAt == nil || !got.ResolvedAt.Equal(at) {
					t.Errorf("after Resolve: status %s, result %v, resolved at %v; want RESOLVED, %s, %v",
						got.Status, got.ResolutionResult, got.ResolvedAt, tc.result, at)
				}
				again, err := d.Markets().Resolve(ctx, m.ID, models.ResolutionNo, at.Add(time.Hour))
				wantErr(t, "second Resolve", err, errs.ErrConflict)
				if again != nil {
					t.Errorf("second Resolve returned %+v with the error", again)
				}
				after, err := d.Markets().GetByID(ctx, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(after, got); diff != "" {
					t.Errorf("second Resolve changed the market (-got +want):\n%s", diff)
				}
			})
		}
		t.Run("unknown market", func(t *testing.T) {
			m, err := d.Markets().Resolve(ctx, 987654, models.ResolutionYes, daltest.Now)
			wantErr(t, "Resolve", err, errs.ErrNotFound)
			if m != nil {
				t.Errorf("Resolve returned %+v with the error", m)
			}
		})
		t.Run("unknown result", func(t *testing.T) {
			m := daltest.Market(t, d, creator.ID)
			_, err := d.Markets().Resolve(ctx, m.ID, "MAYBE", daltest.Now)
			wantErr(t, "Resolve", err, errs.ErrInvalidInput)
			got, err := d.Markets().GetByID(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != models.MarketOpen {
				t.Errorf("status after a failed Resolve = %s, want OPEN", got.Status)
			}
		})
	})
}

func TestMarketResolveConcurrently(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		creator := daltest.User(t, d)
		for round := range 3 {
			m := daltest.Market(t, d, creator.ID)
			results := []models.Resolution{models.ResolutionYes, models.ResolutionNo, models.ResolutionNA}
			const workers = 8
			errList := make([]error, workers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range workers {
				wg.Go(func() {
					<-start
					_, errList[i] = d.Markets().Resolve(ctx, m.ID, results[i%len(results)], daltest.Now.Add(time.Duration(i)*time.Second))
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errList {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("round %d: workers %d and %d both resolved the market", round, winner, i)
				case err == nil:
					winner = i
				default:
					wantErr(t, fmt.Sprintf("round %d: worker %d", round, i), err, errs.ErrConflict)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: no worker resolved the market", round)
			}
			got, err := d.Markets().GetByID(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ResolutionResult == nil || *got.ResolutionResult != results[winner%len(results)] ||
				got.ResolvedAt == nil || !got.ResolvedAt.Equal(daltest.Now.Add(time.Duration(winner)*time.Second)) {
				t.Errorf("round %d: result %v at %v, want the winner's %s at %v", round, got.ResolutionResult, got.ResolvedAt,
					results[winner%len(results)], daltest.Now.Add(time.Duration(winner)*time.Second))
			}
		}
	})
}

// marketFixture creates markets covering every filter and sort: two
// creators, each status and result, spread closing times, titles in mixed
// case, volumes with ties. It returns them as stored.
func marketFixture(t *testing.T, d *dal.DataAccessLayer) (markets []*models.Market, creators [2]*models.User) {
	t.Helper()
	ctx := t.Context()
	creators = [2]*models.User{daltest.User(t, d), daltest.User(t, d)}
	titles := []string{"Will it RAIN?", "rain or shine", "Election 2028", "100% sure?", "100x sure?", "Moon landing", "snow_day", "snowXday"}
	for i := range 24 {
		m := daltest.Market(t, d, creators[i%3%2].ID, func(m *models.Market) {
			m.QuestionTitle = fmt.Sprintf("%s #%d", titles[i%len(titles)], i)
			m.ClosesAt = daltest.Now.Add(time.Duration(i%6) * time.Hour)
			m.CreatedAt = daltest.Now.Add(-time.Duration(i%5) * time.Minute)
			if i%7 == 3 {
				m.Status = models.MarketClosed
			}
		})
		if v := int64(i % 4 * 10); v > 0 {
			if err := d.Markets().AddBet(ctx, m.ID, models.OutcomeYes, v, 0.5); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 1 {
			result := []models.Resolution{models.ResolutionYes, models.ResolutionNo, models.ResolutionNA}[i%3]
			if _, err := d.Markets().Resolve(ctx, m.ID, result, daltest.Now); err != nil {
				t.Fatal(err)
			}
		}
		stored, err := d.Markets().GetByID(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		markets = append(markets, stored)
	}
	return markets, creators
}

func listMarkets(d *dal.DataAccessLayer, f repository.MarketFilters) lister[*models.Market] {
	return func(ctx context.Context, req repository.PageRequest) (repository.Page[*models.Market], error) {
		f.PageRequest = req
		return d.Markets().List(ctx, f)
	}
}

func TestMarketListFilters(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		markets, creators := marketFixture(t, d)
		hour := func(h int) time.Time { return daltest.Now.Add(time.Duration(h) * time.Hour) }
		result := func(r models.Resolution) func(m *models.Market) bool {
			return func(m *models.Market) bool { return m.ResolutionResult != nil && *m.ResolutionResult == r }
		}
		title := func(sub string) func(m *models.Market) bool {
			return func(m *models.Market) bool { return strings.Contains(strings.ToLower(m.QuestionTitle), sub) }
		}
		tests := []struct {
			name   string
			filter repository.MarketFilters
			keep   func(m *models.Market) bool
		}{
			{"none", repository.MarketFilters{}, func(*models.Market) bool { return true }},
			{"open", repository.MarketFilters{Status: models.MarketOpen}, func(m *models.Market) bool { return m.Status == models.MarketOpen }},
			{"closed", repository.MarketFilters{Status: models.MarketClosed}, func(m *models.Market) bool { return m.Status == models.MarketClosed }},
			{"resolved", repository.MarketFilters{Status: models.MarketResolved}, func(m *models.Market) bool { return m.Status == models.MarketResolved }},
			{"creator", repository.MarketFilters{CreatorID: creators[1].ID}, func(m *models.Market) bool { return m.CreatorID == creators[1].ID }},
			{"unknown creator", repository.MarketFilters{CreatorID: creators[1].ID + 1000}, func(*models.Market) bool { return false }},
			{"closes after (inclusive)", repository.MarketFilters{ClosesAfter: ptr(hour(3))}, func(m *models.Market) bool { return !m.ClosesAt.Before(hour(3)) }},
			{"closes before (exclusive)", repository.MarketFilters{ClosesBefore: ptr(hour(3))}, func(m *models.Market) bool { return m.ClosesAt.Before(hour(3)) }},
			{"closes between", repository.MarketFilters{ClosesAfter: ptr(hour(1)), ClosesBefore: ptr(hour(4))},
				func(m *models.Market) bool { return !m.ClosesAt.Before(hour(1)) && m.ClosesAt.Before(hour(4)) }},
			{"search any case", repository.MarketFilters{Search: "rain"}, title("rain")},
			{"search upper case", repository.MarketFilters{Search: "RAIN OR"}, title("rain or")},
			{"search percent is literal", repository.MarketFilters{Search: "100%"}, title("100%")},
			{"search underscore is literal", repository.MarketFilters{Search: "snow_"}, title("snow_")},
			{"search nothing", repository.MarketFilters{Search: "zzz"}, func(*models.Market) bool { return false }},
			{"result YES", repository.MarketFilters{Result: models.ResolutionYes}, result(models.ResolutionYes)},
			{"result NO", repository.MarketFilters{Result: models.ResolutionNo}, result(models.ResolutionNo)},
			{"result N/A", repository.MarketFilters{Result: models.ResolutionNA}, result(models.ResolutionNA)},
			{"combined", repository.MarketFilters{Status: models.MarketOpen, CreatorID: creators[0].ID, ClosesAfter: ptr(hour(2)), Search: "sure"},
				func(m *models.Market) bool {
					return m.Status == models.MarketOpen && m.CreatorID == creators[0].ID && !m.ClosesAt.Before(hour(2)) && title("sure")(m)
				}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				want := matchingIDs(markets, marketID, tc.keep)
				if tc.name != "search nothing" && tc.name != "unknown creator" && len(want) == 0 {
					t.Fatal("the fixture has no matching market: the case tests nothing")
				}
				got := collectAll(t, listMarkets(d, tc.filter), repository.PageRequest{Limit: 3}, nil)
				if diff := cmp.Diff(ascending(idsOf(got, marketID)), want); diff != "" {
					t.Errorf("ids (-got +want):\n%s", diff)
				}
			})
		}
		for _, f := range []repository.MarketFilters{{Status: "open"}, {Status: "DONE"}, {Result: "yes"}, {Result: "MAYBE"}} {
			_, err := d.Markets().List(ctx, f)
			wantErr(t, fmt.Sprintf("List(%+v)", f), err, errs.ErrInvalidInput)
		}
	})
}

func TestMarketListSorts(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		markets, _ := marketFixture(t, d)
		byCreated := func(m *models.Market) int64 { return m.CreatedAt.UnixNano() }
		byCloses := func(m *models.Market) int64 { return m.ClosesAt.UnixNano() }
		byVolume := func(m *models.Market) int64 { return m.Volume }
		keys := map[string]func(m *models.Market) int64{"": byCreated, "created_at": byCreated, "closes_at": byCloses, "volume": byVolume}
		for _, sort := range []string{"", "created_at", "closes_at", "volume"} {
			for _, desc := range []bool{false, true} {
				want := sortedIDs(markets, keys[sort], marketID, desc)
				for _, limit := range []int{1, 5, 24, 500} {
					t.Run(fmt.Sprintf("%s desc=%v limit=%d", sort, desc, limit), func(t *testing.T) {
						got := collectAll(t, listMarkets(d, repository.MarketFilters{}), repository.PageRequest{Sort: sort, Desc: desc, Limit: limit}, nil)
						if diff := cmp.Diff(idsOf(got, marketID), want); diff != "" {
							t.Errorf("order (-got +want):\n%s", diff)
						}
					})
				}
			}
		}
		// A sort and a filter together: open markets by volume.
		open := slices.DeleteFunc(slices.Clone(markets), func(m *models.Market) bool { return m.Status != models.MarketOpen })
		got := collectAll(t, listMarkets(d, repository.MarketFilters{Status: models.MarketOpen}), repository.PageRequest{Sort: "volume", Desc: true, Limit: 4}, nil)
		if diff := cmp.Diff(idsOf(got, marketID), sortedIDs(open, byVolume, marketID, true)); diff != "" {
			t.Errorf("open markets by volume (-got +want):\n%s", diff)
		}
		for _, sort := range []string{"probability", "id", "title", "volume DESC", "VOLUME", "closes_at, id"} {
			_, err := d.Markets().List(ctx, repository.MarketFilters{PageRequest: repository.PageRequest{Sort: sort}})
			wantErr(t, fmt.Sprintf("List sorted by %q", sort), err, errs.ErrInvalidInput)
		}
	})
}

func TestMarketListByBettor(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		a, b, c := daltest.User(t, d), daltest.User(t, d), daltest.User(t, d)
		var markets []*models.Market
		for range 4 {
			markets = append(markets, daltest.Market(t, d, c.ID))
		}
		stakes := []struct {
			user   *models.User
			market int
		}{{a, 2}, {a, 0}, {a, 2}, {b, 1}}
		for _, s := range stakes {
			if _, err := d.Positions().AddStake(ctx, s.user.ID, markets[s.market].ID, models.OutcomeYes, 5, daltest.Now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.Markets().Resolve(ctx, markets[2].ID, models.ResolutionYes, daltest.Now); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			user int64
			want []*models.Market
		}{
			{"two markets, one twice, one resolved", a.ID, []*models.Market{markets[0], markets[2]}},
			{"one market", b.ID, []*models.Market{markets[1]}},
			{"creator without bets", c.ID, nil},
			{"unknown user", c.ID + 1000, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := d.Markets().ListByBettor(ctx, tc.user)
				if err != nil {
					t.Fatalf("ListByBettor: %v", err)
				}
				var want []*models.Market
				for _, m := range tc.want {
					stored, err := d.Markets().GetByID(ctx, m.ID)
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, stored)
				}
				if diff := cmp.Diff(got, want, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("ListByBettor (-got +want):\n%s", diff)
				}
			})
		}
	})
}

func TestMarketCreateBatch(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, _ *dbtest.TestDB) {
		ctx := t.Context()
		creator := daltest.User(t, d)
		newMarkets := func(n int) []*models.Market {
			ms := make([]*models.Market, n)
			for i := range ms {
				ms[i] = &models.Market{CreatorID: creator.ID, QuestionTitle: fmt.Sprintf("Batch %d", i), Description: "d", YesLabel: "Y", NoLabel: "N",
					ClosesAt: daltest.Now.Add(time.Duration(i) * time.Minute), Status: models.MarketOpen, Probability: 0.5,
					CreatedAt: daltest.Now, UpdatedAt: daltest.Now}
			}
			return ms
		}
		const size = 1_234 // several SQLite INSERTs
		tests := []struct {
			name  string
			spoil func(ms []*models.Market)
			kind  error
		}{
			{"unknown creator", func(ms []*models.Market) { ms[size-1].CreatorID = creator.ID + 1000 }, errs.ErrInvalidReference},
			{"invalid status", func(ms []*models.Market) { ms[700].Status = "LIMBO" }, errs.ErrInvalidInput},
			{"empty title", func(ms []*models.Market) { ms[0].QuestionTitle = "" }, errs.ErrInvalidInput},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ms := newMarkets(size)
				tc.spoil(ms)
				wantErr(t, "CreateBatch", d.Markets().CreateBatch(ctx, ms), tc.kind)
				if n := countRows(t, d, &models.Market{}); n != 0 {
					t.Errorf("markets after a failed batch = %d, want 0", n)
				}
			})
		}
		if err := d.Markets().CreateBatch(ctx, nil); err != nil {
			t.Errorf("CreateBatch(nil): %v", err)
		}

		ms := newMarkets(size)
		if err := d.Markets().CreateBatch(ctx, ms); err != nil {
			t.Fatalf("CreateBatch: %v", err)
		}
		distinctIDs(t, "CreateBatch", idsOf(ms, marketID))
		if n := countRows(t, d, &models.Market{}); n != size {
			t.Errorf("markets = %d, want %d", n, size)
		}
		for _, i := range []int{0, size / 2, size - 1} {
			got, err := d.Markets().GetByID(ctx, ms[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, ms[i]); diff != "" {
				t.Errorf("market %d as stored (-got +want):\n%s", i, diff)
			}
		}
	})
}
