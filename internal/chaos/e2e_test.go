package chaos_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"socialpredict/database/dbtest"
	"socialpredict/internal/chaos"
	"socialpredict/service"
)

// econ gives every user enough credits that no bet is refused.
func econ() service.Economics {
	e := service.DefaultEconomics()
	e.InitialBalance = 1_000_000_000
	return e
}

// TestBettorsEndToEnd: concurrent bettors through the HTTP API of the real
// server on PostgreSQL (through PgBouncer in the test command's second
// run): every bet acknowledged is stored once, nothing else is, `db check`
// passes, no answer but 201.
func TestBettorsEndToEnd(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t, dbtest.Postgres, dbtest.Empty)
	ctx := context.Background()
	srv, err := chaos.StartServer(ctx, chaos.ServerOptions{Database: tdb.Config, Economics: econ(), RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w, err := chaos.NewWorkload(ctx, srv, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	stop, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	w.Run(stop, ctx)
	rep := chaos.Verify(ctx, tdb.Handle, srv, w, econ(), nil)
	if rep.Failed() || rep.Acknowledged == 0 || rep.Unavailable > 0 {
		var sb strings.Builder
		_ = rep.Print(&sb)
		t.Errorf("end-to-end run (%d bets acknowledged, %d answers 503):\n%s", rep.Acknowledged, rep.Unavailable, sb.String())
	}
	t.Logf("%d requests, %d bets acknowledged (pgbouncer=%v)", rep.Requests, rep.Acknowledged, tdb.Config.PgBouncer)
}
