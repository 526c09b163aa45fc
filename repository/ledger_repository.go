package repository

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
)

// ledgerRepository is the GORM LedgerRepository.
type ledgerRepository struct{ db *database.DB }

// NewLedgerRepository returns the LedgerRepository on db (a pool, or a
// transaction the repository is bound to).
func NewLedgerRepository(db *database.DB) LedgerRepository { return &ledgerRepository{db: db} }

var ledgerKeys = keyset[models.LedgerEntry]{
	name: "ledger",
	sorts: map[string]sortKey[models.LedgerEntry]{
		"created_at": {column: "created_at", kind: keyTime, value: func(e *models.LedgerEntry) any { return e.CreatedAt }},
	},
	defaultSort: "created_at",
	tieColumn:   "id",
	tie:         func(e *models.LedgerEntry) int64 { return e.ID },
	columns:     ledgerColumns,
	scan:        scanLedgerEntry,
}

func (r *ledgerRepository) conn(ctx context.Context) *gorm.DB { return r.db.Conn(ctx) }

func (r *ledgerRepository) Append(ctx context.Context, entries ...*models.LedgerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for _, e := range entries {
		e.CreatedAt = e.CreatedAt.UTC()
	}
	n, err := batchRows(ctx, r.conn(ctx), entries[0])
	if err != nil {
		return err
	}
	return TranslateError(r.conn(ctx).CreateInBatches(entries, n).Error)
}

func (r *ledgerRepository) AppendBatch(ctx context.Context, entries []*models.LedgerEntry) error {
	for _, e := range entries {
		e.CreatedAt = e.CreatedAt.UTC()
	}
	return createBatch(ctx, r.db, entries)
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

func (r *ledgerRepository) Credit(ctx context.Context, marketID int64, credits []Credit, at time.Time) error {
	if len(credits) == 0 {
		return nil
	}
	type row struct {
		Seq int `json:"seq"`
		Credit
	}
	rows := make([]row, len(credits))
	for i, c := range credits {
		rows[i] = row{Seq: i, Credit: c}
	}
	payload, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	conn := r.conn(ctx)
	at = at.UTC()
	var inserted int64
	if conn.Dialector.Name() == database.DriverPostgres {
		res := conn.Exec(creditPostgres, map[string]any{"rows": string(payload), "market": marketID, "now": at})
		err, inserted = res.Error, res.RowsAffected
	} else {
		if err := conn.Exec(creditSQLiteBalances, at, string(payload)).Error; err != nil {
			return TranslateError(err)
		}
		res := conn.Exec(creditSQLiteLedger, marketID, at, string(payload))
		err, inserted = res.Error, res.RowsAffected
	}
	if err != nil {
		return TranslateError(err)
	}
	if inserted != int64(len(credits)) {
		return fmt.Errorf("%w: %d of %d credited users exist", errs.ErrNotFound, inserted, len(credits))
	}
	return nil
}

// balanceAfter is each ledger row's balance after it: the user's final
// balance less the rows that come after it. The rows are inserted in their
// given order (ORDER BY d.seq), so that ids follow the ledger's order.
const balanceAfter = `u.balance - COALESCE(SUM(d.amount) OVER (PARTITION BY d.user_id ORDER BY d.seq DESC
	ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)`

// creditPostgres locks the users in id order (l: the lock order of every
// writer that holds several users, such as a batch of bets, so that none
// deadlocks with a resolution), updates the balances (one update per user,
// with the sum of their credits) and writes the ledger rows, in one
// statement.
const creditPostgres = `
WITH d AS (
	SELECT * FROM jsonb_to_recordset(CAST(@rows AS jsonb)) AS d(seq int, user_id bigint, kind text, amount bigint)
),
t AS (SELECT user_id, SUM(amount) AS total FROM d GROUP BY user_id),
l AS MATERIALIZED (
	SELECT users.id FROM users JOIN t ON t.user_id = users.id ORDER BY users.id FOR NO KEY UPDATE OF users
),
u AS (
	UPDATE users SET balance = users.balance + t.total, updated_at = CAST(@now AS timestamptz)
	FROM t JOIN l ON l.id = t.user_id WHERE users.id = t.user_id
	RETURNING users.id, users.balance
)
INSERT INTO ledger_entries (user_id, market_id, kind, amount, balance_after, created_at)
SELECT d.user_id, CAST(@market AS bigint), d.kind, d.amount, ` + balanceAfter + `, CAST(@now AS timestamptz)
FROM d JOIN u ON u.id = d.user_id
ORDER BY d.seq`

const creditSQLiteRows = `(SELECT json_extract(value, '$.seq') AS seq, json_extract(value, '$.user_id') AS user_id,
	json_extract(value, '$.kind') AS kind, json_extract(value, '$.amount') AS amount FROM json_each(?))`

// creditSQLiteBalances and creditSQLiteLedger do on SQLite what
// creditPostgres does, in two statements.
const (
	creditSQLiteBalances = `UPDATE users SET balance = balance + t.total, updated_at = ?
		FROM (SELECT d.user_id, SUM(d.amount) AS total FROM ` + creditSQLiteRows + ` AS d GROUP BY d.user_id) AS t
		WHERE users.id = t.user_id`
	creditSQLiteLedger = `INSERT INTO ledger_entries (user_id, market_id, kind, amount, balance_after, created_at)
		SELECT d.user_id, ?, d.kind, d.amount, ` + balanceAfter + `, ?
		FROM ` + creditSQLiteRows + ` AS d JOIN users u ON u.id = d.user_id
		ORDER BY d.seq`
)
