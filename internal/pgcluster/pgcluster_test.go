package pgcluster_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"socialpredict/internal/pgcluster"
)

// start starts a throwaway cluster for the test, or skips (fails under
// SOCIALPREDICT_TEST_REQUIRE_POSTGRES=1) without server binaries.
func start(t *testing.T) *pgcluster.Cluster {
	t.Helper()
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{})
	if errors.Is(err, pgcluster.ErrNoBinaries) && os.Getenv("SOCIALPREDICT_TEST_REQUIRE_POSTGRES") != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Destroy)
	return c
}

func accepts(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
	}
	return err == nil
}

func TestStartRestartStop(t *testing.T) {
	t.Parallel()
	c := start(t)
	ctx := context.Background()
	if !accepts(c.Addr()) {
		t.Fatalf("%s does not accept connections", c.Addr())
	}
	for _, mode := range []string{"fast", "immediate"} {
		if err := c.Restart(ctx, mode); err != nil {
			t.Fatal(err)
		}
		if !accepts(c.Addr()) {
			t.Fatalf("after restart -m %s: %s does not accept connections", mode, c.Addr())
		}
	}
	if err := c.Stop(ctx, "fast"); err != nil {
		t.Fatal(err)
	}
	if accepts(c.Addr()) {
		t.Errorf("stopped, %s still accepts connections", c.Addr())
	}
	dir := c.Dir
	c.Destroy()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Destroy left %s: %v", dir, err)
	}
}
