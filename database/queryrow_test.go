package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"socialpredict/database"
	"socialpredict/database/dbtest"
)

// TestQueryRow runs QueryRow on both engines: on PostgreSQL it reads a row,
// inside a transaction it sees the transaction's own uncommitted row, a
// missing row is pgx.ErrNoRows and no error for the query monitor, which
// counts every call as one statement; on SQLite it is unsupported.
func TestQueryRow(t *testing.T) {
	dbtest.Run(t, dbtest.Empty, func(t *testing.T, tdb *dbtest.TestDB) {
		db, ctx := tdb.Handle, t.Context()
		var n int64
		scan := func(r pgx.Row) error { return r.Scan(&n) }
		if tdb.Engine == dbtest.SQLite {
			err := db.QueryRow(ctx, "raw", "SELECT 1", nil, scan)
			if !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("QueryRow on SQLite: %v, want errors.ErrUnsupported", err)
			}
			return
		}
		if err := tdb.DB.Exec("CREATE TABLE q (id bigint PRIMARY KEY, v bigint NOT NULL)").Error; err != nil {
			t.Fatal(err)
		}
		if err := tdb.DB.Exec("INSERT INTO q VALUES (1, 10)").Error; err != nil {
			t.Fatal(err)
		}
		const query = "SELECT v FROM q WHERE id = $1"
		sctx, scope := database.WithQueryScope(ctx)
		if err := db.QueryRow(sctx, "q", query, []any{1}, scan); err != nil || n != 10 {
			t.Errorf("QueryRow of row 1: %d, %v; want 10", n, err)
		}
		errorsBefore := testutil.ToFloat64(db.Metrics().QueryErrors.WithLabelValues("postgresql", "other"))
		if err := db.QueryRow(sctx, "q", query, []any{2}, scan); !errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("QueryRow of a missing row: %v, want pgx.ErrNoRows", err)
		}
		if got := testutil.ToFloat64(db.Metrics().QueryErrors.WithLabelValues("postgresql", "other")); got != errorsBefore {
			t.Errorf("a missing row counted as a query error (%v, was %v)", got, errorsBefore)
		}
		if got := scope.Queries(); got != 2 {
			t.Errorf("the query monitor saw %d statements, want 2", got)
		}
		err := db.Transactions().Transact(ctx, func(ctx context.Context) error {
			if err := db.Conn(ctx).Exec("INSERT INTO q VALUES (2, 20)").Error; err != nil {
				return err
			}
			if err := db.QueryRow(ctx, "q", query, []any{2}, scan); err != nil || n != 20 {
				t.Errorf("QueryRow inside the transaction: %d, %v; want its own row, 20", n, err)
			}
			return errors.New("roll back")
		})
		if err == nil {
			t.Fatal("the transaction did not roll back")
		}
		if err := db.QueryRow(ctx, "q", query, []any{2}, scan); !errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("QueryRow of the rolled back row: %v, want pgx.ErrNoRows", err)
		}
	})
}
