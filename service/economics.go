package service

import (
	"fmt"
	"slices"
	"strings"

	"socialpredict/internal/confkit"
)

// Economics is the `economics` section of the configuration: the numbers of
// the market rules. Every default is the one of the domain rules.
type Economics struct {
	InitialMarketProbability   float64 `yaml:"initial_market_probability" doc:"WPAM seed P0: the probability of a market with no bets (0 to 1)."`
	InitialMarketSubsidization int64   `yaml:"initial_market_subsidization" doc:"WPAM seed I0: virtual credits that damp the first bets' effect on the probability (credits, >= 0)."`
	InitialMarketYes           int64   `yaml:"initial_market_yes" doc:"WPAM seed Y0: virtual YES stake of a new market (credits, >= 0)."`
	InitialMarketNo            int64   `yaml:"initial_market_no" doc:"WPAM seed N0: virtual NO stake of a new market (credits, >= 0)."`
	CreateMarketCost           int64   `yaml:"create_market_cost" doc:"Credits debited from a market's creator when it is created (>= 0)."`
	MinimumFutureHours         float64 `yaml:"minimum_future_hours" doc:"A new market must close at least this many hours after its creation (>= 0)."`
	MaximumDebtAllowed         int64   `yaml:"maximum_debt_allowed" doc:"How far below zero a balance may go (credits, >= 0): balances never drop below -maximum_debt_allowed."`
	InitialBalance             int64   `yaml:"initial_balance" doc:"Balance of a new user (credits, >= 0)."`
	MinimumBet                 int64   `yaml:"minimum_bet" doc:"Smallest bet amount (credits, >= 1)."`
	BuySharesFee               int64   `yaml:"buy_shares_fee" doc:"Fee charged on every bet, on top of its amount (credits, >= 0)."`
	InitialBetFee              int64   `yaml:"initial_bet_fee" doc:"Fee charged on a user's first bet in a market, on top of its amount; paid to the market's creator at resolution (credits, >= 0)."`
}

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

// Validate reports every invalid value with its key path ("economics....");
// the error matches confkit.ErrInvalid.
func (e Economics) Validate() error {
	var errs confkit.Errors
	if p := e.InitialMarketProbability; !(p >= 0 && p <= 1) {
		errs.Add("economics.initial_market_probability", fmt.Sprintf("must be between 0 and 1, got %g", p))
	}
	if e.MinimumFutureHours < 0 {
		errs.Add("economics.minimum_future_hours", fmt.Sprintf("must not be negative, got %g", e.MinimumFutureHours))
	}
	if e.MinimumBet < 1 {
		errs.Add("economics.minimum_bet", fmt.Sprintf("must be at least 1, got %d", e.MinimumBet))
	}
	for key, v := range map[string]int64{
		"initial_market_subsidization": e.InitialMarketSubsidization, "initial_market_yes": e.InitialMarketYes,
		"initial_market_no": e.InitialMarketNo, "create_market_cost": e.CreateMarketCost,
		"maximum_debt_allowed": e.MaximumDebtAllowed, "initial_balance": e.InitialBalance,
		"buy_shares_fee": e.BuySharesFee, "initial_bet_fee": e.InitialBetFee,
	} {
		if v < 0 {
			errs.Add("economics."+key, fmt.Sprintf("must not be negative, got %d", v))
		}
	}
	if e.InitialMarketSubsidization+e.InitialMarketYes+e.InitialMarketNo == 0 {
		errs.Add("economics.initial_market_subsidization", "initial_market_subsidization, initial_market_yes and initial_market_no must not all be 0 (the probability of a new market would be undefined)")
	}
	// Map iteration order is random: sort for stable messages.
	slices.SortFunc(errs, func(a, b *confkit.FieldError) int { return strings.Compare(a.Key, b.Key) })
	return errs.Err()
}
