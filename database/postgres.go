package database

import (
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// openPostgres prepares a pgx-backed pool for cfg without connecting yet.
func openPostgres(cfg Config) (*sql.DB, gorm.Dialector, error) {
	connCfg, err := pgx.ParseConfig(cfg.postgresURL())
	if err != nil {
		return nil, nil, err
	}
	if !cfg.PreparedStatements || cfg.PgBouncer {
		// Unnamed statements: nothing outlives the query, as PgBouncer's
		// transaction pooling requires (PgBouncer 1.18 forwards a named
		// statement to one server connection and the next transaction may
		// get another one; QueryExecModeCacheStatement and DescribeExec
		// fail there).
		connCfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	db := stdlib.OpenDB(*connCfg)
	return db, postgres.New(postgres.Config{Conn: db}), nil
}
