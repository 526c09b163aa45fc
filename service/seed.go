package service

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"socialpredict/dal"
	"socialpredict/models"
	"socialpredict/models/wpam"
	"socialpredict/repository"
)

// SeedOptions says how much data Seed creates.
type SeedOptions struct {
	// Users (1 to MaxSeedUsers), Markets (0 to MaxSeedMarkets) and Bets
	// (0 to MaxSeedBets; bets need a market) to create.
	Users, Markets, Bets int
	// InitialBalance of the seeded users (credits, 0 to MaxCredits).
	InitialBalance int64
	// RandomSeed makes the data repeatable.
	RandomSeed uint64
	// Prefix starts the seeded usernames, PREFIX_0, PREFIX_1, ... (default
	// DefaultSeedPrefix); seeding twice needs two prefixes.
	Prefix string
}

// SeedResult counts what Seed created.
type SeedResult struct {
	Users, Markets, Bets, Rejected, LedgerRows int
}

// Seed fills the database with realistic data through the bulk APIs, in one
// transaction: users, markets (their creation cost paid), and bets placed by
// the market rules in time order (fees, debt floor, WPAM probabilities), with
// their positions, ledger rows and market aggregates, so that the invariant
// check passes afterwards. Bets the rules reject (a user at the debt floor)
// are counted and skipped. Invalid options are refused before anything is
// written, with an *errs.InputError naming the option (see
// SeedOptions.Validate); other errors are the repositories'.
func (s *Services) Seed(ctx context.Context, o SeedOptions) (*SeedResult, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Prefix == "" {
		o.Prefix = DefaultSeedPrefix
	}
	b := s.Users.base
	g := &seeder{base: b, o: o, rng: rand.New(rand.NewPCG(o.RandomSeed, 0x5eed)), res: &SeedResult{}}
	err := b.dal.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
		g.base = b.withDAL(tx)
		return g.run(ctx)
	})
	if err != nil {
		return nil, err
	}
	return g.res, nil
}

// seeder builds the seed data in memory, then writes it in bulk.
type seeder struct {
	*base
	o   SeedOptions
	rng *rand.Rand
	res *SeedResult

	users   []*models.User
	markets []*models.Market
	bets    []*models.Bet
	ledger  []*models.LedgerEntry
	// positions by market index, then user index.
	positions map[[2]int]*models.Position
}

func (g *seeder) run(ctx context.Context) error {
	now := g.clock()
	start := now.Add(-30 * 24 * time.Hour)
	g.positions = map[[2]int]*models.Position{}
	for i := range g.o.Users {
		g.users = append(g.users, &models.User{
			Username: fmt.Sprintf("%s_%d", g.o.Prefix, i), DisplayName: fmt.Sprintf("%s user %d", g.o.Prefix, i),
			Email: fmt.Sprintf("%s_%d@example.com", g.o.Prefix, i), UserType: models.UserTypeRegular,
			InitialBalance: g.o.InitialBalance, Balance: g.o.InitialBalance,
			CreatedAt: start.Add(time.Duration(i) * time.Second), UpdatedAt: now,
		})
	}
	if err := g.dal.Users().CreateBatch(ctx, g.users); err != nil {
		return err
	}
	// Markets: created over the first day, closing 1-30 days from now; a
	// creator who cannot pay the creation cost is replaced by another.
	creators := make([]int, g.o.Markets)
	for i := range g.o.Markets {
		creators[i] = -1
		for try := 0; try < 10 && creators[i] < 0; try++ {
			u := g.rng.IntN(len(g.users))
			if g.users[u].Balance-g.econ.CreateMarketCost >= -g.econ.MaximumDebtAllowed {
				creators[i] = u
			}
		}
		if creators[i] < 0 {
			return fmt.Errorf("seed: no user can pay for market %d", i)
		}
		u := g.users[creators[i]]
		u.Balance -= g.econ.CreateMarketCost
		created := start.Add(time.Duration(i) * time.Minute)
		g.markets = append(g.markets, &models.Market{
			CreatorID: u.ID, QuestionTitle: fmt.Sprintf("Seeded question %d?", i), YesLabel: "YES", NoLabel: "NO",
			ClosesAt: now.Add(time.Duration(1+g.rng.IntN(30)) * 24 * time.Hour), Status: models.MarketOpen,
			Probability: wpam.Probability(g.seeds(), 0, 0), CreatedAt: created, UpdatedAt: created,
		})
	}
	for i := range g.o.Bets {
		g.placeBet(start.Add(24*time.Hour + time.Duration(i)*time.Second))
	}
	if err := g.dal.Markets().CreateBatch(ctx, g.markets); err != nil {
		return err
	}
	for _, m := range g.markets {
		if g.econ.CreateMarketCost > 0 {
			id := m.ID
			g.ledger = append(g.ledger, &models.LedgerEntry{UserID: m.CreatorID, MarketID: &id, Kind: models.LedgerMarketCreation,
				Amount: -g.econ.CreateMarketCost, CreatedAt: m.CreatedAt})
		}
	}
	for _, b := range g.bets {
		b.MarketID = g.markets[b.MarketID].ID
	}
	if err := g.dal.Bets().CreateBatch(ctx, g.bets); err != nil {
		return err
	}
	return g.writeRest(ctx)
}

// placeBet applies the market rules to a random bet, in memory. Market and
// user fields of the bet hold indexes until the rows have IDs.
func (g *seeder) placeBet(at time.Time) {
	ui, mi := g.rng.IntN(len(g.users)), g.rng.IntN(len(g.markets))
	u, m := g.users[ui], g.markets[mi]
	amount := int64(1 + g.rng.IntN(50))
	outcome := models.OutcomeYes
	if g.rng.IntN(2) == 0 {
		outcome = models.OutcomeNo
	}
	key := [2]int{mi, ui}
	pos := g.positions[key]
	fee := g.econ.BuySharesFee
	if pos == nil {
		fee += g.econ.InitialBetFee
	}
	if u.Balance-amount-fee < -g.econ.MaximumDebtAllowed {
		g.res.Rejected++
		return
	}
	u.Balance -= amount + fee
	yes, no := amount, int64(0)
	if outcome == models.OutcomeNo {
		yes, no = 0, amount
	}
	m.YesStake += yes
	m.NoStake += no
	m.Volume += amount
	m.BetCount++
	m.Probability = wpam.Probability(g.seeds(), m.YesStake, m.NoStake)
	m.UpdatedAt = at
	if pos == nil {
		pos = &models.Position{UserID: u.ID, FirstBetAt: at}
		g.positions[key] = pos
	}
	pos.YesStake += yes
	pos.NoStake += no
	pos.BetCount++
	pos.UpdatedAt = at
	g.bets = append(g.bets, &models.Bet{UserID: u.ID, MarketID: int64(mi), Outcome: outcome, Amount: amount, Fee: fee,
		ProbabilityAfter: m.Probability, PlacedAt: at})
}

// writeRest writes the positions and the ledger, with each row's balance
// after it, and the users' final balances.
func (g *seeder) writeRest(ctx context.Context) error {
	var positions []*models.Position
	for key, p := range g.positions {
		p.MarketID = g.markets[key[0]].ID
		positions = append(positions, p)
	}
	if err := g.dal.Positions().CreateBatch(ctx, positions); err != nil {
		return err
	}
	for _, b := range g.bets {
		market, bet := b.MarketID, b.ID
		// One row per bet, as PlaceBet writes it: the stake and the fee.
		g.ledger = append(g.ledger, &models.LedgerEntry{UserID: b.UserID, MarketID: &market, BetID: &bet,
			Kind: models.LedgerBet, Amount: -(b.Amount + b.Fee), Fee: b.Fee, CreatedAt: b.PlacedAt})
	}
	// Balance after each row, in time order (creations come first: they
	// happened on the first day).
	running := map[int64]int64{}
	for _, u := range g.users {
		running[u.ID] = u.InitialBalance
	}
	for _, e := range g.ledger {
		running[e.UserID] += e.Amount
		e.BalanceAfter = running[e.UserID]
	}
	if err := g.dal.Ledger().AppendBatch(ctx, g.ledger); err != nil {
		return err
	}
	// The users were inserted with their initial balances: add the net change.
	var deltas []repository.BalanceDelta
	for _, u := range g.users {
		if d := u.Balance - u.InitialBalance; d != 0 {
			deltas = append(deltas, repository.BalanceDelta{UserID: u.ID, Delta: d})
		}
	}
	if err := g.dal.Users().AdjustBalances(ctx, deltas); err != nil {
		return err
	}
	g.res.Users, g.res.Markets, g.res.Bets, g.res.LedgerRows = len(g.users), len(g.markets), len(g.bets), len(g.ledger)
	return nil
}
