// Package daltest gives tests a ready data access layer on a fresh, migrated
// database on either engine, and builders for users, markets and bets.
// Production code never imports it.
package daltest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/migration/migrations"
	"socialpredict/models"

	"gorm.io/gorm"
)

// Schema is the full schema, as the migrations build it.
var Schema = dbtest.Schema{Name: migrations.Fingerprint(), Migrate: migrations.Up}

// New returns a data access layer on a fresh migrated database on engine,
// and the test database under it.
func New(tb testing.TB, engine dbtest.Engine) (*dal.DataAccessLayer, *dbtest.TestDB) {
	tb.Helper()
	tdb := dbtest.New(tb, engine, Schema)
	return Wrap(tb, tdb.Handle), tdb
}

// Wrap returns a data access layer on h, for tests that open a database of
// their own; DB gives its GORM pool.
func Wrap(tb testing.TB, h *database.DB) *dal.DataAccessLayer {
	d := dal.New(h)
	testDBs.Store(d, h.GormDB())
	tb.Cleanup(func() { testDBs.Delete(d) })
	return d
}

// testDBs maps the data access layers New made to their test databases.
var testDBs sync.Map

// DB returns the GORM pool under a data access layer New or Wrap made, for
// tests that count or read rows with SQL of their own.
func DB(tb testing.TB, d *dal.DataAccessLayer) *gorm.DB {
	tb.Helper()
	tdb, ok := testDBs.Load(d)
	if !ok {
		tb.Fatal("daltest.DB: the data access layer was not made by daltest.New or Wrap")
	}
	return tdb.(*gorm.DB)
}

// Run runs fn as one subtest per engine, each with its own fresh database,
// in parallel with other tests (see dbtest.ForEachEngine).
func Run(t *testing.T, fn func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB)) {
	t.Helper()
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		d, tdb := New(t, engine)
		fn(t, d, tdb)
	})
}

var seq atomic.Int64

// Now is the time builders use as "now": fixed, so tests are repeatable.
var Now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// User creates a user with unique names and the given changes applied.
func User(tb testing.TB, d *dal.DataAccessLayer, opts ...func(*models.User)) *models.User {
	tb.Helper()
	n := seq.Add(1)
	u := &models.User{
		Username:    fmt.Sprintf("user_%d", n),
		DisplayName: fmt.Sprintf("User %d", n),
		Email:       fmt.Sprintf("user%d@example.com", n),
		UserType:    models.UserTypeRegular,
		Balance:     0,
	}
	for _, o := range opts {
		o(u)
	}
	if err := d.Users().Create(context.Background(), u); err != nil {
		tb.Fatalf("daltest.User: %v", err)
	}
	return u
}

// Market creates an open market by creatorID, closing a day after Now.
func Market(tb testing.TB, d *dal.DataAccessLayer, creatorID int64, opts ...func(*models.Market)) *models.Market {
	tb.Helper()
	n := seq.Add(1)
	m := &models.Market{
		CreatorID:     creatorID,
		QuestionTitle: fmt.Sprintf("Question %d", n),
		YesLabel:      "YES",
		NoLabel:       "NO",
		ClosesAt:      Now.Add(24 * time.Hour),
		Status:        models.MarketOpen,
		Probability:   0.5,
	}
	for _, o := range opts {
		o(m)
	}
	if err := d.Markets().Create(context.Background(), m); err != nil {
		tb.Fatalf("daltest.Market: %v", err)
	}
	return m
}

// Bet creates a YES bet of 10 by userID on marketID, placed at Now.
func Bet(tb testing.TB, d *dal.DataAccessLayer, userID, marketID int64, opts ...func(*models.Bet)) *models.Bet {
	tb.Helper()
	b := &models.Bet{
		UserID:           userID,
		MarketID:         marketID,
		Outcome:          models.OutcomeYes,
		Amount:           10,
		ProbabilityAfter: 0.5,
		PlacedAt:         Now,
	}
	for _, o := range opts {
		o(b)
	}
	if err := d.Bets().Create(context.Background(), b); err != nil {
		tb.Fatalf("daltest.Bet: %v", err)
	}
	return b
}
