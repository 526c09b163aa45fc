package repository

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
)

// positionRepository is the GORM PositionRepository.
type positionRepository struct{ db *database.DB }

// NewPositionRepository returns the PositionRepository on db (a pool, or a
// transaction the repository is bound to).
func NewPositionRepository(db *database.DB) PositionRepository { return &positionRepository{db: db} }

var (
	// positionsOfMarket orders one market's positions by user.
	positionsOfMarket = keyset[models.Position]{
		name: "positions of market",
		sorts: map[string]sortKey[models.Position]{
			"user_id": {column: "user_id", kind: keyInt, value: func(p *models.Position) any { return p.UserID }},
		},
		defaultSort: "user_id",
		tieColumn:   "market_id",
		tie:         func(p *models.Position) int64 { return p.MarketID },
		columns:     positionColumns,
		scan:        scanPosition,
	}
	// positionsOfUser orders one user's positions by market.
	positionsOfUser = keyset[models.Position]{
		name: "positions of user",
		sorts: map[string]sortKey[models.Position]{
			"market_id": {column: "market_id", kind: keyInt, value: func(p *models.Position) any { return p.MarketID }},
		},
		defaultSort: "market_id",
		tieColumn:   "user_id",
		tie:         func(p *models.Position) int64 { return p.UserID },
		columns:     positionColumns,
		scan:        scanPosition,
	}
)

func (r *positionRepository) conn(ctx context.Context) *gorm.DB { return r.db.Conn(ctx) }

func (r *positionRepository) AddStake(ctx context.Context, userID, marketID int64, outcome models.Outcome, amount int64, at time.Time) (*models.Position, error) {
	yes, no := amount, int64(0)
	switch outcome {
	case models.OutcomeYes:
	case models.OutcomeNo:
		yes, no = 0, amount
	default:
		return nil, fmt.Errorf("%w: outcome: unknown %q", errs.ErrInvalidInput, outcome)
	}
	var p []models.Position
	err := r.conn(ctx).Raw(`INSERT INTO positions (user_id, market_id, yes_stake, no_stake, bet_count, first_bet_at, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT (user_id, market_id) DO UPDATE SET
			yes_stake = positions.yes_stake + excluded.yes_stake,
			no_stake = positions.no_stake + excluded.no_stake,
			bet_count = positions.bet_count + 1,
			updated_at = excluded.updated_at
		RETURNING *`, userID, marketID, yes, no, at.UTC(), at.UTC()).Scan(&p).Error
	if err != nil {
		return nil, TranslateError(err)
	}
	return &p[0], nil
}

func (r *positionRepository) Get(ctx context.Context, userID, marketID int64) (*models.Position, error) {
	var p models.Position
	if err := r.conn(ctx).Where("user_id = ? AND market_id = ?", userID, marketID).Take(&p).Error; err != nil {
		return nil, notFound(err, "position of user in market", fmt.Sprintf("%d/%d", userID, marketID))
	}
	return &p, nil
}

func (r *positionRepository) ListByMarket(ctx context.Context, marketID int64, page PageRequest) (Page[*models.Position], error) {
	q := r.conn(ctx).Model(&models.Position{}).Where("market_id = ?", marketID)
	return positionsOfMarket.page(q, page, marketID)
}

func (r *positionRepository) ListByUser(ctx context.Context, userID int64, page PageRequest) (Page[*models.Position], error) {
	q := r.conn(ctx).Model(&models.Position{}).Where("user_id = ?", userID)
	return positionsOfUser.page(q, page, userID)
}

func (r *positionRepository) CreateBatch(ctx context.Context, positions []*models.Position) error {
	for _, p := range positions {
		p.FirstBetAt, p.UpdatedAt = p.FirstBetAt.UTC(), p.UpdatedAt.UTC()
	}
	return createBatch(ctx, r.db, positions)
}
