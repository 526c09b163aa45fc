package database

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenPgxPool opens a bare pgx pool of at most maxConns connections on cfg's
// PostgreSQL database, outside the project's handle: no query monitor, no
// retries, no GORM. It exists for the benchmark's hand-written limit
// (repository.RawPgx); the application never uses it.
func OpenPgxPool(ctx context.Context, cfg Config, maxConns int) (*pgxpool.Pool, error) {
	if cfg.Driver != DriverPostgres {
		return nil, errors.New("database: a pgx pool needs PostgreSQL")
	}
	pc, err := pgxpool.ParseConfig(cfg.postgresURL())
	if err != nil {
		return nil, err
	}
	pc.MaxConns = int32(max(1, maxConns))
	if !cfg.PreparedStatements {
		pc.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	return pgxpool.NewWithConfig(ctx, pc)
}
