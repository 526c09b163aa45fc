package service

import (
	"time"

	"socialpredict/dal"
	"socialpredict/models/wpam"
)

// Services bundles the services over one data access layer.
type Services struct {
	Users     *UserService
	Markets   *MarketService
	Bets      *BetService
	Positions *PositionService
	Checker   *Checker

	base *base
}

// Now returns the current time by the services' clock (the data layer's).
func (s *Services) Now() time.Time { return s.base.clock() }

// Option configures the services.
type Option func(*base)

// WithInteractiveBets makes PlaceBet use the portable interactive
// transaction (six statements) on PostgreSQL too, instead of the single
// statement: for benchmarks and tests that compare the two.
func WithInteractiveBets() Option { return func(b *base) { b.interactiveBets = true } }

// base is what every service shares.
type base struct {
	dal             *dal.DataAccessLayer
	econ            Economics
	interactiveBets bool
}

// withDAL returns a copy of b over d (a data access layer bound to a
// transaction).
func (b *base) withDAL(d *dal.DataAccessLayer) *base {
	c := *b
	c.dal = d
	return &c
}

// clock returns the current time in UTC, by the data layer's clock (see
// dal.DataAccessLayer.WithClock): the services and GORM's timestamps read
// the same one.
func (b *base) clock() time.Time { return b.dal.Now() }

// seeds returns the WPAM seeds of the economics.
func (b *base) seeds() wpam.Seeds {
	return wpam.Seeds{P0: b.econ.InitialMarketProbability, I0: b.econ.InitialMarketSubsidization,
		Y0: b.econ.InitialMarketYes, N0: b.econ.InitialMarketNo}
}

// New returns the services over d with the economics econ (validate it
// first: see Economics.Validate).
func New(d *dal.DataAccessLayer, econ Economics, opts ...Option) *Services {
	b := &base{dal: d, econ: econ}
	for _, o := range opts {
		o(b)
	}
	return &Services{
		Users:     &UserService{b},
		Markets:   &MarketService{b},
		Bets:      &BetService{b},
		Positions: &PositionService{b},
		Checker:   &Checker{b},
		base:      b,
	}
}
