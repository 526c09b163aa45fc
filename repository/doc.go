// Package repository is the data access for users, markets, bets, the
// ledger and positions. Its errors are the same on PostgreSQL and SQLite:
// driver errors are translated at this edge into errs.ErrNotFound, errs.ErrConflict,
// errs.ErrInvalidReference and errs.ErrInvalidInput (see TranslateError).
package repository
