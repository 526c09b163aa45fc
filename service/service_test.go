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
	t.Helper()
	dbtest.ForEachEngine(t, func(t *testing.T, engine dbtest.Engine) {
		e := newEnv(t, engine, econ)
		fn(t, e)
		e.mustCheck(t)
	})
}

// newEnv returns services on a fresh database on engine.
func newEnv(t *testing.T, engine dbtest.Engine, econ service.Economics) *env {
	t.Helper()
	d, tdb := daltest.New(t, engine)
	e := &env{tdb: tdb, clock: new(time.Time)}
	*e.clock = now
	e.dal = d.WithClock(func() time.Time { return *e.clock })
	e.Services = service.New(e.dal, econ)
	return e
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
