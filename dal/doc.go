// Package dal is the data access layer: one value that hands out the
// repositories for users, markets, bets, the ledger and positions, and runs
// functions in a transaction across them (DataAccessLayer.WithTransaction).
// Services use it, never GORM directly.
package dal
