package repository

import (
	"time"

	"socialpredict/models"
)

// UserFilters selects users; zero fields do not filter.
type UserFilters struct {
	UserType models.UserType `json:"t,omitempty"`
	// UsernamePrefix matches usernames that start with it.
	UsernamePrefix string `json:"p,omitempty"`
	// Search matches usernames and display names containing it (any case).
	Search        string     `json:"q,omitempty"`
	CreatedAfter  *time.Time `json:"a,omitempty"`
	CreatedBefore *time.Time `json:"b,omitempty"`
	PageRequest   `json:"-"`
}

// MarketFilters selects markets; zero fields do not filter.
type MarketFilters struct {
	Status    models.MarketStatus `json:"s,omitempty"`
	CreatorID int64               `json:"c,omitempty"`
	// ClosesAfter and ClosesBefore bound closes_at (after inclusive).
	ClosesAfter  *time.Time `json:"a,omitempty"`
	ClosesBefore *time.Time `json:"b,omitempty"`
	// Search matches titles containing it (any case).
	Search string `json:"q,omitempty"`
	// TitlePrefix matches titles that start with it (any case).
	TitlePrefix string `json:"tp,omitempty"`
	// Result selects resolved markets with this result.
	Result      models.Resolution `json:"r,omitempty"`
	PageRequest `json:"-"`
}

// BetFilters selects bets; zero fields do not filter.
type BetFilters struct {
	MarketID     int64          `json:"m,omitempty"`
	UserID       int64          `json:"u,omitempty"`
	Outcome      models.Outcome `json:"o,omitempty"`
	PlacedAfter  *time.Time     `json:"a,omitempty"`
	PlacedBefore *time.Time     `json:"b,omitempty"`
	PageRequest  `json:"-"`
}
