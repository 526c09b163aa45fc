package repository

import (
	"context"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/models"
)

// ledgerRepository is the GORM LedgerRepository.
type ledgerRepository struct{ db *gorm.DB }

// NewLedgerRepository returns the LedgerRepository on db (a pool, or a
// transaction the repository is bound to).
func NewLedgerRepository(db *gorm.DB) LedgerRepository { return &ledgerRepository{db: db} }

var ledgerKeys = keyset[models.LedgerEntry]{
	sorts: map[string]sortKey[models.LedgerEntry]{
		"created_at": {column: "created_at", kind: keyTime, value: func(e *models.LedgerEntry) any { return e.CreatedAt }},
	},
	defaultSort: "created_at",
	tieColumn:   "id",
	tie:         func(e *models.LedgerEntry) int64 { return e.ID },
	columns:     ledgerColumns,
	scan:        scanLedgerEntry,
}

func (r *ledgerRepository) conn(ctx context.Context) *gorm.DB { return database.Conn(ctx, r.db) }

func (r *ledgerRepository) Append(ctx context.Context, entries ...*models.LedgerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for _, e := range entries {
		e.CreatedAt = e.CreatedAt.UTC()
	}
	return TranslateError(r.conn(ctx).CreateInBatches(entries, sqliteBatchRows).Error)
}

func (r *ledgerRepository) ListByUser(ctx context.Context, userID int64, page PageRequest) (Page[*models.LedgerEntry], error) {
	q := r.conn(ctx).Model(&models.LedgerEntry{}).Where("user_id = ?", userID)
	return ledgerKeys.page(q, page, userID)
}

func (r *ledgerRepository) SumByUser(ctx context.Context, userID int64) (int64, error) {
	var sum int64
	err := r.conn(ctx).Raw("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE user_id = ?", userID).Scan(&sum).Error
	return sum, TranslateError(err)
}
