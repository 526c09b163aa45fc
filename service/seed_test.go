package service_test

import (
	"testing"

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
