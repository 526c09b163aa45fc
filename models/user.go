package models

import "time"

// UserType is ADMIN or REGULAR.
type UserType string

// The user types.
const (
	// UserTypeAdmin may resolve any market.
	UserTypeAdmin UserType = "ADMIN"
	// UserTypeRegular is everybody else.
	UserTypeRegular UserType = "REGULAR"
)

// User is a market participant. Balance changes only through guarded delta
// updates, each written to the ledger, so that Balance always equals
// InitialBalance plus the sum of the user's ledger amounts.
type User struct {
	ID int64 `gorm:"primaryKey"`
	// Username is unique: 3-30 lower-case letters, digits and underscores.
	Username string
	// DisplayName is unique, 1-50 characters.
	DisplayName string
	// Email is unique.
	Email          string
	UserType       UserType
	InitialBalance int64
	// Balance may go negative down to -maximum_debt_allowed.
	Balance   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is the users table.
func (User) TableName() string { return "users" }

// APIKey authenticates a user. Only the SHA-256 hash of the key is stored;
// KeyPrefix (the key's first characters) lets people tell keys apart.
type APIKey struct {
	ID         int64 `gorm:"primaryKey"`
	UserID     int64
	KeyHash    string
	KeyPrefix  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TableName is the api_keys table.
func (APIKey) TableName() string { return "api_keys" }
