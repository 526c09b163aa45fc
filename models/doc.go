// Package models holds the domain types stored in the database: users and
// their API keys, markets, bets, per-user positions and the credit ledger.
// They are plain structs mapped by GORM onto the tables the migrations
// create (the migrations never import them; a test checks that the two
// agree). Money is int64 credits; probabilities are float64.
package models
