package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
	"socialpredict/server"
	"socialpredict/service"
)

// ServerOptions configure the in-process server under test.
type ServerOptions struct {
	// Database is the database the server uses (through the fault proxy
	// in a chaos run). Its health_check settings drive /readyz.
	Database database.Config
	// RequestTimeout is server.request_timeout (default 2s).
	RequestTimeout time.Duration
	// Economics of the market; the chaos run gives every user a large
	// initial balance so that no bet is refused for credits.
	Economics service.Economics
	// Log receives the server's log (default: discarded).
	Log *slog.Logger
}

// Server is the real HTTP server (server.New, the same handler and
// middleware as `socialpredict serve`) running in this process on
// loopback ports, over its own database handle.
type Server struct {
	// API is the base URL of the public listener (http://127.0.0.1:port);
	// Ops the ops listener's.
	API, Ops string
	// AdminKey is the bootstrap admin's API key.
	AdminKey string
	// DB is the server's database handle (its pool is the one checked for
	// broken connections after a run).
	DB *database.DB
	// Services are the services the server runs on.
	Services *service.Services
	// RequestTimeout is the server's request deadline.
	RequestTimeout time.Duration

	cancel context.CancelFunc
	done   chan error
}

// StartServer opens the database (retrying the connection as configured),
// brings the schema up to date (through database.migrations_url behind
// PgBouncer), creates the admin, starts the health checker and serves the
// API and ops endpoints on free loopback ports. Close stops it.
func StartServer(ctx context.Context, o ServerOptions) (*Server, error) {
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	db, err := database.NewDatabase(ctx, o.Database, database.WithLogger(o.Log), database.WithRegistry(reg))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Server, error) {
		db.Close()
		return nil, err
	}
	if err := migrate(ctx, o.Database, db, o.Log); err != nil {
		return fail(fmt.Errorf("migrate: %w", err))
	}
	svc := service.New(dal.New(db), o.Economics)
	boot, err := svc.Users.EnsureAdmin(ctx, service.NewUser{Username: "admin", DisplayName: "Administrator", Email: "admin@localhost"}, "")
	if err != nil {
		return fail(fmt.Errorf("bootstrap admin: %w", err))
	}
	if boot.Key == "" {
		return fail(errors.New("the database already has an admin: the chaos server needs a fresh database"))
	}
	cfg := server.DefaultConfig()
	cfg.Listen, cfg.OpsListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RequestTimeout = o.RequestTimeout
	cfg.WriteTimeout = max(cfg.WriteTimeout, o.RequestTimeout+10*time.Second)
	cfg.ShutdownTimeout = o.RequestTimeout + time.Second
	cfg.RateLimit.Requests = 0
	health := db.Health()
	srv, err := server.New(cfg, server.Options{Services: svc, Logger: o.Log, Registry: reg, Gatherer: reg, Health: health})
	if err != nil {
		return fail(err)
	}
	ls, err := srv.Listen()
	if err != nil {
		return fail(err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	health.Start(sctx)
	s := &Server{API: "http://" + ls.Public.Addr().String(), Ops: "http://" + ls.Ops.Addr().String(), AdminKey: boot.Key,
		DB: db, Services: svc, RequestTimeout: o.RequestTimeout, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(sctx, ls) }()
	return s, nil
}

// migrate applies the migrations, through migrations_url when set.
func migrate(ctx context.Context, cfg database.Config, db *database.DB, log *slog.Logger) error {
	if cfg.MigrationsURL == "" {
		_, err := migration.NewMigrationManager(db.GormDB(), migrations.All(), migration.WithLogger(log)).Up(ctx)
		return err
	}
	mcfg, _ := cfg.ForMigrations()
	direct, err := database.NewDatabase(ctx, mcfg, database.WithLogger(log))
	if err != nil {
		return err
	}
	defer direct.Close()
	_, err = migration.NewMigrationManager(direct.GormDB(), migrations.All(), migration.WithLogger(log)).Up(ctx)
	return err
}

// Close stops serving (in-flight requests get the request timeout), the
// health checker and the pool.
func (s *Server) Close() error {
	s.cancel()
	err := <-s.done
	s.DB.Health().Stop()
	return errors.Join(err, s.DB.Close())
}

// client returns an HTTP client for the server: keep-alive connections for
// every bettor, and a timeout well past the request deadline, so that a
// request the server did not bound shows up as "over the deadline" rather
// than hanging the run.
func client(requestTimeout time.Duration, conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = conns*2, conns*2
	return &http.Client{Transport: t, Timeout: requestTimeout + 10*time.Second}
}
