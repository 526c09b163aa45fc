package repository

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"socialpredict/database"
)

// postgresMaxParams is the most parameters one PostgreSQL statement binds:
// the extended protocol counts them in 16 bits.
const postgresMaxParams = 65535

// batchRows returns how many rows of model one multi-row INSERT carries: as
// many as the engine's limit on bound parameters allows with one parameter
// per column (SQLite: SQLITE_LIMIT_VARIABLE_NUMBER, 32766 unless lowered,
// so 3640 bets of 9 columns; PostgreSQL: 65535), and at least one.
func batchRows(ctx context.Context, conn *gorm.DB, model any) (int, error) {
	stmt := &gorm.Statement{DB: conn}
	if err := stmt.Parse(model); err != nil {
		return 0, err
	}
	limit := postgresMaxParams
	if conn.Dialector.Name() != database.DriverPostgres {
		var err error
		if limit, err = database.SQLiteMaxParams(ctx, conn); err != nil {
			return 0, fmt.Errorf("bulk insert: parameter limit of SQLite: %w", err)
		}
	}
	return max(1, limit/max(1, len(stmt.Schema.DBNames))), nil
}

// createBatch inserts rows in one transaction, all or none: the one ctx (or
// a repository bound to a transaction through db) carries, in a savepoint,
// or its own, which is not retried (a batch is large; the caller decides).
func createBatch[T any](ctx context.Context, db *database.DB, rows []*T) error {
	ctx = db.Context(ctx)
	err := db.Transactions().Transact(ctx, func(ctx context.Context) error { return insertBatch(ctx, db, rows) },
		database.WithAttempts(1))
	if err != nil {
		// The IDs given by the failed attempt are not the rows' any more: a
		// retry of the caller's transaction must take new ones.
		clearNewIDs(ctx, db.GormDB(), rows)
	}
	return err
}

// clearNewIDs zeroes the primary keys of rows (all of them: callers pass new
// rows, without IDs).
func clearNewIDs[T any](ctx context.Context, db *gorm.DB, rows []*T) {
	if len(rows) == 0 {
		return
	}
	stmt := &gorm.Statement{DB: db}
	if stmt.Parse(rows[0]) != nil || stmt.Schema.PrioritizedPrimaryField == nil {
		return
	}
	pk := stmt.Schema.PrioritizedPrimaryField
	for _, r := range rows {
		_ = pk.Set(ctx, reflect.ValueOf(r), 0)
	}
}

// insertBatch inserts rows, which must all be of one model type, and sets
// their IDs; ctx must carry a transaction. On PostgreSQL it reserves the IDs
// from the table's sequence in one query and streams the rows with COPY; on
// SQLite it runs multi-row INSERTs. Rows are read where they are, never
// copied into a second in-memory set.
func insertBatch[T any](ctx context.Context, db *database.DB, rows []*T) error {
	if len(rows) == 0 {
		return nil
	}
	conn := db.Conn(ctx)
	if conn.Dialector.Name() != database.DriverPostgres {
		n, err := batchRows(ctx, conn, rows[0])
		if err != nil {
			return err
		}
		return TranslateError(conn.CreateInBatches(rows, n).Error)
	}
	stmt := &gorm.Statement{DB: conn}
	if err := stmt.Parse(rows[0]); err != nil {
		return err
	}
	s := stmt.Schema
	src := &copySource[T]{rows: rows, fields: s.Fields, now: db.Now(), ctx: ctx, index: -1}
	return db.Raw(ctx, func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("bulk insert: unexpected driver connection %T", dc)
		}
		if err := reserveIDs(ctx, c.Conn(), s, rows); err != nil {
			return TranslateError(err)
		}
		start := time.Now()
		n, err := c.Conn().CopyFrom(ctx, pgx.Identifier{s.Table}, s.DBNames, src)
		db.Observe(ctx, "COPY "+s.Table, s.Table, n, start, err)
		return TranslateError(err)
	})
}

// reserveIDs takes IDs for the rows without one from the table's identity
// sequence, in one round trip returning one array, and sets them.
func reserveIDs[T any](ctx context.Context, conn *pgx.Conn, s *schema.Schema, rows []*T) error {
	pk := s.PrioritizedPrimaryField
	if pk == nil || !pk.AutoIncrement {
		return nil
	}
	var missing []reflect.Value
	for _, r := range rows {
		rv := reflect.ValueOf(r)
		if _, zero := pk.ValueOf(ctx, rv); zero {
			missing = append(missing, rv)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var ids []int64
	err := conn.QueryRow(ctx, "SELECT array_agg(nextval(pg_get_serial_sequence($1, $2))) FROM generate_series(1, $3)",
		s.Table, pk.DBName, len(missing)).Scan(&ids)
	if err != nil {
		return err
	}
	for i, rv := range missing {
		if err := pk.Set(ctx, rv, ids[i]); err != nil {
			return err
		}
	}
	return nil
}

// copySource feeds rows to COPY one at a time.
type copySource[T any] struct {
	rows   []*T
	fields []*schema.Field
	now    time.Time
	ctx    context.Context
	index  int
	values []any
}

// Next moves to the next row.
func (c *copySource[T]) Next() bool {
	c.index++
	return c.index < len(c.rows)
}

// Values returns the current row's column values, filling zero
// auto-create/update times with now.
func (c *copySource[T]) Values() ([]any, error) {
	rv := reflect.ValueOf(c.rows[c.index])
	c.values = c.values[:0]
	for _, f := range c.fields {
		v, zero := f.ValueOf(c.ctx, rv)
		if zero && (f.AutoCreateTime > 0 || f.AutoUpdateTime > 0) {
			if err := f.Set(c.ctx, rv, c.now); err != nil {
				return nil, err
			}
			v = c.now
		}
		c.values = append(c.values, v)
	}
	return c.values, nil
}

// Err reports no error: rows are already in memory.
func (c *copySource[T]) Err() error { return nil }
