package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"socialpredict/config"
	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/internal/confkit"
	"socialpredict/internal/dbreport"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
	"socialpredict/server"
	"socialpredict/service"
)

// EnvAdminKey gives the bootstrap admin's API key instead of a generated one.
const EnvAdminKey = "SOCIALPREDICT_ADMIN_KEY"

// serveFlags are the flags of serve.
type serveFlags struct {
	migrate           bool
	listen, opsListen string
}

func (a *app) serveCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API server (the main job)",
		Long: `Serve the JSON API under /v1 on server.listen (default 127.0.0.1:8080) and the
ops endpoints (/metrics, /healthz, /readyz, /debug/db) on server.ops_listen
(default 127.0.0.1:9090), until SIGINT or SIGTERM; then shut down gracefully.

With no configuration it runs on the embedded SQLite database
./socialpredict.db, migrating it. On PostgreSQL it refuses to start on a schema
that is behind or modified unless --migrate is given (or run
` + "`socialpredict migrate up`" + ` first).

On the first start, when the database has no admin, it creates the user
"admin" and writes its API key to server.admin_key_file (mode 0600), or uses
$` + EnvAdminKey + ` as the key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context(), f) },
	}
	cmd.Flags().BoolVar(&f.migrate, "migrate", false, "apply pending migrations before serving (PostgreSQL; SQLite always migrates)")
	cmd.Flags().StringVar(&f.listen, "listen", "", "public API address host:port (overrides server.listen)")
	cmd.Flags().StringVar(&f.opsListen, "ops-listen", "", "ops endpoints address host:port, or \"off\" (overrides server.ops_listen)")
	return cmd
}

// serve runs the server until ctx ends.
func (a *app) serve(ctx context.Context, f *serveFlags) error {
	cfg, err := a.load()
	if err != nil {
		return err
	}
	if f.listen != "" {
		cfg.Server.Listen = f.listen
	}
	switch f.opsListen {
	case "":
	case "off":
		cfg.Server.OpsListen = ""
	default:
		cfg.Server.OpsListen = f.opsListen
	}
	if err := cfg.Server.Validate(); err != nil {
		return err
	}
	started := time.Now()
	log := a.logger(cfg)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	db, err := database.NewDatabase(ctx, cfg.Database, database.WithLogger(log), database.WithRegistry(reg))
	if err != nil {
		return err
	}
	defer db.Close()
	mopts := []migration.Option{migration.WithLogger(log), migration.WithMetrics(db.Metrics())}
	if cfg.Database.PgBouncer {
		mopts = append(mopts, migration.WithTransactionPooling())
	}
	mgr := migration.NewMigrationManager(db.GormDB(), migrations.All(), mopts...)
	if err := a.prepareSchema(ctx, cfg, mgr, f.migrate); err != nil {
		return err
	}
	svc := service.New(dal.New(db), cfg.Economics)
	if err := a.bootstrapAdmin(ctx, cfg, svc); err != nil {
		return err
	}
	health := db.Health()
	health.Start(ctx)
	defer health.Stop()
	srv, err := server.New(cfg.Server, server.Options{Services: svc, Logger: log, Registry: reg, Gatherer: reg,
		Health: health, DebugDB: dbreport.Reporter{Source: dbreport.Source{DB: db, Migrations: mgr, StartedAt: started}}})
	if err != nil {
		return err
	}
	ls, err := srv.Listen()
	if err != nil {
		return err
	}
	out := a.env.Stdout
	fmt.Fprintf(out, "socialpredict: serving the API on http://%s (database: %s)\n", ls.Public.Addr(), describeDB(cfg))
	if ls.Ops != nil {
		fmt.Fprintf(out, "socialpredict: ops endpoints on http://%s (/metrics /healthz /readyz /debug/db)\n", ls.Ops.Addr())
	}
	err = srv.Serve(ctx, ls)
	fmt.Fprintln(out, "socialpredict: stopped")
	return err
}

// prepareSchema migrates SQLite (and PostgreSQL with --migrate), and
// otherwise refuses a PostgreSQL schema that is not current.
func (a *app) prepareSchema(ctx context.Context, cfg *config.Loaded, mgr *migration.MigrationManager, migrate bool) error {
	if cfg.Database.Driver == database.DriverSQLite {
		_, err := mgr.Up(ctx)
		return err
	}
	if migrate && cfg.Database.MigrationsURL == "" {
		_, err := mgr.Up(ctx) // ErrTransactionPooling behind PgBouncer
		return err
	}
	if migrate {
		// Through database.migrations_url: a direct connection.
		direct, closeDB, err := a.openMigrations(ctx, cfg)
		if err != nil {
			return err
		}
		defer closeDB()
		_, err = direct.Up(ctx)
		return err
	}
	if err := mgr.CheckCurrent(ctx); err != nil {
		if errors.Is(err, migration.ErrNotCurrent) {
			return fmt.Errorf("%w\nrun `socialpredict migrate up` first, or start with `socialpredict serve --migrate`", err)
		}
		return err
	}
	return nil
}

// bootstrapAdmin creates the first admin when there is none, with the key
// from $SOCIALPREDICT_ADMIN_KEY or a new one written to admin_key_file.
func (a *app) bootstrapAdmin(ctx context.Context, cfg *config.Loaded, svc *service.Services) error {
	key := confkit.EnvMap(a.env.Environ)[EnvAdminKey]
	b, err := svc.Users.EnsureAdmin(ctx, service.NewUser{Username: "admin", DisplayName: "Administrator",
		Email: "admin@localhost"}, key)
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	path := cfg.Server.AdminKeyFile
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	out := a.env.Stdout
	switch {
	case !b.Created:
		fmt.Fprintf(out, "socialpredict: admin user %q exists; its key was given at first start (see %s or $%s)\n",
			b.Admin.Username, path, EnvAdminKey)
	case b.Key == "":
		fmt.Fprintf(out, "socialpredict: created admin user %q with the key from $%s\n", b.Admin.Username, EnvAdminKey)
	default:
		if err := os.WriteFile(path, []byte(b.Key+"\n"), 0o600); err != nil {
			return fmt.Errorf("write the admin key to %s (server.admin_key_file): %w", path, err)
		}
		// WriteFile keeps the mode of a file that already existed.
		if err := os.Chmod(path, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(out, "socialpredict: created admin user %q; its API key is in %s (mode 0600)\n", b.Admin.Username, path)
	}
	return nil
}

// describeDB names the database without secrets.
func describeDB(cfg *config.Loaded) string {
	if cfg.Database.Driver == database.DriverSQLite {
		return "sqlite " + cfg.Database.SQLite.Path
	}
	return "postgres"
}
