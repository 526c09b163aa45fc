package chaos_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/internal/chaos"
	"socialpredict/internal/pgcluster"
)

// get sends GET url (with key as bearer when not empty) and returns the
// response's status, headers and body.
func get(t *testing.T, url, key string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestReplicaOverHTTP: the server on a primary with a real streaming
// replica (pg_basebackup -R -X stream). Market lists, leaderboards and
// public positions are read from the replica when it is in rotation, and
// the response says so with its lag; single markets and a bettor's reads
// right after their bet come from the writer, so the bet is there; a
// replica whose replay is paused stops serving; /metrics and /readyz show
// the replica.
func TestReplicaOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts two PostgreSQL clusters")
	}
	dbtest.SkipViaPgBouncer(t, "it starts PostgreSQL clusters of its own")
	t.Parallel()
	ctx := context.Background()
	primary, err := pgcluster.Start(ctx, pgcluster.Options{})
	if errors.Is(err, pgcluster.ErrNoBinaries) && os.Getenv(dbtest.EnvRequirePostgres) != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(primary.Destroy)
	standby, err := primary.Replica(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(standby.Destroy)

	cfg := database.DefaultConfig()
	cfg.Driver = database.DriverPostgres
	cfg.URL = primary.URL("postgres")
	cfg.Replicas = []string{standby.URL("postgres")}
	cfg.MaxReplicaLag, cfg.ReplicaCheckInterval, cfg.ReadYourWrites = time.Second, 100*time.Millisecond, 2*time.Second
	cfg.HealthCheck.Interval, cfg.HealthCheck.Timeout = 200*time.Millisecond, time.Second
	cfg.Monitoring.LogLevel = "silent"
	srv, err := chaos.StartServer(ctx, chaos.ServerOptions{Database: cfg, Economics: chaos.Economics(), RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w, err := chaos.NewWorkload(ctx, srv, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	inRotation := func() bool { return srv.DB.Replicas()[0].InRotation }
	deadline := time.Now().Add(30 * time.Second)
	for !inRotation() {
		if time.Now().After(deadline) {
			t.Fatalf("the replica never came into rotation: %+v", srv.DB.Replicas())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Wait until the replica has the markets the workload created.
	for {
		_, h, body := get(t, srv.API+"/v1/markets", "")
		if h.Get("X-Served-By") == "replica" && strings.Contains(body, "Chaos market 0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the markets never showed on the replica: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	for _, path := range []string{"/v1/markets", "/v1/leaderboard", "/v1/markets/1/positions"} {
		st, h, body := get(t, srv.API+path, "")
		if st != http.StatusOK || h.Get("X-Served-By") != "replica" || h.Get("X-Replica-Lag") == "" {
			t.Errorf("GET %s: %d, X-Served-By %q, X-Replica-Lag %q; want 200 from the replica with its lag\n%s",
				path, st, h.Get("X-Served-By"), h.Get("X-Replica-Lag"), body)
		}
	}
	if _, h, _ := get(t, srv.API+"/v1/markets/1", ""); h.Get("X-Served-By") != "" {
		t.Errorf("GET /v1/markets/1 (not stale-OK) came from the replica")
	}

	// Read your writes: right after a bet, the bettor's lists come from
	// the writer and hold the bet.
	a := w.Bet(ctx, 0, "ryw-1")
	if a.Status != http.StatusCreated {
		t.Fatalf("bet: %d %s", a.Status, a.Err)
	}
	key := w.Key(0)
	st, h, body := get(t, srv.API+"/v1/markets", key)
	var page struct {
		Items []struct {
			ID       int64 `json:"id"`
			BetCount int64 `json:"bet_count"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || st != http.StatusOK {
		t.Fatalf("GET /v1/markets as the bettor: %d %s", st, body)
	}
	if h.Get("X-Served-By") != "" || len(page.Items) != 1 || page.Items[0].BetCount != 1 {
		t.Errorf("right after the bet, the bettor's market list: X-Served-By %q, %s; want the writer, with the bet", h.Get("X-Served-By"), body)
	}
	if _, h, body := get(t, srv.API+"/v1/users/bettor_0/positions", key); h.Get("X-Served-By") != "" || !strings.Contains(body, `"market_id":1`) {
		t.Errorf("right after the bet, the bettor's positions: X-Served-By %q, %s; want the writer, with the position", h.Get("X-Served-By"), body)
	}
	if _, h, _ := get(t, srv.API+"/v1/leaderboard", w.Key(1)); h.Get("X-Served-By") != "replica" {
		t.Errorf("another user's leaderboard did not come from the replica")
	}

	// /metrics and /readyz show the replica.
	_, _, metrics := get(t, srv.Ops+"/metrics", "")
	for _, want := range []string{fmt.Sprintf(`db_replica_in_rotation{replica=%q} 1`, standby.Addr()), "db_replica_lag_seconds{", "db_replica_reads_total{",
		`db_replica_fallbacks_total{reason="read_your_writes"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if _, _, ready := get(t, srv.Ops+"/readyz", ""); !strings.Contains(ready, `"name": "replicas"`) {
		t.Errorf("/readyz has no replicas check:\n%s", ready)
	}

	// A paused replica, once behind, stops serving.
	direct := cfg
	direct.URL, direct.Replicas = standby.URL("postgres"), nil
	rdb, err := database.NewDatabase(ctx, direct, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if err := rdb.GormDB().Exec("SELECT pg_wal_replay_pause()").Error; err != nil {
		t.Fatal(err)
	}
	for i := 0; inRotation(); i++ {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatal("a paused replica stayed in rotation")
		}
		w.Bet(ctx, 1, fmt.Sprintf("lag-%d", i)) // writes for the replica to miss
		time.Sleep(100 * time.Millisecond)
	}
	if _, h, _ := get(t, srv.API+"/v1/markets", ""); h.Get("X-Served-By") != "" {
		t.Error("a replica out of rotation still served the market list")
	}
	if err := rdb.GormDB().Exec("SELECT pg_wal_replay_resume()").Error; err != nil {
		t.Fatal(err)
	}
}
