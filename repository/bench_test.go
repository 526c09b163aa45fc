package repository_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/repository"
)

// The benchmarks compare the repositories with raw pgx doing the same work
// on the same PostgreSQL database, in one run:
//
//	go test ./repository -run '^$' -bench . -benchtime 2s
//
// Targets (issue 4): reads within 1.5x of raw pgx; bulk insert within 1.3x
// of CopyFrom and at least 20x faster than one GORM Create per row.

const benchUsers = 10_000

// benchDB returns a DAL and a raw pgx pool on one PostgreSQL database holding
// benchUsers users and one market with 200 bets.
func benchDB(b *testing.B) (*dal.DataAccessLayer, *pgxpool.Pool, []int64, int64) {
	b.Helper()
	d, _, pool, ids, m := benchDBWith(b)
	return d, pool, ids, m
}

// benchDBWith is benchDB that also returns the test database.
func benchDBWith(b testing.TB) (*dal.DataAccessLayer, *dbtest.TestDB, *pgxpool.Pool, []int64, int64) {
	b.Helper()
	d, tdb := daltest.New(b, dbtest.Postgres)
	ctx := context.Background()
	users := make([]*models.User, benchUsers)
	for i := range users {
		users[i] = &models.User{Username: fmt.Sprintf("bench_%d", i), DisplayName: fmt.Sprintf("Bench %d", i),
			Email: fmt.Sprintf("bench%d@example.com", i), UserType: models.UserTypeRegular, CreatedAt: daltest.Now.Add(time.Duration(i) * time.Millisecond)}
	}
	if err := d.Users().CreateBatch(ctx, users); err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	m := daltest.Market(b, d, ids[0])
	bets := make([]*models.Bet, 200)
	for i := range bets {
		bets[i] = &models.Bet{UserID: ids[i], MarketID: m.ID, Outcome: models.OutcomeYes, Amount: 5, ProbabilityAfter: 0.5, PlacedAt: daltest.Now.Add(time.Duration(i) * time.Second)}
	}
	if err := d.Bets().CreateBatch(ctx, bets); err != nil {
		b.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, tdb.Config.URL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return d, tdb, pool, ids, m.ID
}

const userColumns = "id, username, display_name, email, user_type, initial_balance, balance, created_at, updated_at"

func scanUser(row pgx.Row) (*models.User, error) {
	var u models.User
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.UserType, &u.InitialBalance, &u.Balance, &u.CreatedAt, &u.UpdatedAt)
	return &u, err
}

func BenchmarkGetByID(b *testing.B) {
	d, tdb, pool, ids, _ := benchDBWith(b)
	ctx := context.Background()
	// The same repository with pgx's statement cache off (as behind PgBouncer
	// in transaction mode): prepared_statements: false.
	cfg := tdb.Config
	cfg.PreparedStatements = false
	uncached, err := dal.Open(ctx, cfg, dbtest.Logger())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { uncached.Close() })
	b.Run("repository_no_statement_cache", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := uncached.Users().GetByID(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repository", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := d.Users().GetByID(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pgx", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := scanUser(pool.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1 LIMIT 1", ids[i%len(ids)])); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkList50(b *testing.B) {
	d, pool, _, marketID := benchDB(b)
	ctx := context.Background()
	b.Run("repository/users", func(b *testing.B) {
		for b.Loop() {
			p, err := d.Users().List(ctx, repository.UserFilters{PageRequest: repository.PageRequest{Limit: 50}})
			if err != nil || len(p.Items) != 50 {
				b.Fatal(err)
			}
		}
	})
	b.Run("pgx/users", func(b *testing.B) {
		for b.Loop() {
			rows, err := pool.Query(ctx, "SELECT "+userColumns+" FROM users ORDER BY created_at, id LIMIT $1", 51)
			if err != nil {
				b.Fatal(err)
			}
			var out []*models.User
			for rows.Next() {
				u, err := scanUser(rows)
				if err != nil {
					b.Fatal(err)
				}
				out = append(out, u)
			}
			if rows.Err() != nil || len(out) != 51 {
				b.Fatal(rows.Err())
			}
		}
	})
	b.Run("repository/bets_by_market", func(b *testing.B) {
		for b.Loop() {
			p, err := d.Bets().ListByMarket(ctx, marketID, repository.PageRequest{Limit: 50})
			if err != nil || len(p.Items) != 50 {
				b.Fatal(err)
			}
		}
	})
	b.Run("pgx/bets_by_market", func(b *testing.B) {
		for b.Loop() {
			rows, err := pool.Query(ctx, `SELECT id, user_id, market_id, outcome, amount, fee, probability_after, placed_at, idempotency_key
				FROM bets WHERE market_id = $1 ORDER BY placed_at, id LIMIT $2`, marketID, 51)
			if err != nil {
				b.Fatal(err)
			}
			var out []*models.Bet
			for rows.Next() {
				var x models.Bet
				if err := rows.Scan(&x.ID, &x.UserID, &x.MarketID, &x.Outcome, &x.Amount, &x.Fee, &x.ProbabilityAfter, &x.PlacedAt, &x.IdempotencyKey); err != nil {
					b.Fatal(err)
				}
				out = append(out, &x)
			}
			if rows.Err() != nil || len(out) != 51 {
				b.Fatal(rows.Err())
			}
		}
	})
}

// newBets returns n bets over the users, in the market.
func newBets(n int, users []int64, marketID int64) []*models.Bet {
	bets := make([]*models.Bet, n)
	for i := range bets {
		bets[i] = &models.Bet{UserID: users[i%len(users)], MarketID: marketID, Outcome: models.OutcomeNo, Amount: int64(i%50 + 1),
			ProbabilityAfter: 0.5, PlacedAt: daltest.Now.Add(time.Duration(i) * time.Millisecond)}
	}
	return bets
}

// BenchmarkBulkInsert inserts 100,000 bets per operation through the
// repository and through pgx's CopyFrom. Row-by-row GORM inserts are
// measured on 2,000 rows per operation (100,000 would take minutes); compare
// ns/row, which each sub-benchmark reports.
func BenchmarkBulkInsert(b *testing.B) {
	d, pool, users, marketID := benchDB(b)
	ctx := context.Background()
	const n = 100_000
	b.Run("repository", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			bets := newBets(n, users, marketID)
			b.StartTimer()
			if err := d.Bets().CreateBatch(ctx, bets); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
	})
	b.Run("pgx_copyfrom", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			bets := newBets(n, users, marketID)
			b.StartTimer()
			_, err := pool.CopyFrom(ctx, pgx.Identifier{"bets"},
				[]string{"user_id", "market_id", "outcome", "amount", "fee", "probability_after", "placed_at", "idempotency_key"},
				pgx.CopyFromSlice(len(bets), func(i int) ([]any, error) {
					x := bets[i]
					return []any{x.UserID, x.MarketID, string(x.Outcome), x.Amount, x.Fee, x.ProbabilityAfter, x.PlacedAt, x.IdempotencyKey}, nil
				}))
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
	})
	const perRow = 2_000
	b.Run("gorm_create_per_row", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			bets := newBets(perRow, users, marketID)
			b.StartTimer()
			for _, x := range bets {
				if err := daltest.DB(b, d).WithContext(ctx).Create(x).Error; err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perRow), "ns/row")
	})
}

// BenchmarkMarketGetByID is the suite's "market by id" read (bench --all,
// Reads): the repository (straight through pgx on PostgreSQL, with the
// query monitor on) against the suite's raw pgx anchor, RawPgx.Market.
func BenchmarkMarketGetByID(b *testing.B) {
	d, pool, _, marketID := benchDB(b)
	ctx := context.Background()
	raw := repository.NewRawPgx(pool)
	b.Run("repository", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.Markets().GetByID(ctx, marketID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pgx", func(b *testing.B) {
		for b.Loop() {
			if _, err := raw.Market(ctx, marketID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
