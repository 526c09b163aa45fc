package repository_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/repository"
)

// TestPlaceRacingDuplicateKeyInCallerTransaction: a bet placed inside a
// caller's transaction whose idempotency key another transaction inserted
// and had not yet committed (as the bulk API does, without the user's lock)
// waits for it, then returns that original bet instead of failing, and the
// caller's transaction stays usable: its next bet and read work and commit.
// On both paths (the one statement and the interactive transaction) and
// both engines.
func TestPlaceRacingDuplicateKeyInCallerTransaction(t *testing.T) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		ctx := t.Context()
		for _, interactive := range []bool{false, true} {
			t.Run(fmt.Sprintf("interactive=%v", interactive), func(t *testing.T) {
				u := daltest.User(t, d, func(u *models.User) { u.Balance = 1000 })
				m := daltest.Market(t, d, u.ID)
				key := fmt.Sprintf("race-%v", interactive)
				p := repository.BetPlacement{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeYes, Amount: 10,
					Key: key, Now: daltest.Now, MaxDebt: 0, P0: 0.5, I0: 10, Interactive: interactive}

				// The first transaction inserts the bet with the key and holds
				// it until the second one waits for it.
				inserted, release := make(chan int64, 1), make(chan struct{})
				firstDone := make(chan error, 1)
				go func() {
					firstDone <- d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
						b := &models.Bet{UserID: u.ID, MarketID: m.ID, Outcome: models.OutcomeYes, Amount: 10,
							ProbabilityAfter: 0.5, PlacedAt: daltest.Now, IdempotencyKey: &key}
						if err := tx.Bets().Create(ctx, b); err != nil {
							close(inserted)
							return err
						}
						inserted <- b.ID
						<-release
						return nil
					})
				}()
				firstID, ok := <-inserted
				if !ok {
					t.Fatalf("first transaction: %v", <-firstDone)
				}
				go func() {
					waitForLockWaiter(t, tdb)
					close(release)
				}()

				var followUp int64
				err := d.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
					res, err := tx.Bets().Place(ctx, p)
					if err != nil {
						return fmt.Errorf("bet repeating the racing key: %w", err)
					}
					if got := placedOrRepeated(res); got != firstID {
						t.Errorf("bet repeating the racing key: %+v, want the original bet %d", res, firstID)
					}
					// The caller's transaction is still usable.
					if _, err := tx.Bets().GetByID(ctx, firstID); err != nil {
						return fmt.Errorf("read after the repeated key: %w", err)
					}
					next := p
					next.Key = ""
					res, err = tx.Bets().Place(ctx, next)
					if err != nil {
						return fmt.Errorf("bet after the repeated key: %w", err)
					}
					if res.Bet == nil {
						return fmt.Errorf("bet after the repeated key not placed: %+v", res)
					}
					followUp = res.Bet.ID
					return nil
				})
				if err != nil {
					t.Fatalf("caller's transaction: %v", err)
				}
				if err := <-firstDone; err != nil {
					t.Fatalf("first transaction: %v", err)
				}
				n, err := d.Bets().Count(ctx, repository.BetFilters{MarketID: m.ID})
				if err != nil || n != 2 {
					t.Errorf("%d bets (%v), want 2: the original and the caller's next one", n, err)
				}
				if _, err := d.Bets().GetByID(ctx, followUp); err != nil {
					t.Errorf("the caller's next bet did not commit: %v", err)
				}
			})
		}
	})
}

// placedOrRepeated returns the ID of the bet a placement placed, or of the
// original bet it repeated (0: neither).
func placedOrRepeated(res *repository.Placement) int64 {
	switch {
	case res.DuplicateID != 0:
		return res.DuplicateID
	case res.Bet != nil:
		return res.Bet.ID
	}
	return 0
}

// waitForLockWaiter returns once a session of tdb's database waits for a
// lock (PostgreSQL), or after a short pause (SQLite, whose writers queue in
// the process). It reports an error if no session waits within 10 seconds.
func waitForLockWaiter(t *testing.T, tdb *dbtest.TestDB) {
	if tdb.Engine != dbtest.Postgres {
		time.Sleep(100 * time.Millisecond)
		return
	}
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var n int64
		err := tdb.DB.WithContext(ctx).Raw(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n).Error
		if err != nil {
			t.Errorf("pg_stat_activity: %v", err)
			return
		}
		if n > 0 {
			return
		}
	}
	t.Errorf("no session waited for the first transaction's key")
}
