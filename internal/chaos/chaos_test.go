package chaos_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"socialpredict/database/dbtest"
	"socialpredict/internal/chaos"
	"socialpredict/internal/pgcluster"
)

// logWriter sends progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestChaosShort is CI's chaos run (chaos.Short): PostgreSQL (a throwaway
// cluster) restarted once with -m fast and once with -m immediate, one
// latency spike, reset and black hole each, and a pool exhaustion, under
// concurrent bettors; every check of chaos.Verify must pass.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the chaos run takes about a minute")
	}
	dbtest.SkipViaPgBouncer(t, "it starts a PostgreSQL cluster of its own and restarts it")
	t.Parallel()
	o := chaos.Short()
	o.Progress = logWriter{t}
	rep, err := chaos.Run(context.Background(), o)
	if errors.Is(err, pgcluster.ErrNoBinaries) && os.Getenv(dbtest.EnvRequirePostgres) != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	_ = rep.Print(&sb)
	t.Log("\n" + sb.String())
	if rep.Failed() {
		t.Errorf("chaos run failed: %d problems (report above)", len(rep.Problems))
	}
	if len(rep.Faults) != 6 || rep.Acknowledged == 0 {
		t.Errorf("%d faults, %d bets acknowledged; want 6 faults and some bets", len(rep.Faults), rep.Acknowledged)
	}
}
