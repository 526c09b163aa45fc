package dal

import (
	"context"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/repository"
)

// DataAccessLayer gives access to every repository and to transactions
// spanning them.
type DataAccessLayer struct {
	db           *gorm.DB
	userRepo     repository.UserRepository
	marketRepo   repository.MarketRepository
	betRepo      repository.BetRepository
	ledgerRepo   repository.LedgerRepository
	positionRepo repository.PositionRepository
	invariants   repository.InvariantRepository
	txManager    *database.TransactionManager
	// txCtx carries the transaction this DAL is bound to; nil at the root.
	txCtx context.Context
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

// TxManager returns the transaction manager, for its statistics and for
// context-style transactions (Transact).
func (d *DataAccessLayer) TxManager() *database.TransactionManager { return d.txManager }

// WithTransaction runs fn in one transaction with a DataAccessLayer whose
// repositories are bound to it: everything fn does through them commits
// together when fn returns nil, and rolls back when it returns an error or
// panics. Called on a DAL that is itself bound to a transaction, it nests (a
// savepoint). Retries of serialization failures and deadlocks rerun fn from
// the start (see database.TransactionManager.Transact); the error is fn's.
func (d *DataAccessLayer) WithTransaction(ctx context.Context, fn func(*DataAccessLayer) error, opts ...database.TxOption) error {
	if d.txCtx != nil {
		ctx = database.ContextWithTx(ctx, d.txCtx)
	}
	return d.txManager.Transact(ctx, func(txCtx context.Context) error {
		return fn(d.bound(txCtx))
	}, opts...)
}

// Transact runs fn in a transaction carried by the context it receives:
// repository calls made with that context join it. It is WithTransaction for
// code written against contexts.
func (d *DataAccessLayer) Transact(ctx context.Context, fn func(ctx context.Context) error, opts ...database.TxOption) error {
	if d.txCtx != nil {
		ctx = database.ContextWithTx(ctx, d.txCtx)
	}
	return d.txManager.Transact(ctx, fn, opts...)
}

// Retry runs fn, a unit of work that is atomic by itself (one statement),
// in the transaction this DAL is bound to or ctx carries, once; outside a
// transaction it reruns fn on the errors a transaction is retried for (see
// database.TransactionManager.Retry). The error is fn's.
func (d *DataAccessLayer) Retry(ctx context.Context, fn func(ctx context.Context) error) error {
	if d.txCtx != nil {
		ctx = database.ContextWithTx(ctx, d.txCtx)
	}
	return d.txManager.Retry(ctx, fn)
}

// bound returns a DAL whose repositories run in the transaction txCtx carries.
func (d *DataAccessLayer) bound(txCtx context.Context) *DataAccessLayer {
	tx := database.Conn(txCtx, d.db)
	b := newDAL(tx, d.txManager)
	b.db, b.txCtx = d.db, txCtx
	return b
}
