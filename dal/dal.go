package dal

import (
	"context"
	"time"

	"socialpredict/database"
	"socialpredict/repository"
)

// DataAccessLayer gives access to every repository and to transactions
// spanning them. A DataAccessLayer handed to WithTransaction's function is
// bound to that transaction: every repository it gives, and every service
// built on it, runs in the transaction, whatever context they are called
// with.
type DataAccessLayer struct {
	db           *database.DB
	userRepo     repository.UserRepository
	marketRepo   repository.MarketRepository
	betRepo      repository.BetRepository
	ledgerRepo   repository.LedgerRepository
	positionRepo repository.PositionRepository
	invariants   repository.InvariantRepository
}

// Users returns the user repository.
func (d *DataAccessLayer) Users() repository.UserRepository { return d.userRepo }

// Markets returns the market repository.
func (d *DataAccessLayer) Markets() repository.MarketRepository { return d.marketRepo }

// Bets returns the bet repository.
func (d *DataAccessLayer) Bets() repository.BetRepository { return d.betRepo }

// Ledger returns the ledger repository.
func (d *DataAccessLayer) Ledger() repository.LedgerRepository { return d.ledgerRepo }

// Positions returns the position repository.
func (d *DataAccessLayer) Positions() repository.PositionRepository { return d.positionRepo }

// Invariants returns the invariant checker.
func (d *DataAccessLayer) Invariants() repository.InvariantRepository { return d.invariants }

// Driver returns the engine's name (database.DriverPostgres or
// database.DriverSQLite), for the few paths that differ by engine.
func (d *DataAccessLayer) Driver() string { return d.db.Driver() }

// Now returns the current time by the database handle's clock, the one
// clock of the data layer and the services (see database.WithNowFunc).
func (d *DataAccessLayer) Now() time.Time { return d.db.Now() }

// WithClock returns the data access layer (bound as d is) reading the time
// from now, for its repositories' timestamps and the services built on it:
// tests of closing times use it.
func (d *DataAccessLayer) WithClock(now func() time.Time) *DataAccessLayer {
	return newDAL(d.db.WithClock(now))
}

// WithTransaction runs fn in one transaction with a DataAccessLayer bound to
// it: everything fn does through it commits together when fn returns nil,
// and rolls back when it returns an error or panics. Called on a
// DataAccessLayer that is itself bound to a transaction, it nests (a
// savepoint). Retries of serialization failures and deadlocks rerun fn from
// the start (see database.TransactionManager.Transact); the error is fn's.
func (d *DataAccessLayer) WithTransaction(ctx context.Context, fn func(*DataAccessLayer) error, opts ...database.TxOption) error {
	return d.db.Transactions().Transact(d.db.Context(ctx), func(txCtx context.Context) error {
		return fn(newDAL(d.db.Bind(txCtx)))
	}, opts...)
}
