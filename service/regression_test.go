package service_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"socialpredict/dal"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
	"socialpredict/service"
)

// errStop makes a caller's transaction roll back.
var errStop = errors.New("caller gives up")

// betPaths are the services of both bet paths over d: the default (one
// statement on PostgreSQL) and the interactive transaction.
func betPaths(d *dal.DataAccessLayer) map[string]*service.Services {
	d = d.WithClock(func() time.Time { return now })
	return map[string]*service.Services{
		"default":     service.New(d, service.DefaultEconomics()),
		"interactive": service.New(d, service.DefaultEconomics(), service.WithInteractiveBets()),
	}
}

// TestBetJoinsBoundDALTransaction: a bet placed through services built on a
// DAL bound to a transaction is part of that transaction, even though the
// context does not carry it: the caller's rollback takes it back.
func TestBetJoinsBoundDALTransaction(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		_, bettor, m := e.fixture(t)
		before := e.state(t)
		for _, path := range []string{"default", "interactive"} {
			err := e.dal.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
				if _, err := betPaths(tx)[path].Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 10, ""); err != nil {
					return err
				}
				return errStop
			})
			if !errors.Is(err, errStop) {
				t.Fatalf("%s: WithTransaction: %v, want errStop", path, err)
			}
			if got := e.state(t); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Errorf("%s: the rolled-back transaction left a bet behind:\n got %+v\nwant %+v", path, got, before)
			}
		}
	})
}

// TestBetAfterLockInBoundDAL: a transaction that locks the user row and then
// bets for that user through a service on the bound DAL does not wait for
// itself.
func TestBetAfterLockInBoundDAL(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		_, bettor, m := e.fixture(t)
		for _, path := range []string{"default", "interactive"} {
			tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			err := e.dal.WithTransaction(tctx, func(tx *dal.DataAccessLayer) error {
				if _, err := tx.Users().AddToBalance(ctx, bettor.ID, 0, -1_000_000); err != nil {
					return err
				}
				_, err := betPaths(tx)[path].Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeNo, 10, "")
				return err
			})
			cancel()
			if err != nil {
				t.Fatalf("%s: lock then bet in one transaction: %v", path, err)
			}
		}
		if n := count(t, e, "bets"); n != 2 {
			t.Errorf("%d bets, want 2", n)
		}
	})
}

// count returns the number of rows in table.
func count(t *testing.T, e *env, table string) int64 {
	t.Helper()
	var n int64
	if err := e.tdb.DB.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRejectedBetLeavesCallerTransactionUsable: a bet refused inside a
// caller's transaction (bad input, or a refusal the database decides)
// returns its error and the caller's next statements still work.
func TestRejectedBetLeavesCallerTransactionUsable(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, bettor, m := e.fixture(t)
		tests := []struct {
			name    string
			userID  int64
			amount  int64
			key     string
			wantErr error
		}{
			{"overflowing amount", bettor.ID, math.MaxInt64, "", errs.ErrInvalidInput},
			{"NUL in the idempotency key", bettor.ID, 10, "a\x00b", errs.ErrInvalidInput},
			{"invalid UTF-8 key", bettor.ID, 10, "a\xffb", errs.ErrInvalidInput},
			{"insufficient credits", bettor.ID, 1_000_000, "", errs.ErrInsufficientCredits},
			{"unknown user", 1 << 40, 10, "", errs.ErrNotFound},
		}
		for path, svc := range betPaths(e.dal) {
			for _, tc := range tests {
				err := e.tdb.Handle.Transactions().Transact(ctx, func(ctx context.Context) error {
					if _, err := svc.Bets.PlaceBet(ctx, tc.userID, m.ID, models.OutcomeYes, tc.amount, tc.key); !errors.Is(err, tc.wantErr) {
						t.Errorf("%s, %s: PlaceBet: %v, want %v", path, tc.name, err, tc.wantErr)
					}
					// The transaction is still usable.
					if _, err := e.dal.Users().GetByID(ctx, creator.ID); err != nil {
						return fmt.Errorf("statement after the refused bet: %w", err)
					}
					_, err := svc.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeNo, 1, "")
					return err
				})
				if err != nil {
					t.Errorf("%s, %s: caller's transaction: %v", path, tc.name, err)
				}
			}
		}
	})
}

// TestConcurrentIdempotentBetsReturnOriginal: concurrent callers with one
// user and one idempotency key place one bet, on both paths, also when they
// name different markets (so that they do not queue on one market lock):
// those asking for that bet get it, those naming the other market get
// ErrIdempotencyKeyReused.
func TestConcurrentIdempotentBetsReturnOriginal(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, bettor, m1 := e.fixture(t)
		m2, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: "Second", ClosesAt: now.Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		for path, svc := range betPaths(e.dal) {
			for trial := range 4 {
				key := fmt.Sprintf("%s-%d", path, trial)
				var (
					wg   sync.WaitGroup
					mu   sync.Mutex
					ids  = map[int64]int{}
					bets = map[int64]*models.Bet{}
					// reused counts the ErrIdempotencyKeyReused by market named.
					reused = map[int64]int{}
					gate   = make(chan struct{})
				)
				for i := range 10 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-gate
						market := m1.ID
						if i%2 == 1 {
							market = m2.ID
						}
						b, err := svc.Bets.PlaceBet(ctx, bettor.ID, market, models.OutcomeYes, 3, key)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case errors.Is(err, errs.ErrIdempotencyKeyReused):
							reused[market]++
						case err != nil:
							t.Errorf("%s: PlaceBet with a repeated key: %v", path, err)
						default:
							ids[b.ID]++
							bets[b.ID] = b
						}
					}()
				}
				close(gate)
				wg.Wait()
				if len(ids) != 1 {
					t.Errorf("%s trial %d: callers got bets %v, want one", path, trial, ids)
					continue
				}
				// Half the callers name each market.
				for _, b := range bets {
					if ids[b.ID] != 5 || reused[b.MarketID] != 0 || reused[m1.ID]+reused[m2.ID] != 5 {
						t.Errorf("%s trial %d: bet %d (market %d) returned %d times, ErrIdempotencyKeyReused by market %v; "+
							"want the bet for the 5 callers naming its market, the error for the 5 others",
							path, trial, b.ID, b.MarketID, ids[b.ID], reused)
					}
				}
			}
		}
	})
}

// TestResolvedAtFollowsLockOrder: a resolution whose clock reads earlier than
// the market's latest bet is dated at that bet, never before it, so that no
// bet counted in the payout is later than the resolution.
func TestResolvedAtFollowsLockOrder(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, bettor, m := e.fixture(t)
		late := service.New(e.dal.WithClock(func() time.Time { return now.Add(5 * time.Second) }), service.DefaultEconomics())
		b, err := late.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Markets.Resolve(ctx, creator.ID, m.ID, models.ResolutionYes) // clock: now
		if err != nil {
			t.Fatal(err)
		}
		if res.Market.ResolvedAt == nil || res.Market.ResolvedAt.Before(b.PlacedAt) {
			t.Errorf("resolved at %v, before the bet placed at %s", res.Market.ResolvedAt, b.PlacedAt)
		}
	})
}

// TestUnstorableTextRefused: strings with a NUL byte or invalid UTF-8, and
// closing times no engine reads back, are invalid input naming the field on
// both engines, and nothing is written.
func TestUnstorableTextRefused(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		creator, bettor, m := e.fixture(t)
		before := e.state(t)
		market := func(change func(*service.NewMarket)) func() error {
			return func() error {
				n := service.NewMarket{QuestionTitle: "Fine", ClosesAt: now.Add(48 * time.Hour)}
				change(&n)
				_, err := e.Markets.Create(ctx, creator.ID, n)
				return err
			}
		}
		user := func(change func(*service.NewUser)) func() error {
			return func() error {
				n := service.NewUser{Username: "someone", DisplayName: "Someone", Email: "someone@example.com"}
				change(&n)
				_, _, err := e.Users.Create(ctx, n)
				return err
			}
		}
		tests := []struct {
			name, field string
			call        func() error
		}{
			{"title with NUL", "question_title", market(func(n *service.NewMarket) { n.QuestionTitle = "Rain\x00?" })},
			{"title not UTF-8", "question_title", market(func(n *service.NewMarket) { n.QuestionTitle = "Rain\xff" })},
			{"description with NUL", "description", market(func(n *service.NewMarket) { n.Description = "\x00" })},
			{"label not UTF-8", "yes_label", market(func(n *service.NewMarket) { n.YesLabel = "\xc3" })},
			{"closing in year 99999", "closes_at", market(func(n *service.NewMarket) { n.ClosesAt = time.Date(99999, 1, 1, 0, 0, 0, 0, time.UTC) })},
			{"closing in year 10000", "closes_at", market(func(n *service.NewMarket) { n.ClosesAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
			{"display name with NUL", "display_name", user(func(n *service.NewUser) { n.DisplayName = "A\x00B" })},
			{"display name not UTF-8", "display_name", user(func(n *service.NewUser) { n.DisplayName = "\xff\xfe" })},
			{"key with NUL", "idempotency_key", func() error {
				_, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 5, "k\x00")
				return err
			}},
			{"key of 101 characters", "idempotency_key", func() error {
				_, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 5, strings.Repeat("k", 101))
				return err
			}},
		}
		for _, tc := range tests {
			err := tc.call()
			var ie *errs.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Errorf("%s: %v, want an InputError naming %s", tc.name, err, tc.field)
			}
		}
		if got := e.state(t); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Errorf("refused input wrote something:\n got %+v\nwant %+v", got, before)
		}
		if _, err := e.Markets.List(ctx, repository.MarketFilters{}); err != nil {
			t.Errorf("listing markets after the refusals: %v", err)
		}
	})
}

// TestIdempotencyKeyCountsCharacters: the key's limit is 100 characters, as
// the schema counts them: 30 four-byte characters (120 bytes) and a UUID are
// accepted, and a refusal says what it counted.
func TestIdempotencyKeyCountsCharacters(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		_, bettor, m := e.fixture(t)
		for _, key := range []string{strings.Repeat("😀", 30), "123e4567-e89b-12d3-a456-426614174000", strings.Repeat("é", 100)} {
			if _, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 1, key); err != nil {
				t.Errorf("key of %d bytes: %v", len(key), err)
			}
		}
		_, err := e.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 1, strings.Repeat("😀", 101))
		if err == nil || !strings.Contains(err.Error(), "characters") || !strings.Contains(err.Error(), "got 101") {
			t.Errorf("a key of 101 characters: %v, want a refusal counting 101 characters", err)
		}
	})
}

// TestBetOnLostConnectionIsUnavailable: a bet whose connection the server
// closed (as a restart does) fails with ErrUnavailable, not a raw driver
// error, on both paths; the next bet works on a fresh connection.
func TestBetOnLostConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	dbtest.SkipViaPgBouncer(t, "it terminates the backend of one pooled connection, which PgBouncer shares between clients (the chaos test restarts PostgreSQL behind the server instead)")
	e := newEnv(t, dbtest.Postgres, service.DefaultEconomics())
	_, bettor, m := e.fixture(t)
	sqlDB, err := e.tdb.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1)
	for path, svc := range betPaths(e.dal) {
		var pid int64
		if err := e.tdb.DB.Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
			t.Fatal(err)
		}
		url, _ := e.tdb.Config.LibpqConn() // trust authentication: no password
		admin, err := pgconn.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, fmt.Sprintf("SELECT pg_terminate_backend(%d)", pid)).ReadAll(); err != nil {
			t.Fatal(err)
		}
		admin.Close(ctx)
		_, err = svc.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 5, "")
		if !errors.Is(err, errs.ErrUnavailable) {
			t.Errorf("%s: bet on a terminated connection: %v, want ErrUnavailable", path, err)
		}
		if _, err := svc.Bets.PlaceBet(ctx, bettor.ID, m.ID, models.OutcomeYes, 5, ""); err != nil {
			t.Errorf("%s: the next bet: %v", path, err)
		}
	}
	e.mustCheck(t)
}
