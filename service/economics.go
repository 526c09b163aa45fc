package service

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"socialpredict/internal/confkit"
)

// Economics is the `economics` section of the configuration: the numbers of
// the market rules. Every default is the one of the domain rules.
type Economics struct {
	InitialMarketProbability   float64 `yaml:"initial_market_probability" doc:"WPAM seed P0: the probability of a market with no bets (greater than 0 and less than 1)."`
	InitialMarketSubsidization int64   `yaml:"initial_market_subsidization" doc:"WPAM seed I0: virtual credits that damp the first bets' effect on the probability (credits, 0 to 10^15)."`
	InitialMarketYes           int64   `yaml:"initial_market_yes" doc:"WPAM seed Y0: virtual YES stake of a new market (credits, 0 to 10^15)."`
	InitialMarketNo            int64   `yaml:"initial_market_no" doc:"WPAM seed N0: virtual NO stake of a new market (credits, 0 to 10^15)."`
	CreateMarketCost           int64   `yaml:"create_market_cost" doc:"Credits debited from a market's creator when it is created (0 to 10^15)."`
	MinimumFutureHours         float64 `yaml:"minimum_future_hours" doc:"A new market must close at least this many hours after its creation (0 to 876000, i.e. 100 years)."`
	MaximumDebtAllowed         int64   `yaml:"maximum_debt_allowed" doc:"How far below zero a balance may go (credits, 0 to 10^15): balances never drop below -maximum_debt_allowed."`
	InitialBalance             int64   `yaml:"initial_balance" doc:"Balance of a new user (credits, 0 to 10^15)."`
	MinimumBet                 int64   `yaml:"minimum_bet" doc:"Smallest bet amount (credits, 1 to 10^15)."`
	BuySharesFee               int64   `yaml:"buy_shares_fee" doc:"Fee charged on every bet, on top of its amount (credits, 0 to 10^15)."`
	InitialBetFee              int64   `yaml:"initial_bet_fee" doc:"Fee charged on a user's first bet in a market, on top of its amount; paid to the market's creator at resolution (credits, 0 to 10^15)."`
}

// The ranges of the economics.
const (
	// MaxCredits bounds every configured amount of credits (10^15): a few
	// thousand of them still add up within int64, and their sums stay exact
	// in the float64 arithmetic of the WPAM probability (below 2^53).
	MaxCredits = 1_000_000_000_000_000
	// MaxMinimumFutureHours bounds minimum_future_hours: 100 years, far
	// below the 2,562,047 hours a time.Duration can hold.
	MaxMinimumFutureHours = 876_000
)

// DefaultEconomics returns the domain rules' defaults.
func DefaultEconomics() Economics {
	return Economics{
		InitialMarketProbability:   0.5,
		InitialMarketSubsidization: 10,
		CreateMarketCost:           10,
		MinimumFutureHours:         1.0,
		MaximumDebtAllowed:         500,
		MinimumBet:                 1,
		InitialBetFee:              1,
	}
}

// Validate reports every invalid value with its key path ("economics...."):
// a number that is not finite or lies outside its documented range (see
// MaxCredits and MaxMinimumFutureHours). The error matches
// confkit.ErrInvalid.
func (e Economics) Validate() error {
	var errs confkit.Errors
	if p := e.InitialMarketProbability; !(p > 0 && p < 1) {
		errs.Add("economics.initial_market_probability", fmt.Sprintf("must be greater than 0 and less than 1 (a finite number), got %g", p))
	}
	errs.CheckFloat("economics.minimum_future_hours", e.MinimumFutureHours, 0, MaxMinimumFutureHours)
	errs.CheckInt("economics.minimum_bet", e.MinimumBet, 1, MaxCredits)
	for key, v := range map[string]int64{
		"initial_market_subsidization": e.InitialMarketSubsidization, "initial_market_yes": e.InitialMarketYes,
		"initial_market_no": e.InitialMarketNo, "create_market_cost": e.CreateMarketCost,
		"maximum_debt_allowed": e.MaximumDebtAllowed, "initial_balance": e.InitialBalance,
		"buy_shares_fee": e.BuySharesFee, "initial_bet_fee": e.InitialBetFee,
	} {
		errs.CheckInt("economics."+key, v, 0, MaxCredits)
	}
	if e.InitialMarketSubsidization == 0 && e.InitialMarketYes == 0 && e.InitialMarketNo == 0 {
		errs.Add("economics.initial_market_subsidization", "initial_market_subsidization, initial_market_yes and initial_market_no must not all be 0 (the probability of a new market would be undefined)")
	}
	// Map iteration order is random: sort for stable messages.
	slices.SortFunc(errs, func(a, b *confkit.FieldError) int { return strings.Compare(a.Key, b.Key) })
	return errs.Err()
}

// minimumFuture is minimum_future_hours as a duration. Economics that were
// not validated cannot overflow it into the past: NaN, infinities and hours
// beyond what a time.Duration holds give the longest duration, so that no
// closing time qualifies.
func (e Economics) minimumFuture() time.Duration {
	h := e.MinimumFutureHours
	switch {
	case h <= 0:
		return 0
	case !(h < float64(math.MaxInt64/int64(time.Hour))):
		return math.MaxInt64
	}
	return time.Duration(h * float64(time.Hour))
}
