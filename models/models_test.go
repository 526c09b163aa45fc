package models_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm/schema"

	"socialpredict/database/dbtest"
	"socialpredict/migration/migrations"
	"socialpredict/models"
)

var fullSchema = dbtest.Schema{Name: migrations.Fingerprint(), Migrate: migrations.Up}

var all = []any{&models.User{}, &models.APIKey{}, &models.Market{}, &models.Bet{}, &models.Position{}, &models.LedgerEntry{}}

// TestModelsMatchTables checks that every model field has a column and every
// column a field: the migrations do not import the models, so this is what
// keeps them in step.
func TestModelsMatchTables(t *testing.T) {
	dbtest.Run(t, fullSchema, func(t *testing.T, tdb *dbtest.TestDB) {
		for _, m := range all {
			s, err := schema.Parse(m, &sync.Map{}, schema.NamingStrategy{})
			if err != nil {
				t.Fatal(err)
			}
			cols, err := tdb.DB.Migrator().ColumnTypes(m)
			if err != nil {
				t.Fatalf("%s: %v", s.Table, err)
			}
			var got []string
			for _, c := range cols {
				got = append(got, c.Name())
			}
			slices.Sort(got)
			want := slices.Clone(s.DBNames)
			slices.Sort(want)
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("%s: columns (-table +model):\n%s", s.Table, diff)
			}
		}
	})
}

// TestModelsRoundTrip writes each model through GORM and reads it back.
func TestModelsRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 30, 15, 123456000, time.UTC)
	key := "idem-1"
	dbtest.Run(t, fullSchema, func(t *testing.T, tdb *dbtest.TestDB) {
		db := tdb.DB
		user := &models.User{Username: "alice", DisplayName: "Alice", Email: "a@example.com", UserType: models.UserTypeAdmin,
			InitialBalance: 100, Balance: 90, CreatedAt: now, UpdatedAt: now}
		market := &models.Market{QuestionTitle: "Q", YesLabel: "YES", NoLabel: "NO", ClosesAt: now.Add(time.Hour),
			Status: models.MarketOpen, YesStake: 10, Volume: 10, BetCount: 1, Probability: 0.75, CreatedAt: now, UpdatedAt: now}
		if err := db.Create(user).Error; err != nil {
			t.Fatal(err)
		}
		market.CreatorID = user.ID
		if err := db.Create(market).Error; err != nil {
			t.Fatal(err)
		}
		bet := &models.Bet{UserID: user.ID, MarketID: market.ID, Outcome: models.OutcomeYes, Amount: 10, Fee: 1,
			ProbabilityAfter: 0.75, PlacedAt: now, IdempotencyKey: &key}
		if err := db.Create(bet).Error; err != nil {
			t.Fatal(err)
		}
		rows := []any{
			&models.APIKey{UserID: user.ID, KeyHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", KeyPrefix: "sp_0123", CreatedAt: now},
			&models.Position{UserID: user.ID, MarketID: market.ID, YesStake: 10, BetCount: 1, FirstBetAt: now, UpdatedAt: now},
			&models.LedgerEntry{UserID: user.ID, MarketID: &market.ID, BetID: &bet.ID, Kind: models.LedgerBet, Amount: -10, BalanceAfter: 90, CreatedAt: now},
		}
		for _, r := range rows {
			if err := db.Create(r).Error; err != nil {
				t.Fatalf("create %T: %v", r, err)
			}
		}
		check := func(got, want any) {
			t.Helper()
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("%T round trip (-got +want):\n%s", want, diff)
			}
		}
		var u models.User
		db.First(&u, user.ID)
		check(&u, user)
		var m models.Market
		db.First(&m, market.ID)
		check(&m, market)
		var b models.Bet
		db.First(&b, bet.ID)
		check(&b, bet)
		var k models.APIKey
		db.First(&k)
		check(&k, rows[0])
		var p models.Position
		db.First(&p)
		check(&p, rows[1])
		var l models.LedgerEntry
		db.First(&l)
		check(&l, rows[2])
	})
}
