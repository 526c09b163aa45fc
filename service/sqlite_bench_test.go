package service_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/service"
)

// BenchmarkSQLitePlaceBet measures bets per second on the embedded SQLite
// with 1 and 8 workers: "service" is BetService.PlaceBet, "driver" the same
// bet's statements written directly with database/sql on the same pool, in
// one BEGIN IMMEDIATE transaction (the pool's _txlock), which is what the
// driver and SQLite allow at most. The two alternate with -count:
//
//	go test ./service -run '^$' -bench SQLitePlaceBet -benchtime 2s -count 5
//
// docs/dependencies.md has the figures.
func BenchmarkSQLitePlaceBet(b *testing.B) {
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			d, tdb := daltest.New(b, dbtest.SQLite)
			ctx := context.Background()
			econ := service.DefaultEconomics()
			svc := service.New(d, econ)
			if _, err := svc.Seed(ctx, service.SeedOptions{Users: 1000, Markets: 20, InitialBalance: 1 << 40, RandomSeed: 3}); err != nil {
				b.Fatal(err)
			}
			var users, markets []int64
			tdb.DB.Table("users").Pluck("id", &users)
			tdb.DB.Table("markets").Pluck("id", &markets)
			sqlDB, err := tdb.DB.DB()
			if err != nil {
				b.Fatal(err)
			}
			b.Run("service", func(b *testing.B) {
				runWorkers(b, workers, func(rng *rand.Rand) error {
					_, err := svc.Bets.PlaceBet(ctx, users[rng.IntN(len(users))], markets[rng.IntN(len(markets))], models.OutcomeYes, 1, "")
					return err
				})
			})
			b.Run("driver", func(b *testing.B) {
				runWorkers(b, workers, func(rng *rand.Rand) error {
					return placeBetDirect(ctx, sqlDB, econ, users[rng.IntN(len(users))], markets[rng.IntN(len(markets))], 1)
				})
			})
		})
	}
}

// runWorkers runs op b.N times in all, spread over workers goroutines, and
// reports the throughput as bets/s.
func runWorkers(b *testing.B, workers int, op func(rng *rand.Rand) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for next.Add(1) <= int64(b.N) {
				if err := op(rng); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "bets/s")
}

// placeBetDirect is PlaceBet's transaction on SQLite (the statements GORM
// and the repositories send, in the same order) with database/sql alone.
func placeBetDirect(ctx context.Context, db *sql.DB, econ service.Economics, userID, marketID, amount int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UTC()

	var m models.Market
	var resolution sql.NullString
	var resolvedAt sql.NullTime
	err = tx.QueryRowContext(ctx, "SELECT id, creator_id, question_title, description, yes_label, no_label, closes_at, status, "+
		"resolution_result, resolved_at, yes_stake, no_stake, volume, bet_count, probability, created_at, updated_at "+
		"FROM markets WHERE id = ? LIMIT 1", marketID).Scan(&m.ID, &m.CreatorID, &m.QuestionTitle, &m.Description,
		&m.YesLabel, &m.NoLabel, &m.ClosesAt, &m.Status, &resolution, &resolvedAt, &m.YesStake, &m.NoStake, &m.Volume,
		&m.BetCount, &m.Probability, &m.CreatedAt, &m.UpdatedAt)
	if err != nil {
		return err
	}
	var last time.Time
	err = tx.QueryRowContext(ctx, "SELECT placed_at FROM bets WHERE market_id = ? ORDER BY placed_at DESC LIMIT 1", marketID).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if last.After(now) {
		now = last
	}
	if m.Status != models.MarketOpen || !now.Before(m.ClosesAt) {
		return fmt.Errorf("market %d is closed", marketID)
	}
	fee := econ.BuySharesFee
	var p models.Position
	err = tx.QueryRowContext(ctx, "SELECT user_id, market_id, yes_stake, no_stake, bet_count, first_bet_at, updated_at "+
		"FROM positions WHERE user_id = ? AND market_id = ? LIMIT 1", userID, marketID).
		Scan(&p.UserID, &p.MarketID, &p.YesStake, &p.NoStake, &p.BetCount, &p.FirstBetAt, &p.UpdatedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		fee += econ.InitialBetFee
	case err != nil:
		return err
	}
	var balance int64
	err = tx.QueryRowContext(ctx, "UPDATE users SET balance = balance + ?, updated_at = ? WHERE id = ? AND balance + ? >= ? RETURNING balance",
		-(amount + fee), now, userID, -(amount + fee), -econ.MaximumDebtAllowed).Scan(&balance)
	if err != nil {
		return err
	}
	prob := float64(m.YesStake+amount) / float64(m.YesStake+m.NoStake+amount+1)
	if _, err := tx.ExecContext(ctx, "UPDATE markets SET yes_stake = yes_stake + ?, no_stake = no_stake + ?, volume = volume + ?, "+
		"bet_count = bet_count + 1, probability = ?, updated_at = ? WHERE id = ?", amount, 0, amount, prob, now, marketID); err != nil {
		return err
	}
	var betID int64
	err = tx.QueryRowContext(ctx, "INSERT INTO bets (user_id, market_id, outcome, amount, fee, probability_after, placed_at, idempotency_key) "+
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", userID, marketID, string(models.OutcomeYes), amount, fee, prob, now, nil).Scan(&betID)
	if err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO positions (user_id, market_id, yes_stake, no_stake, bet_count, first_bet_at, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT (user_id, market_id) DO UPDATE SET
			yes_stake = positions.yes_stake + excluded.yes_stake,
			no_stake = positions.no_stake + excluded.no_stake,
			bet_count = positions.bet_count + 1,
			updated_at = excluded.updated_at
		RETURNING user_id, market_id, yes_stake, no_stake, bet_count, first_bet_at, updated_at`, userID, marketID, amount, 0, now, now).
		Scan(&p.UserID, &p.MarketID, &p.YesStake, &p.NoStake, &p.BetCount, &p.FirstBetAt, &p.UpdatedAt)
	if err != nil {
		return err
	}
	ledger := "INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, fee, balance_after, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	args := []any{userID, marketID, betID, string(models.LedgerBet), -(amount + fee), fee, balance, now}
	rows, err := tx.QueryContext(ctx, ledger+" RETURNING id", args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return tx.Commit()
}
