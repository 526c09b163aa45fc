package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/migration/migrations"
	"socialpredict/service"
)

func pgCPU() float64 {
	out, _ := exec.Command("python3", "/tmp/pgcpu.py").Output()
	f, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	return f
}

func TestZZCPU(t *testing.T) {
	if os.Getenv("ZZCPU") == "" {
		t.Skip()
	}
	ctx := context.Background()
	admin := database.DefaultConfig()
	admin.Driver = database.DriverPostgres
	admin.URL = "postgres://postgres@127.0.0.1:5444/postgres?sslmode=disable"
	suffix := randomSuffix()
	cfg, drop, err := scratch(ctx, admin, "zz_"+suffix)
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	quiet := database.WithLogger(slog.New(slog.DiscardHandler))
	main, err := database.NewDatabase(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close()
	if err := migrations.Up(ctx, main.GormDB()); err != nil {
		t.Fatal(err)
	}
	econ := service.DefaultEconomics()
	svc := service.New(dal.New(main), econ)
	if _, err := svc.Seed(ctx, service.SeedOptions{Users: 10000, Markets: 100, InitialBalance: 1 << 40, RandomSeed: 1}); err != nil {
		t.Fatal(err)
	}
	users, markets, _ := ids(ctx, main)
	pgCfg, dropPG, err := scratch(ctx, admin, "zz_pgb_"+suffix)
	if err != nil {
		t.Fatal(err)
	}
	defer dropPG()
	pg := newPgBench(FindPgBench(), pgCfg)
	if err := pg.init(ctx, 10); err != nil {
		t.Fatal(err)
	}
	d := 4 * time.Second
	variants := strings.Split(os.Getenv("ZZVARIANTS"), ",")
	ws := []int{8, 32}
	for round := 0; round < 3; round++ {
		for _, w := range ws {
			c0 := pgCPU()
			tps, err := pg.run(ctx, w, d)
			c1 := pgCPU()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Printf("round %d w=%d pgbench tps=%.0f cpu/tx=%.0fus\n", round, w, tps, (c1-c0)/(tps*d.Seconds())*1e6)
			for _, v := range variants {
				c := cfg
				c.ConnectionPool.MaxOpenConns, c.ConnectionPool.MaxIdleConns = w+4, w+4
				if v == "off" {
					c.GroupCommit.Enabled = false
				} else {
					n, _ := strconv.Atoi(v)
					c.GroupCommit.MaxInFlight = n
				}
				h, err := database.NewDatabase(ctx, c, quiet)
				if err != nil {
					t.Fatal(err)
				}
				s := service.New(dal.New(h), econ)
				placeBets(ctx, s, users, markets, w, 500*time.Millisecond)
				c0 := pgCPU()
				sm := placeBets(ctx, s, users, markets, w, d)
				c1 := pgCPU()
				h.Close()
				n, tps, p50, p99 := sm.summary()
				fmt.Printf("round %d w=%d gc=%s tps=%.0f cpu/bet=%.0fus p50=%s p99=%s\n", round, w, v, tps, (c1-c0)/float64(n)*1e6, p50, p99)
			}
		}
	}
}
