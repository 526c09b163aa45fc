package database

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// QueryRow runs query (PostgreSQL placeholders: $1, $2…) with args straight
// through pgx and hands its row to scan, on the connection a statement built
// from Conn(ctx) would use: the transaction ctx carries or the handle is
// bound to; outside one, a streaming replica's pool for a read ctx marks
// StaleOK (under the same rules, and a replica found unreachable leaves the
// rotation the same way), or else the writer's pool. The query monitor
// records it as it records GORM's statements (with args, for the slow query
// log's plan; table labels its metrics), a missing row counting as no error,
// as GORM's record-not-found does.
//
// It is for the hottest single-row reads, where GORM's statement building
// and database/sql's scanning cost more than the query: one call costs about
// what the same query costs on a bare pgx pool (see the repository's
// benchmarks).
//
// It returns scan's error as it is (pgx.ErrNoRows when there is no row: scan
// the row with pgx.Row.Scan), the error of taking a connection (an
// *errs.UnavailableError when none came free before ctx's deadline), and
// errors.ErrUnsupported on SQLite. Errors are not translated: the
// repositories translate them.
func (db *DB) QueryRow(ctx context.Context, table, query string, args []any, scan func(pgx.Row) error) error {
	if db.cfg.Driver != DriverPostgres {
		return fmt.Errorf("%w: QueryRow on %s", errors.ErrUnsupported, db.cfg.Driver)
	}
	ctx = db.Context(ctx)
	run := func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("query row: unexpected driver connection %T", dc)
		}
		start := time.Now()
		err := scan(c.Conn().QueryRow(ctx, query, args...))
		if db.monitor != nil {
			rows, observed := int64(1), err
			if errors.Is(err, pgx.ErrNoRows) {
				rows, observed = 0, nil
			}
			db.monitor.observe(ctx, query, args, table, rows, start, observed)
		}
		return err
	}
	if s := txFrom(ctx); s != nil {
		return s.conn.Raw(run)
	}
	var r *replica
	if db.replicas != nil {
		r = db.replicas.route(ctx)
	}
	pool := db.sqlDB
	if r != nil {
		pool = r.sqlDB
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		err = poolTimeout(ctx, err)
	} else {
		err = conn.Raw(run)
		conn.Close()
	}
	if r != nil {
		db.replicas.readFailed(r, err)
	}
	return err
}
