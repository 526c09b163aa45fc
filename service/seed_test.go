package service_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"socialpredict/errs"
	"socialpredict/repository"
	"socialpredict/service"
)

func TestSeedKeepsInvariants(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		res, err := e.Seed(ctx, service.SeedOptions{Users: 40, Markets: 8, Bets: 3000, InitialBalance: 500, RandomSeed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Users != 40 || res.Markets != 8 || res.Bets+res.Rejected != 3000 || res.Bets == 0 || res.Rejected == 0 {
			t.Errorf("seed result %+v", res)
		}
		// run checks every invariant after the test; resolving a seeded market works too.
		p, err := e.Markets.List(ctx, repository.MarketFilters{})
		if err != nil || len(p.Items) == 0 {
			t.Fatal(err)
		}
		if _, err := e.Markets.Resolve(ctx, p.Items[0].CreatorID, p.Items[0].ID, "YES"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSeedRejectsInvalidOptions: each invalid option is refused with an
// InputError naming it, before anything is written (issue 9, item 12).
func TestSeedRejectsInvalidOptions(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		for _, tt := range []struct {
			o     service.SeedOptions
			field string
		}{
			{service.SeedOptions{Users: 0}, "users"},
			{service.SeedOptions{Users: service.MaxSeedUsers + 1}, "users"},
			{service.SeedOptions{Users: 3, Markets: -1}, "markets"},
			{service.SeedOptions{Users: 3, Bets: -1, Markets: 1}, "bets"},
			{service.SeedOptions{Users: 3, Bets: 10}, "bets"},
			{service.SeedOptions{Users: 3, InitialBalance: -5}, "initial_balance"},
			{service.SeedOptions{Users: 3, InitialBalance: service.MaxCredits + 1}, "initial_balance"},
			{service.SeedOptions{Users: 3, Prefix: "Bad Prefix"}, "prefix"},
			{service.SeedOptions{Users: 11, Prefix: strings.Repeat("p", 28)}, "prefix"},
		} {
			before := e.state(t)
			_, err := e.Seed(ctx, tt.o)
			var ie *errs.InputError
			if !errors.As(err, &ie) || ie.Field != tt.field || !errors.Is(err, errs.ErrInvalidInput) {
				t.Errorf("Seed(%+v) = %v, want an InputError for %s", tt.o, err, tt.field)
			}
			if diff := cmp.Diff(e.state(t), before); diff != "" {
				t.Errorf("Seed(%+v) wrote something:\n%s", tt.o, diff)
			}
		}
	})
}
