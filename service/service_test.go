package service_test

import (
	"context"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database/dbtest"
	"socialpredict/service"
)

var ctx = context.Background()

// now is the clock of the services under test.
var now = daltest.Now

// env is a test environment: services on a fresh database.
type env struct {
	*service.Services
	dal *dal.DataAccessLayer
	tdb *dbtest.TestDB
	// clock is the time the services read; tests move it.
	clock *time.Time
}

// run runs fn on both engines with default economics.
func run(t *testing.T, fn func(t *testing.T, e *env)) {
	runWith(t, service.DefaultEconomics(), fn)
}

func runWith(t *testing.T, econ service.Economics, fn func(t *testing.T, e *env)) {
	daltest.Run(t, func(t *testing.T, d *dal.DataAccessLayer, tdb *dbtest.TestDB) {
		clock := now
		e := &env{Services: service.New(d, econ, service.WithClock(func() time.Time { return clock })), dal: d, tdb: tdb, clock: &clock}
		fn(t, e)
		e.mustCheck(t)
	})
}

// mustCheck fails the test when an invariant is broken.
func (e *env) mustCheck(t *testing.T) {
	t.Helper()
	v, err := e.Checker.Check(ctx)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, x := range v {
		t.Errorf("invariant broken: %s", x)
	}
}
