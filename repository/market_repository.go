package repository

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
)

// marketRepository is the GORM MarketRepository.
type marketRepository struct{ db *database.DB }

// NewMarketRepository returns the MarketRepository on db (a pool, or a
// transaction the repository is bound to).
func NewMarketRepository(db *database.DB) MarketRepository { return &marketRepository{db: db} }

var marketKeys = keyset[models.Market]{
	name: "markets",
	sorts: map[string]sortKey[models.Market]{
		"created_at": {column: "created_at", kind: keyTime, value: func(m *models.Market) any { return m.CreatedAt }},
		"closes_at":  {column: "closes_at", kind: keyTime, value: func(m *models.Market) any { return m.ClosesAt }},
		"volume":     {column: "volume", kind: keyInt, value: func(m *models.Market) any { return m.Volume }},
	},
	defaultSort: "created_at",
	tieColumn:   "id",
	tie:         func(m *models.Market) int64 { return m.ID },
	columns:     marketColumns,
	scan:        scanMarket,
}

func (r *marketRepository) conn(ctx context.Context) *gorm.DB { return r.db.Conn(ctx) }

func (r *marketRepository) Create(ctx context.Context, m *models.Market) error {
	if err := checkMarket(m); err != nil {
		return err
	}
	m.ClosesAt, m.CreatedAt, m.UpdatedAt = m.ClosesAt.UTC(), m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	return TranslateError(r.conn(ctx).Create(m).Error)
}

// marketByIDSQL is GetByID's query on PostgreSQL.
const marketByIDSQL = "SELECT " + marketColumns + " FROM markets WHERE id = $1"

// GetByID reads one market. On PostgreSQL it goes straight through pgx
// (database.DB.QueryRow: the same connection, transaction, replica routing
// and query monitoring as a GORM statement), because for a one-row read
// GORM's statement building and database/sql's scanning cost more than the
// query; on SQLite through GORM.
func (r *marketRepository) GetByID(ctx context.Context, id int64) (*models.Market, error) {
	var m models.Market
	if r.db.Driver() == database.DriverPostgres {
		err := r.db.QueryRow(ctx, "markets", marketByIDSQL, []any{id}, func(row pgx.Row) error {
			return row.Scan(&m.ID, &m.CreatorID, &m.QuestionTitle, &m.Description, &m.YesLabel, &m.NoLabel, &m.ClosesAt, &m.Status,
				&m.ResolutionResult, &m.ResolvedAt, &m.YesStake, &m.NoStake, &m.Volume, &m.BetCount, &m.Probability, &m.CreatedAt, &m.UpdatedAt)
		})
		if err != nil {
			return nil, notFound(err, "market", id)
		}
		return &m, nil
	}
	if err := r.conn(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return nil, notFound(err, "market", id)
	}
	return &m, nil
}

func (r *marketRepository) GetForUpdate(ctx context.Context, id int64) (*models.Market, error) {
	q := r.conn(ctx)
	if q.Dialector.Name() == database.DriverPostgres {
		q = q.Clauses(clause.Locking{Strength: "NO KEY UPDATE"})
	}
	var m models.Market
	if err := q.Where("id = ?", id).Take(&m).Error; err != nil {
		return nil, notFound(err, "market", id)
	}
	return &m, nil
}

func (r *marketRepository) List(ctx context.Context, f MarketFilters) (Page[*models.Market], error) {
	q := r.conn(ctx).Model(&models.Market{})
	switch f.Status {
	case "":
	case models.MarketOpen, models.MarketClosed, models.MarketResolved:
		q = q.Where("status = ?", f.Status)
	default:
		return Page[*models.Market]{}, fmt.Errorf("%w: status: unknown %q", errs.ErrInvalidInput, f.Status)
	}
	switch f.Result {
	case "":
	case models.ResolutionYes, models.ResolutionNo, models.ResolutionNA:
		q = q.Where("resolution_result = ?", f.Result)
	default:
		return Page[*models.Market]{}, fmt.Errorf("%w: result: unknown %q", errs.ErrInvalidInput, f.Result)
	}
	if err := checkFilterText("search", f.Search); err != nil {
		return Page[*models.Market]{}, err
	}
	if err := checkFilterText("title_prefix", f.TitlePrefix); err != nil {
		return Page[*models.Market]{}, err
	}
	if err := checkTimeRange("closes", f.ClosesAfter, f.ClosesBefore); err != nil {
		return Page[*models.Market]{}, err
	}
	if f.CreatorID != 0 {
		q = q.Where("creator_id = ?", f.CreatorID)
	}
	if f.Search != "" {
		q = q.Where(`lower(question_title) LIKE ? ESCAPE '\'`, containsPattern(f.Search))
	}
	if f.TitlePrefix != "" {
		q = q.Where(`lower(question_title) LIKE ? ESCAPE '\'`, prefixPattern(strings.ToLower(f.TitlePrefix)))
	}
	q = timeRange(q, "closes_at", f.ClosesAfter, f.ClosesBefore)
	return marketKeys.page(q, f.PageRequest, f)
}

func (r *marketRepository) Update(ctx context.Context, m *models.Market) error {
	if err := checkMarket(m); err != nil {
		return err
	}
	res := r.conn(ctx).Model(&models.Market{ID: m.ID}).
		Select("question_title", "description", "yes_label", "no_label", "closes_at", "updated_at").
		Updates(map[string]any{"question_title": m.QuestionTitle, "description": m.Description, "yes_label": m.YesLabel,
			"no_label": m.NoLabel, "closes_at": m.ClosesAt.UTC(), "updated_at": r.db.Now()})
	if res.Error != nil {
		return TranslateError(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: market %d", errs.ErrNotFound, m.ID)
	}
	return nil
}

func (r *marketRepository) AddBet(ctx context.Context, marketID int64, outcome models.Outcome, amount int64, probability float64) error {
	yes, no := amount, int64(0)
	switch outcome {
	case models.OutcomeYes:
	case models.OutcomeNo:
		yes, no = 0, amount
	default:
		return fmt.Errorf("%w: outcome: unknown %q", errs.ErrInvalidInput, outcome)
	}
	res := r.conn(ctx).Exec(`UPDATE markets SET yes_stake = yes_stake + ?, no_stake = no_stake + ?, volume = volume + ?,
		bet_count = bet_count + 1, probability = ?, updated_at = ? WHERE id = ?`,
		yes, no, amount, probability, r.db.Now(), marketID)
	if res.Error != nil {
		return TranslateError(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: market %d", errs.ErrNotFound, marketID)
	}
	return nil
}

func (r *marketRepository) Resolve(ctx context.Context, marketID int64, result models.Resolution, at time.Time) (*models.Market, error) {
	rows, err := r.conn(ctx).Raw(`UPDATE markets SET status = 'RESOLVED', resolution_result = ?, resolved_at = ?, updated_at = ?
		WHERE id = ? AND status <> 'RESOLVED' RETURNING `+marketColumns, result, at.UTC(), r.db.Now(), marketID).Rows()
	if err != nil {
		return nil, TranslateError(err)
	}
	updated, err := marketKeys.collect(rows, 1)
	if err != nil {
		return nil, err
	}
	if len(updated) == 0 {
		if _, err := r.GetByID(ctx, marketID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: market %d is already resolved", errs.ErrConflict, marketID)
	}
	return updated[0], nil
}

func (r *marketRepository) CreateBatch(ctx context.Context, markets []*models.Market) error {
	for _, m := range markets {
		if err := checkMarket(m); err != nil {
			return err
		}
		m.ClosesAt, m.CreatedAt, m.UpdatedAt = m.ClosesAt.UTC(), m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	}
	return createBatch(ctx, r.db, markets)
}

func (r *marketRepository) ListByBettor(ctx context.Context, userID int64) ([]*models.Market, error) {
	q := r.conn(ctx).Table("markets").Select(marketColumns).
		Where("id IN (SELECT market_id FROM positions WHERE user_id = ?)", userID).Order("id")
	return marketKeys.fetch(q, 0)
}

// checkMarket refuses a market whose closing time or text the engines could
// not store and read back (see models.TimeProblem and models.TextProblem).
func checkMarket(m *models.Market) error {
	if p := models.TimeProblem(m.ClosesAt); p != "" {
		return invalidField("closes_at", p)
	}
	for _, f := range []struct{ name, value string }{{"question_title", m.QuestionTitle},
		{"description", m.Description}, {"yes_label", m.YesLabel}, {"no_label", m.NoLabel}} {
		if p := models.TextProblem(f.value); p != "" {
			return invalidField(f.name, p)
		}
	}
	return nil
}
