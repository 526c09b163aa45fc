package repository

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
)

// betRepository is the GORM BetRepository.
type betRepository struct{ db *database.DB }

// NewBetRepository returns the BetRepository on db (a pool, or a
// transaction the repository is bound to).
func NewBetRepository(db *database.DB) BetRepository { return &betRepository{db: db} }

var betKeys = keyset[models.Bet]{
	name: "bets",
	sorts: map[string]sortKey[models.Bet]{
		"placed_at": {column: "placed_at", kind: keyTime, value: func(b *models.Bet) any { return b.PlacedAt }},
		"amount":    {column: "amount", kind: keyInt, value: func(b *models.Bet) any { return b.Amount }},
	},
	defaultSort: "placed_at",
	tieColumn:   "id",
	tie:         func(b *models.Bet) int64 { return b.ID },
	columns:     betColumns,
	scan:        scanBet,
}

func (r *betRepository) conn(ctx context.Context) *gorm.DB { return r.db.Conn(ctx) }

func (r *betRepository) Create(ctx context.Context, b *models.Bet) error {
	b.PlacedAt = b.PlacedAt.UTC()
	return TranslateError(r.conn(ctx).Create(b).Error)
}

func (r *betRepository) GetByID(ctx context.Context, id int64) (*models.Bet, error) {
	var b models.Bet
	if err := r.conn(ctx).Where("id = ?", id).Take(&b).Error; err != nil {
		return nil, notFound(err, "bet", id)
	}
	return &b, nil
}

func (r *betRepository) GetByIdempotencyKey(ctx context.Context, userID int64, key string) (*models.Bet, error) {
	var b models.Bet
	if err := r.conn(ctx).Where("user_id = ? AND idempotency_key = ?", userID, key).Take(&b).Error; err != nil {
		return nil, notFound(err, "bet with idempotency key of user", userID)
	}
	return &b, nil
}

func (r *betRepository) LastPlacedAt(ctx context.Context, marketID int64) (time.Time, error) {
	var at []time.Time
	err := r.conn(ctx).Model(&models.Bet{}).Where("market_id = ?", marketID).
		Order("placed_at DESC").Limit(1).Pluck("placed_at", &at).Error
	if err != nil || len(at) == 0 {
		return time.Time{}, TranslateError(err)
	}
	return at[0].UTC(), nil
}

func (r *betRepository) ListByMarket(ctx context.Context, marketID int64, page PageRequest) (Page[*models.Bet], error) {
	return r.List(ctx, BetFilters{MarketID: marketID, PageRequest: page})
}

func (r *betRepository) ListByUser(ctx context.Context, userID int64, page PageRequest) (Page[*models.Bet], error) {
	return r.List(ctx, BetFilters{UserID: userID, PageRequest: page})
}

func (r *betRepository) List(ctx context.Context, f BetFilters) (Page[*models.Bet], error) {
	if err := checkTimeRange("placed", f.PlacedAfter, f.PlacedBefore); err != nil {
		return Page[*models.Bet]{}, err
	}
	q, err := r.filter(ctx, f)
	if err != nil {
		return Page[*models.Bet]{}, err
	}
	return betKeys.page(q, f.PageRequest, f)
}

func (r *betRepository) Count(ctx context.Context, f BetFilters) (int64, error) {
	q, err := r.filter(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	return n, TranslateError(q.Count(&n).Error)
}

func (r *betRepository) filter(ctx context.Context, f BetFilters) (*gorm.DB, error) {
	q := r.conn(ctx).Model(&models.Bet{})
	if f.MarketID != 0 {
		q = q.Where("market_id = ?", f.MarketID)
	}
	if f.UserID != 0 {
		q = q.Where("user_id = ?", f.UserID)
	}
	switch f.Outcome {
	case "":
	case models.OutcomeYes, models.OutcomeNo:
		q = q.Where("outcome = ?", f.Outcome)
	default:
		return nil, fmt.Errorf("%w: outcome: unknown %q", errs.ErrInvalidInput, f.Outcome)
	}
	return timeRange(q, "placed_at", f.PlacedAfter, f.PlacedBefore), nil
}

func (r *betRepository) CreateBatch(ctx context.Context, bets []*models.Bet) error {
	for _, b := range bets {
		b.PlacedAt = b.PlacedAt.UTC()
	}
	return createBatch(ctx, r.db, bets)
}

func (r *betRepository) ScanMarkets(ctx context.Context, marketIDs []int64, fn func(*models.Bet, string) error) (err error) {
	if len(marketIDs) == 0 {
		return nil
	}
	rows, err := r.conn(ctx).Raw(`SELECT b.id, b.user_id, b.market_id, b.outcome, b.amount, b.fee, b.probability_after,
			b.placed_at, b.idempotency_key, u.username
		FROM bets b JOIN users u ON u.id = b.user_id
		WHERE b.market_id IN ? ORDER BY b.market_id, b.placed_at, b.id`, marketIDs).Rows()
	if err != nil {
		return TranslateError(err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	for rows.Next() {
		var b models.Bet
		var username string
		if err := rows.Scan(&b.ID, &b.UserID, &b.MarketID, &b.Outcome, &b.Amount, &b.Fee, &b.ProbabilityAfter,
			&b.PlacedAt, &b.IdempotencyKey, &username); err != nil {
			return err
		}
		if err := fn(&b, username); err != nil {
			return err
		}
	}
	return TranslateError(rows.Err())
}
