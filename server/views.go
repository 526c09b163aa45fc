package server

import (
	"time"

	"socialpredict/models"
	"socialpredict/repository"
	"socialpredict/service"
)

// User is a user as anyone may see them.
type User struct {
	ID          int64           `json:"id"`
	Username    string          `json:"username"`
	DisplayName string          `json:"display_name"`
	UserType    models.UserType `json:"user_type" enum:"ADMIN,REGULAR"`
	Balance     int64           `json:"balance"`
	CreatedAt   time.Time       `json:"created_at"`
}

// Me is a user as they (or an admin) see themselves.
type Me struct {
	User
	Email          string `json:"email"`
	InitialBalance int64  `json:"initial_balance"`
}

func userView(u *models.User) User {
	return User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, UserType: u.UserType, Balance: u.Balance, CreatedAt: u.CreatedAt}
}

func meView(u *models.User) Me {
	return Me{User: userView(u), Email: u.Email, InitialBalance: u.InitialBalance}
}

// APIKey is an API key without its secret.
type APIKey struct {
	ID        int64     `json:"id"`
	Prefix    string    `json:"prefix" doc:"The key's first characters, to tell keys apart."`
	CreatedAt time.Time `json:"created_at"`
}

// NewAPIKey is a key just created: the secret is shown only this once.
type NewAPIKey struct {
	APIKey
	Key string `json:"key" doc:"The secret key, shown only in this response; send it as Authorization: Bearer <key>."`
}

func keyView(k *models.APIKey) APIKey {
	return APIKey{ID: k.ID, Prefix: k.KeyPrefix, CreatedAt: k.CreatedAt}
}

// Market is a market with its aggregates.
type Market struct {
	ID            int64     `json:"id"`
	CreatorID     int64     `json:"creator_id"`
	QuestionTitle string    `json:"question_title"`
	Description   string    `json:"description"`
	YesLabel      string    `json:"yes_label"`
	NoLabel       string    `json:"no_label"`
	ClosesAt      time.Time `json:"closes_at"`
	// Status is OPEN, CLOSED (explicitly, or past closes_at) or RESOLVED.
	Status     models.MarketStatus `json:"status" enum:"OPEN,CLOSED,RESOLVED" doc:"OPEN, CLOSED (also once closes_at has passed) or RESOLVED."`
	Result     *models.Resolution  `json:"result,omitempty" enum:"YES,NO,N/A"`
	ResolvedAt *time.Time          `json:"resolved_at,omitempty"`
	// Probability is the current probability of YES.
	Probability float64   `json:"probability"`
	YesStake    int64     `json:"yes_stake"`
	NoStake     int64     `json:"no_stake"`
	Volume      int64     `json:"volume"`
	BetCount    int64     `json:"bet_count"`
	CreatedAt   time.Time `json:"created_at"`
}

func marketView(m *models.Market, now time.Time) Market {
	status := m.Status
	if status == models.MarketOpen && !now.Before(m.ClosesAt) {
		status = models.MarketClosed
	}
	return Market{ID: m.ID, CreatorID: m.CreatorID, QuestionTitle: m.QuestionTitle, Description: m.Description,
		YesLabel: m.YesLabel, NoLabel: m.NoLabel, ClosesAt: m.ClosesAt, Status: status, Result: m.ResolutionResult,
		ResolvedAt: m.ResolvedAt, Probability: m.Probability, YesStake: m.YesStake, NoStake: m.NoStake,
		Volume: m.Volume, BetCount: m.BetCount, CreatedAt: m.CreatedAt}
}

// Bet is one bet.
type Bet struct {
	ID               int64          `json:"id"`
	UserID           int64          `json:"user_id"`
	MarketID         int64          `json:"market_id"`
	Outcome          models.Outcome `json:"outcome" enum:"YES,NO"`
	Amount           int64          `json:"amount"`
	Fee              int64          `json:"fee"`
	ProbabilityAfter float64        `json:"probability_after"`
	PlacedAt         time.Time      `json:"placed_at"`
}

func betView(b *models.Bet) Bet {
	return Bet{ID: b.ID, UserID: b.UserID, MarketID: b.MarketID, Outcome: b.Outcome, Amount: b.Amount, Fee: b.Fee,
		ProbabilityAfter: b.ProbabilityAfter, PlacedAt: b.PlacedAt}
}

// Position is a user's stakes in one market.
type Position struct {
	UserID     int64     `json:"user_id"`
	MarketID   int64     `json:"market_id"`
	YesStake   int64     `json:"yes_stake"`
	NoStake    int64     `json:"no_stake"`
	BetCount   int64     `json:"bet_count"`
	FirstBetAt time.Time `json:"first_bet_at"`
}

func positionView(p *models.Position) Position {
	return Position{UserID: p.UserID, MarketID: p.MarketID, YesStake: p.YesStake, NoStake: p.NoStake,
		BetCount: p.BetCount, FirstBetAt: p.FirstBetAt}
}

// LedgerEntry is one balance change.
type LedgerEntry struct {
	ID           int64             `json:"id"`
	UserID       int64             `json:"user_id"`
	MarketID     *int64            `json:"market_id,omitempty"`
	BetID        *int64            `json:"bet_id,omitempty"`
	Kind         models.LedgerKind `json:"kind" enum:"BET,BET_FEE,MARKET_CREATION,PAYOUT,REFUND,CREATOR_REWARD,ADJUSTMENT"`
	Amount       int64             `json:"amount"`
	Fee          int64             `json:"fee" doc:"The part of a BET entry's amount that is fees (the stake is -amount - fee); 0 on other kinds, and on BET entries written before one ledger row per bet, whose fee is a BET_FEE entry of its own."`
	BalanceAfter int64             `json:"balance_after"`
	CreatedAt    time.Time         `json:"created_at"`
}

func ledgerView(e *models.LedgerEntry) LedgerEntry {
	return LedgerEntry{ID: e.ID, UserID: e.UserID, MarketID: e.MarketID, BetID: e.BetID, Kind: e.Kind,
		Amount: e.Amount, Fee: e.Fee, BalanceAfter: e.BalanceAfter, CreatedAt: e.CreatedAt}
}

// Page is one page of a list.
type Page[T any] struct {
	Items []T `json:"items" nullable:"false"`
	// NextCursor continues the list; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty" doc:"Pass as ?cursor= for the next page (same sort, order and filters); absent on the last page."`
}

// pageOf maps a repository page with view.
func pageOf[M, V any](p repository.Page[M], view func(M) V) Page[V] {
	out := Page[V]{Items: make([]V, 0, len(p.Items)), NextCursor: p.NextCursor}
	for _, it := range p.Items {
		out.Items = append(out.Items, view(it))
	}
	return out
}

// Holding is a position valued: stakes, net shares and their value.
type Holding struct {
	UserID     int64     `json:"user_id"`
	Username   string    `json:"username"`
	MarketID   int64     `json:"market_id"`
	YesStake   int64     `json:"yes_stake"`
	NoStake    int64     `json:"no_stake"`
	BetCount   int64     `json:"bet_count"`
	FirstBetAt time.Time `json:"first_bet_at"`
	YesShares  int64     `json:"yes_shares" doc:"Net YES shares (at most one of yes_shares and no_shares is non-zero)."`
	NoShares   int64     `json:"no_shares"`
	Value      int64     `json:"value" doc:"What the shares are worth at the current probability (or the result, once resolved)."`
}

func holdingsView(ps []service.Position) []Holding {
	out := make([]Holding, 0, len(ps))
	for _, p := range ps {
		out = append(out, Holding(p))
	}
	return out
}
