package service_test

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"socialpredict/errs"
	"socialpredict/internal/confkit"
	"socialpredict/service"
)

// TestEconomicsValidateRanges: economics built in code are checked like the
// configuration file (issue 9, item 11): non-finite and out-of-range
// numbers are refused, naming the key.
func TestEconomicsValidateRanges(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*service.Economics)
		key    string
	}{
		{"future hours NaN", func(e *service.Economics) { e.MinimumFutureHours = math.NaN() }, "economics.minimum_future_hours"},
		{"future hours +Inf", func(e *service.Economics) { e.MinimumFutureHours = math.Inf(1) }, "economics.minimum_future_hours"},
		{"future hours 3e6", func(e *service.Economics) { e.MinimumFutureHours = 3e6 }, "economics.minimum_future_hours"},
		{"probability NaN", func(e *service.Economics) { e.InitialMarketProbability = math.NaN() }, "economics.initial_market_probability"},
		{"probability 0", func(e *service.Economics) { e.InitialMarketProbability = 0 }, "economics.initial_market_probability"},
		{"cost above MaxCredits", func(e *service.Economics) { e.CreateMarketCost = service.MaxCredits + 1 }, "economics.create_market_cost"},
		{"debt overflowing int64", func(e *service.Economics) { e.MaximumDebtAllowed = math.MaxInt64 }, "economics.maximum_debt_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := service.DefaultEconomics()
			tt.modify(&e)
			err := e.Validate()
			var problems confkit.Errors
			if !errors.Is(err, confkit.ErrInvalid) || !errors.As(err, &problems) || len(problems) != 1 || problems[0].Key != tt.key {
				t.Errorf("Validate() = %v, want one problem with %s", err, tt.key)
			}
		})
	}
	if err := service.DefaultEconomics().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// TestCreateMarketNeverClosesInThePast: even with economics that were not
// validated, a minimum_future_hours that overflows time.Duration refuses a
// market closing in the past instead of accepting it (issue 9, item 11).
func TestCreateMarketNeverClosesInThePast(t *testing.T) {
	for _, hours := range []float64{3e6, 1e300, math.Inf(1), math.NaN()} {
		t.Run(strconv.FormatFloat(hours, 'g', -1, 64), func(t *testing.T) {
			econ := service.DefaultEconomics()
			econ.MinimumFutureHours = hours
			runWith(t, econ, func(t *testing.T, e *env) {
				creator := e.user(t, "creator")
				_, err := e.Markets.Create(ctx, creator.ID, service.NewMarket{QuestionTitle: "Q", ClosesAt: now.Add(-time.Hour)})
				var ie *errs.InputError
				if !errors.As(err, &ie) || ie.Field != "closes_at" {
					t.Errorf("market closing an hour ago: err = %v, want an InputError for closes_at", err)
				}
			})
		})
	}
}
