package repository

import (
	"context"
	"time"

	"socialpredict/models"
)

// Every repository method takes the context first and joins the transaction
// the context carries (see database.Transact), so services compose them in
// one transaction without handing a *gorm.DB around. Errors are the ones of
// this package (errs.ErrNotFound, errs.ErrConflict, errs.ErrInvalidReference,
// errs.ErrInvalidInput), the same on PostgreSQL and SQLite.

// UserRepository stores users. Balances change only through the guarded
// delta updates AddToBalance and AdjustBalances, never through Update.
type UserRepository interface {
	// Create inserts user and sets its ID (and timestamps when zero).
	// errs.ErrConflict names a taken username, display name or email.
	Create(ctx context.Context, user *models.User) error
	// GetByID returns the user, or errs.ErrNotFound.
	GetByID(ctx context.Context, id int64) (*models.User, error)
	// GetByUsername returns the user, or errs.ErrNotFound.
	GetByUsername(ctx context.Context, username string) (*models.User, error)
	// Update saves the profile fields (display name, email, user type) of
	// user.ID; errs.ErrNotFound when there is no such user.
	Update(ctx context.Context, user *models.User) error
	// Delete removes the user and their API keys; errs.ErrNotFound when there is
	// none, errs.ErrInvalidReference while bets, markets or ledger rows refer to it.
	Delete(ctx context.Context, id int64) error
	// List returns one page of users. Sorts: created_at (default), username,
	// balance.
	List(ctx context.Context, filters UserFilters) (Page[*models.User], error)
	// CreateBatch inserts users in one transaction and sets their IDs: all or
	// none (errs.ErrConflict for a duplicate anywhere in the batch).
	CreateBatch(ctx context.Context, users []*models.User) error
	// AddToBalance adds delta (negative to debit) to a balance unless the
	// result would be below floor, in one guarded statement, and returns the
	// new balance. errs.ErrInsufficientCredits when below floor, errs.ErrNotFound when
	// there is no such user.
	AddToBalance(ctx context.Context, userID, delta, floor int64) (int64, error)
	// AdjustBalances applies many deltas in one statement (credits such as
	// payouts; no floor). errs.ErrNotFound when a user does not exist (nothing is
	// changed then only inside a transaction).
	AdjustBalances(ctx context.Context, deltas []BalanceDelta) error
	// CreateAPIKey stores an API key (its hash); errs.ErrConflict for a hash
	// already stored, errs.ErrInvalidReference for an unknown user.
	CreateAPIKey(ctx context.Context, key *models.APIKey) error
	// GetByAPIKeyHash returns the user owning the unrevoked key with this
	// hash, or errs.ErrNotFound.
	GetByAPIKeyHash(ctx context.Context, hash string) (*models.User, error)
	// ListAPIKeys returns the user's unrevoked keys (hash included; callers
	// show only prefixes), by id.
	ListAPIKeys(ctx context.Context, userID int64) ([]*models.APIKey, error)
	// RevokeAPIKey marks the user's key revoked at at; errs.ErrNotFound when
	// the user has no such unrevoked key.
	RevokeAPIKey(ctx context.Context, userID, keyID int64, at time.Time) error
	// FirstAdmin returns the admin with the lowest id, or errs.ErrNotFound
	// when there is none.
	FirstAdmin(ctx context.Context) (*models.User, error)
}

// BalanceDelta is a change to one user's balance.
type BalanceDelta struct {
	UserID int64 `json:"id"`
	Delta  int64 `json:"delta"`
}

// MarketRepository stores markets.
type MarketRepository interface {
	// Create inserts market and sets its ID; errs.ErrInvalidReference for an
	// unknown creator, errs.ErrInvalidInput for a value the schema rejects.
	Create(ctx context.Context, market *models.Market) error
	// GetByID returns the market, or errs.ErrNotFound.
	GetByID(ctx context.Context, id int64) (*models.Market, error)
	// GetForUpdate returns the market and, on PostgreSQL, locks its row
	// until the transaction ends (FOR NO KEY UPDATE); SQLite write
	// transactions already exclude each other. errs.ErrNotFound when there is none.
	GetForUpdate(ctx context.Context, id int64) (*models.Market, error)
	// List returns one page of markets. Sorts: created_at (default),
	// closes_at, volume.
	List(ctx context.Context, filters MarketFilters) (Page[*models.Market], error)
	// ListByBettor returns every market the user has bet on, by id, in one
	// query.
	ListByBettor(ctx context.Context, userID int64) ([]*models.Market, error)
	// CreateBatch inserts markets in one transaction (COPY on PostgreSQL)
	// and sets their IDs: all or none.
	CreateBatch(ctx context.Context, markets []*models.Market) error
	// Update saves the descriptive fields (title, description, labels,
	// closing time) of market.ID; errs.ErrNotFound when there is none.
	Update(ctx context.Context, market *models.Market) error
	// AddBet adds a bet's amount to the market's aggregates and sets its
	// probability, as a delta update; errs.ErrNotFound when there is none.
	AddBet(ctx context.Context, marketID int64, outcome models.Outcome, amount int64, probability float64) error
	// Resolve marks the market resolved with result, guarded in SQL so that
	// only the first of concurrent calls succeeds, and returns the market as
	// it is then (its row stays locked until the transaction ends):
	// errs.ErrConflict when it is already resolved, errs.ErrNotFound when there is none.
	Resolve(ctx context.Context, marketID int64, result models.Resolution, at time.Time) (*models.Market, error)
}

// BetRepository stores bets.
type BetRepository interface {
	// Create inserts bet and sets its ID; errs.ErrConflict for a repeated
	// idempotency key of the same user, errs.ErrInvalidReference for an unknown
	// user or market.
	Create(ctx context.Context, bet *models.Bet) error
	// GetByID returns the bet, or errs.ErrNotFound.
	GetByID(ctx context.Context, id int64) (*models.Bet, error)
	// LastPlacedAt returns the time of the market's latest bet (the zero
	// time when it has none), in one index lookup.
	LastPlacedAt(ctx context.Context, marketID int64) (time.Time, error)
	// GetByIdempotencyKey returns the user's bet placed with key, or errs.ErrNotFound.
	GetByIdempotencyKey(ctx context.Context, userID int64, key string) (*models.Bet, error)
	// ListByMarket returns a page of a market's bets. Sorts: placed_at
	// (default), amount.
	ListByMarket(ctx context.Context, marketID int64, page PageRequest) (Page[*models.Bet], error)
	// ListByUser returns a page of a user's bets. Sorts as ListByMarket.
	ListByUser(ctx context.Context, userID int64, page PageRequest) (Page[*models.Bet], error)
	// List returns a page of bets matching filters. Sorts as ListByMarket.
	List(ctx context.Context, filters BetFilters) (Page[*models.Bet], error)
	// Count returns how many bets match filters (paging fields ignored).
	Count(ctx context.Context, filters BetFilters) (int64, error)
	// CreateBatch inserts bets in one transaction (COPY on PostgreSQL) and
	// sets their IDs: all or none (errs.ErrConflict for a duplicate idempotency
	// key anywhere in the batch).
	CreateBatch(ctx context.Context, bets []*models.Bet) error
	// ScanMarkets streams the bets of the markets in (market_id, placed_at,
	// id) order, each with its user's username, in one query; it stops at
	// fn's first error and returns it. fn must not use the database: the
	// query holds its connection until the scan ends.
	ScanMarkets(ctx context.Context, marketIDs []int64, fn func(bet *models.Bet, username string) error) error
	// Place places a bet as the domain rules say, on either engine, in one
	// transaction (see betRepository.Place for the paths and errors).
	Place(ctx context.Context, p BetPlacement) (*Placement, error)
	// PlaceStatement places a bet in one PostgreSQL statement, a call of the
	// function place_bet (lock, gate, guarded debit, market aggregates, bet,
	// position and ledger rows), in a savepoint of the transaction ctx or the
	// repository is bound to, or as its own transaction.
	// errors.ErrUnsupported on SQLite.
	PlaceStatement(ctx context.Context, p BetPlacement) (*Placement, error)
}

// LedgerRepository appends to and reads the credit ledger.
type LedgerRepository interface {
	// Append inserts entries (in one statement per few hundred rows) and
	// sets their IDs.
	Append(ctx context.Context, entries ...*models.LedgerEntry) error
	// AppendBatch inserts many entries in one transaction (COPY on
	// PostgreSQL) and sets their IDs: all or none.
	AppendBatch(ctx context.Context, entries []*models.LedgerEntry) error
	// ListByUser returns a page of a user's ledger. Sorts: created_at (default).
	ListByUser(ctx context.Context, userID int64, page PageRequest) (Page[*models.LedgerEntry], error)
	// SumByUser returns the sum of a user's ledger amounts (0 for none).
	SumByUser(ctx context.Context, userID int64) (int64, error)
	// Credit applies many credits of one market to balances and writes their
	// ledger rows (with the balance after each), in a number of statements
	// that does not depend on how many credits there are. A user may appear
	// more than once (a payout and a creator reward). errs.ErrNotFound when a user
	// does not exist; call it inside a transaction, so that nothing is
	// changed then.
	Credit(ctx context.Context, marketID int64, credits []Credit, at time.Time) error
}

// Credit is one positive balance change of a resolution.
type Credit struct {
	UserID int64             `json:"user_id"`
	Kind   models.LedgerKind `json:"kind"`
	Amount int64             `json:"amount"`
}

// PositionRepository stores per-user-per-market aggregates.
type PositionRepository interface {
	// AddStake adds a bet to the user's position in the market, creating it
	// on the first bet, in one statement, and returns the position after it.
	AddStake(ctx context.Context, userID, marketID int64, outcome models.Outcome, amount int64, at time.Time) (*models.Position, error)
	// Get returns the position, or errs.ErrNotFound when the user has no bet there.
	Get(ctx context.Context, userID, marketID int64) (*models.Position, error)
	// ListByMarket returns a page of a market's positions, by user id.
	ListByMarket(ctx context.Context, marketID int64, page PageRequest) (Page[*models.Position], error)
	// ListByUser returns a page of a user's positions, by market id.
	ListByUser(ctx context.Context, userID int64, page PageRequest) (Page[*models.Position], error)
	// CreateBatch inserts positions in one transaction (COPY on PostgreSQL).
	CreateBatch(ctx context.Context, positions []*models.Position) error
}

// InvariantRepository checks the money invariants over the whole database.
type InvariantRepository interface {
	// Check runs every invariant, one query each, and returns the
	// violations (an empty slice when none); the error is for failed queries.
	Check(ctx context.Context, rules InvariantRules) ([]Violation, error)
}
