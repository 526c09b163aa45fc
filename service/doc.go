// Package service holds the money paths of the market: users and their API
// keys, market creation and resolution, bet placement, positions, and the
// invariant check. Services use the data access layer only (package dal),
// never GORM directly; every change to a balance is a guarded delta update
// written to the ledger in the same transaction.
package service
