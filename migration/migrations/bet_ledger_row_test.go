package migrations_test

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"socialpredict/database/dbtest"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
)

// TestBetLedgerRowDownSplitsRows: reverting 007 turns every one-row bet
// with a fee back into the two rows the code before it writes (BET for the
// stake with the balance before the fee, BET_FEE for the fee with the
// balance after the debit), leaves other rows and the ledger's sum alone,
// and applying 007 again keeps the two-row bets as they are (history is not
// rewritten). On both engines.
func TestBetLedgerRowDownSplitsRows(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		m := migration.NewMigrationManager(tdb.DB, migrations.All(), migration.WithLogger(slog.New(slog.DiscardHandler)))
		if _, err := m.UpTo(t.Context(), "007"); err != nil {
			t.Fatal(err)
		}
		previous := ""
		for _, mig := range migrations.All() {
			if mig.Version < "007" {
				previous = mig.Version
			}
		}
		fixtures(t, tdb.DB) // users 1 and 2, market 1, bet 1 by user 1 (10 YES), a payout of 5 to user 1
		for _, q := range []string{
			"UPDATE bets SET fee = 3 WHERE id = 1",
			"INSERT INTO bets (user_id, market_id, outcome, amount, probability_after, placed_at) VALUES (2, 1, 'NO', 5, 0.5, ?)",
			"INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, fee, balance_after, created_at) VALUES (1, 1, 1, 'BET', -13, 3, -8, ?)",
			"INSERT INTO ledger_entries (user_id, market_id, bet_id, kind, amount, fee, balance_after, created_at) VALUES (2, 1, 2, 'BET', -5, 0, -5, ?)",
		} {
			args := []any{}
			if q[0] == 'I' {
				args = append(args, now)
			}
			if err := tdb.DB.Exec(q, args...).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		rows := func() []string {
			t.Helper()
			var out []struct {
				UserID       int64
				BetID        *int64
				Kind         string
				Amount       int64
				BalanceAfter int64
			}
			if err := tdb.DB.Raw("SELECT user_id, bet_id, kind, amount, balance_after FROM ledger_entries ORDER BY id").Scan(&out).Error; err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, r := range out {
				bet := "-"
				if r.BetID != nil {
					bet = fmt.Sprint(*r.BetID)
				}
				s = append(s, fmt.Sprintf("user %d bet %s %s %d -> %d", r.UserID, bet, r.Kind, r.Amount, r.BalanceAfter))
			}
			return s
		}
		want := []string{
			"user 1 bet - PAYOUT 5 -> 5",
			"user 1 bet 1 BET -10 -> -5",
			"user 2 bet 2 BET -5 -> -5",
			"user 1 bet 1 BET_FEE -3 -> -8",
		}
		if _, err := m.DownTo(t.Context(), previous); err != nil {
			t.Fatalf("down to %s: %v", previous, err)
		}
		if diff := cmp.Diff(rows(), want); diff != "" {
			t.Errorf("after the down of 007 (-got +want):\n%s", diff)
		}
		if _, err := m.UpTo(t.Context(), "007"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rows(), want); diff != "" {
			t.Errorf("after 007 again (-got +want):\n%s", diff)
		}
		var fees int64
		if err := tdb.DB.Raw("SELECT COALESCE(SUM(fee), 0) FROM ledger_entries").Scan(&fees).Error; err != nil || fees != 0 {
			t.Errorf("fee column sums to %d (%v) after 007 again, want 0: old rows keep their shape", fees, err)
		}
	})
}
