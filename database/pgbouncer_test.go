package database_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"socialpredict/database"
	"socialpredict/database/dbtest"
)

// TestConfigPgBouncerImplies: database.pgbouncer turns prepared statements
// off (unless set explicitly, which is refused) and says so.
func TestConfigPgBouncerImplies(t *testing.T) {
	cfg := database.DefaultConfig()
	cfg.URL, cfg.PgBouncer = "postgres://app@127.0.0.1:6432/app", true
	why := cfg.Resolve(func(key string) bool { return key == "url" || key == "pgbouncer" })
	if cfg.PreparedStatements || why["prepared_statements"] == "" {
		t.Errorf("prepared_statements = %v (%q), want false, derived", cfg.PreparedStatements, why["prepared_statements"])
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got := cfg.Implications()["migrations_url"]; got == "" {
		t.Error("no implication shown for an empty migrations_url behind PgBouncer")
	}

	explicit := database.DefaultConfig()
	explicit.URL, explicit.PgBouncer = cfg.URL, true
	explicit.Resolve(func(key string) bool { return key != "driver" })
	if err := explicit.Validate(); err == nil {
		t.Error("prepared_statements: true with pgbouncer: true validated")
	}

	direct, ok := cfg.ForMigrations()
	if ok || direct.URL != cfg.URL {
		t.Errorf("ForMigrations without migrations_url = %q, %v; want the same URL, not direct", direct.URL, ok)
	}
	cfg.MigrationsURL = "postgres://app:secret@127.0.0.1:5432/app"
	direct, ok = cfg.ForMigrations()
	if !ok || direct.URL != cfg.MigrationsURL || direct.PgBouncer || direct.MigrationsURL != "" {
		t.Errorf("ForMigrations = %+v, %v; want the migrations URL, not through PgBouncer", direct, ok)
	}
}

// TestThroughPgBouncer: with database.pgbouncer, concurrent clients sharing
// fewer server connections than they have (transaction pooling) run many
// distinct statements, in and out of transactions, without one error:
// nothing relies on a named prepared statement or other session state.
func TestThroughPgBouncer(t *testing.T) {
	t.Parallel()
	cfg := dbtest.PgBouncerConfig(t, dbtest.Empty)
	db, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.GormDB().Exec("CREATE TABLE t (id bigint PRIMARY KEY, v bigint NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	const clients, rounds = 8, 25
	var wg sync.WaitGroup
	errc := make(chan error, clients*rounds)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for r := range rounds {
				id := int64(c*rounds + r)
				err := db.Transactions().Transact(ctx, func(ctx context.Context) error {
					g := db.Conn(ctx)
					if err := g.Exec("INSERT INTO t (id, v) VALUES (?, ?)", id, r).Error; err != nil {
						return err
					}
					// A statement text of its own per round: a cached
					// statement would be looked for on another session.
					var v int64
					q := fmt.Sprintf("SELECT v + %d FROM t WHERE id = ?", r%5)
					if err := g.Raw(q, id).Scan(&v).Error; err != nil {
						return err
					}
					return g.Exec("UPDATE t SET v = ? WHERE id = ?", v, id).Error
				})
				if err == nil {
					var n int64
					err = db.Conn(ctx).Raw("SELECT count(*) FROM t WHERE id <= ?", id).Scan(&n).Error
				}
				if err != nil {
					errc <- fmt.Errorf("client %d round %d: %w", c, r, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	var n int64
	if err := db.GormDB().Raw("SELECT count(*) FROM t").Scan(&n).Error; err != nil || n != clients*rounds {
		t.Errorf("rows = %d, %v; want %d", n, err, clients*rounds)
	}
}
