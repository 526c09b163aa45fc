package repository

import (
	"database/sql"

	"socialpredict/models"
)

// Column lists and scanners for the list queries: scanning a page by hand
// avoids GORM's reflection on every row of every page (lists are the hottest
// reads), while single-row reads keep GORM's scanning.

const userColumns = "id, username, display_name, email, user_type, initial_balance, balance, created_at, updated_at"

func scanUser(rows *sql.Rows) (*models.User, error) {
	var u models.User
	err := rows.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.UserType, &u.InitialBalance, &u.Balance, &u.CreatedAt, &u.UpdatedAt)
	return &u, err
}

const marketColumns = "id, creator_id, question_title, description, yes_label, no_label, closes_at, status, resolution_result, " +
	"resolved_at, yes_stake, no_stake, volume, bet_count, probability, created_at, updated_at"

func scanMarket(rows *sql.Rows) (*models.Market, error) {
	var m models.Market
	err := rows.Scan(&m.ID, &m.CreatorID, &m.QuestionTitle, &m.Description, &m.YesLabel, &m.NoLabel, &m.ClosesAt, &m.Status,
		&m.ResolutionResult, &m.ResolvedAt, &m.YesStake, &m.NoStake, &m.Volume, &m.BetCount, &m.Probability, &m.CreatedAt, &m.UpdatedAt)
	return &m, err
}

const betColumns = "id, user_id, market_id, outcome, amount, fee, probability_after, placed_at, idempotency_key"

func scanBet(rows *sql.Rows) (*models.Bet, error) {
	var b models.Bet
	err := rows.Scan(&b.ID, &b.UserID, &b.MarketID, &b.Outcome, &b.Amount, &b.Fee, &b.ProbabilityAfter, &b.PlacedAt, &b.IdempotencyKey)
	return &b, err
}

const ledgerColumns = "id, user_id, market_id, bet_id, kind, amount, fee, balance_after, created_at"

func scanLedgerEntry(rows *sql.Rows) (*models.LedgerEntry, error) {
	var e models.LedgerEntry
	err := rows.Scan(&e.ID, &e.UserID, &e.MarketID, &e.BetID, &e.Kind, &e.Amount, &e.Fee, &e.BalanceAfter, &e.CreatedAt)
	return &e, err
}

const positionColumns = "user_id, market_id, yes_stake, no_stake, bet_count, first_bet_at, updated_at"

func scanPosition(rows *sql.Rows) (*models.Position, error) {
	var p models.Position
	err := rows.Scan(&p.UserID, &p.MarketID, &p.YesStake, &p.NoStake, &p.BetCount, &p.FirstBetAt, &p.UpdatedAt)
	return &p, err
}
