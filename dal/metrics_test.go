package dal_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
)

func TestTransactionMetrics(t *testing.T) {
	t.Parallel()
	_, tdb := daltest.New(t, dbtest.SQLite)
	m := database.NewMetrics(prometheus.NewRegistry())
	ctx := context.Background()
	d, err := dal.Open(ctx, tdb.Config, dbtest.Logger(), database.WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.WithTransaction(ctx, func(*dal.DataAccessLayer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_ = d.WithTransaction(ctx, func(*dal.DataAccessLayer) error { return errors.New("no") })
	if c, r := testutil.ToFloat64(m.Transactions.WithLabelValues("commit")), testutil.ToFloat64(m.Transactions.WithLabelValues("rollback")); c != 1 || r != 1 {
		t.Errorf("commits %v rollbacks %v, want 1 and 1", c, r)
	}
}
