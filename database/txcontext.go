package database

import (
	"context"
	"database/sql"

	"gorm.io/gorm"
)

// txKey is the context key of the current transaction.
type txKey struct{}

// txState is the transaction a context carries.
type txState struct {
	conn       *sql.Conn
	tx         *gorm.DB
	savepoints int
}

func txFrom(ctx context.Context) *txState {
	s, _ := ctx.Value(txKey{}).(*txState)
	if s == nil || s.tx == nil {
		return nil
	}
	return s
}

// InTransaction reports whether ctx carries a transaction.
func InTransaction(ctx context.Context) bool { return txFrom(ctx) != nil }

// Conn returns the handle to run a query with: the transaction ctx carries,
// or db itself, in both cases bound to ctx. Repositories start every query
// from it, so that they join a caller's transaction without being handed it.
func Conn(ctx context.Context, db *gorm.DB) *gorm.DB {
	if s := txFrom(ctx); s != nil {
		return s.tx.WithContext(ctx)
	}
	return db.WithContext(ctx)
}

// ContextWithTx returns ctx carrying the transaction that from carries (ctx
// itself when from carries none), keeping ctx's deadline and values: for
// code that holds a transaction's handle but was called with another
// context.
func ContextWithTx(ctx, from context.Context) context.Context {
	if s := txFrom(from); s != nil {
		return context.WithValue(ctx, txKey{}, s)
	}
	return ctx
}
