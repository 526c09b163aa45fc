package migrations

import (
	"errors"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"socialpredict/errs"
	"socialpredict/repository"
)

// TestDomainViolationsNameTheirField: a violated domain of 005 (or 007's,
// ledger_entries_fee_nonnegative) names no
// table, only the constraint; repository.TranslateError recovers table and
// field from that name for every domain, so a new domain with a name it
// cannot split fails here.
func TestDomainViolationsNameTheirField(t *testing.T) {
	for _, d := range append(columnDomains, columnDomain{table: "ledger_entries", column: "fee", name: "ledger_entries_fee_nonnegative"}) {
		err := repository.TranslateError(&pgconn.PgError{Code: pgerrcode.CheckViolation, ConstraintName: d.name, DataTypeName: d.name})
		var ce *errs.ConstraintError
		if !errors.As(err, &ce) || !errors.Is(err, errs.ErrInvalidInput) || ce.Table != d.table || ce.Field != d.column {
			t.Errorf("domain %s: %#v, want invalid input on %s.%s", d.name, err, d.table, d.column)
		}
	}
}
