package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/migration/migrations"
	"socialpredict/models"
	"socialpredict/repository"
	"socialpredict/service"
)

// seeded is a scratch database with its handle, data access and services.
type seeded struct {
	h    *database.DB
	d    *dal.DataAccessLayer
	svc  *service.Services
	cfg  database.Config
	drop func()
}

func (s *seeded) close() { s.h.Close(); s.drop() }

// seedScratch creates a scratch database, migrates and seeds it.
func seedScratch(ctx context.Context, admin database.Config, name string, so service.SeedOptions) (*seeded, error) {
	cfg, drop, err := scratch(ctx, admin, name)
	if err != nil {
		return nil, err
	}
	cfg.ConnectionPool.MaxOpenConns, cfg.ConnectionPool.MaxIdleConns = 4, 4
	h, err := database.NewDatabase(ctx, cfg, database.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		drop()
		return nil, err
	}
	s := &seeded{h: h, d: dal.New(h), cfg: cfg, drop: drop}
	s.svc = service.New(s.d, service.DefaultEconomics())
	if err := migrations.Up(ctx, h.GormDB()); err != nil {
		s.close()
		return nil, err
	}
	so.InitialBalance = 1 << 40
	if _, err := s.svc.Seed(ctx, so); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// perCall returns a job measuring the mean time of one call, over reps
// calls, in microseconds.
func perCall(m *Measure, reps int, call func(ctx context.Context) error) job {
	return job{m, func(ctx context.Context, _ time.Duration) (float64, error) {
		if err := call(ctx); err != nil { // warm
			return 0, err
		}
		start := time.Now()
		for range reps {
			if err := call(ctx); err != nil {
				return 0, err
			}
		}
		return float64(time.Since(start).Microseconds()) / float64(reps), nil
	}}
}

// readsAndResolution seeds, for each resolution size, a database of as many
// markets as rounds with about that many bets each; on the largest it
// measures the reads first. Then it resolves each market, timing it and
// counting its statements.
func readsAndResolution(ctx context.Context, o SuiteOptions, z sizes, rep *Report, suffix string) error {
	for i, n := range z.resolve {
		largest := i == len(z.resolve)-1
		bets := n * o.Rounds
		if largest {
			bets = bets * 103 / 100 // every market past the read depth
		}
		o.Log.Info("seeding for resolution", "markets", o.Rounds, "bets", bets)
		s, err := seedScratch(ctx, o.Admin, fmt.Sprintf("socialpredict_suite_resolve%d_%s", i, suffix),
			service.SeedOptions{Users: min(10_000, z.users), Markets: o.Rounds, Bets: bets, RandomSeed: uint64(2 + i)})
		if err != nil {
			return err
		}
		err = func() error {
			page, err := s.d.Markets().List(ctx, repository.MarketFilters{})
			if err != nil {
				return err
			}
			ms := page.Items
			if largest {
				if err := reads(ctx, o, z, rep, s, ms); err != nil {
					return fmt.Errorf("reads: %w", err)
				}
			}
			m := rep.add("Resolution", fmt.Sprintf("resolve a market of about %d bets", n), "ms", "")
			var counts []int64
			var stmts []int
			for _, mk := range ms {
				sctx, scope := database.WithQueryScope(ctx)
				start := time.Now()
				if _, err := s.svc.Markets.Resolve(sctx, mk.CreatorID, mk.ID, models.ResolutionYes); err != nil {
					return err
				}
				m.Runs = append(m.Runs, float64(time.Since(start).Microseconds())/1000)
				counts = append(counts, mk.BetCount)
				stmts = append(stmts, scope.Queries())
			}
			rep.Statements[n] = slices.Max(stmts)
			m.Note = fmt.Sprintf("bets per market %v; statements per resolution %v", counts, stmts)
			return rep.check(ctx, s.svc, fmt.Sprintf("resolving the markets of about %d bets", n), []job{{m: m}})
		}()
		s.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// reads measures market by id and list pages, repository against raw pgx,
// on the market with the most bets of s.
func reads(ctx context.Context, o SuiteOptions, z sizes, rep *Report, s *seeded, ms []*models.Market) error {
	mk := slices.MaxFunc(ms, func(a, b *models.Market) int { return int(a.BetCount - b.BetCount) })
	if mk.BetCount < int64(z.depth+50) {
		return fmt.Errorf("the largest market has %d bets, fewer than the read depth %d + 50", mk.BetCount, z.depth)
	}
	pool, err := database.OpenPgxPool(ctx, s.cfg, 1)
	if err != nil {
		return err
	}
	raw := repository.NewRawPgx(pool)
	defer raw.Close()
	// The cursor (and the row) at the read depth, paged to by the repository.
	var cursor string
	var after *models.Bet
	for got := 0; got < z.depth; {
		p, err := s.d.Bets().ListByMarket(ctx, mk.ID, repository.PageRequest{Limit: min(repository.MaxLimit, z.depth-got), Cursor: cursor})
		if err != nil {
			return err
		}
		got += len(p.Items)
		cursor, after = p.NextCursor, p.Items[len(p.Items)-1]
	}
	const sec, page = "Reads", 50
	want := func(n int, err error) error {
		if err == nil && n != page {
			err = fmt.Errorf("a page of %d rows, want %d", n, page)
		}
		return err
	}
	depth := fmt.Sprintf("%d", z.depth)
	jobs := []job{
		perCall(rep.add(sec, "market by id, raw pgx", "µs", ""), z.readReps, func(ctx context.Context) error {
			_, err := raw.Market(ctx, mk.ID)
			return err
		}),
		perCall(rep.add(sec, "market by id, repository", "µs", "market by id, raw pgx"), z.readReps, func(ctx context.Context) error {
			_, err := s.d.Markets().GetByID(ctx, mk.ID)
			return err
		}),
		perCall(rep.add(sec, "first 50-row page of bets, raw pgx", "µs", ""), z.readReps, func(ctx context.Context) error {
			b, err := raw.BetsPage(ctx, mk.ID, true, nil, page)
			return want(len(b), err)
		}),
		perCall(rep.add(sec, "first 50-row page of bets, repository", "µs", "first 50-row page of bets, raw pgx"), z.readReps, func(ctx context.Context) error {
			p, err := s.d.Bets().ListByMarket(ctx, mk.ID, repository.PageRequest{Limit: page})
			return want(len(p.Items), err)
		}),
		perCall(rep.add(sec, "keyset page at depth "+depth+", repository", "µs", "first 50-row page of bets, repository"), z.readReps, func(ctx context.Context) error {
			p, err := s.d.Bets().ListByMarket(ctx, mk.ID, repository.PageRequest{Limit: page, Cursor: cursor})
			return want(len(p.Items), err)
		}),
		perCall(rep.add(sec, "keyset page at depth "+depth+", raw pgx", "µs", "first 50-row page of bets, raw pgx"), z.readReps, func(ctx context.Context) error {
			b, err := raw.BetsPage(ctx, mk.ID, false, after, page)
			return want(len(b), err)
		}),
		perCall(rep.add(sec, "OFFSET "+depth+" page, raw pgx (contrast)", "µs", "keyset page at depth "+depth+", raw pgx"), max(3, z.readReps/30), func(ctx context.Context) error {
			b, err := raw.BetsOffset(ctx, mk.ID, z.depth, page)
			return want(len(b), err)
		}),
	}
	return interleave(ctx, o, jobs)
}

// bulk inserts z.bulk bets through the repository's bulk API and through
// pgx CopyFrom, and z.rowByRow bets one by one, deleting them after each run.
func bulk(ctx context.Context, o SuiteOptions, z sizes, rep *Report, suffix string) error {
	o.Log.Info("seeding for bulk")
	s, err := seedScratch(ctx, o.Admin, "socialpredict_suite_bulk_"+suffix, service.SeedOptions{Users: 1000, Markets: 10, RandomSeed: 3})
	if err != nil {
		return err
	}
	defer s.close()
	users, markets, err := ids(ctx, s.h)
	if err != nil {
		return err
	}
	pool, err := database.OpenPgxPool(ctx, s.cfg, 1)
	if err != nil {
		return err
	}
	raw := repository.NewRawPgx(pool)
	defer raw.Close()
	base, err := raw.MaxBetID(ctx)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(4, 4))
	now := time.Now().UTC().Truncate(time.Microsecond)
	fresh := func(n int) []*models.Bet {
		out := make([]*models.Bet, n)
		for i := range out {
			o := models.OutcomeYes
			if rng.IntN(2) == 0 {
				o = models.OutcomeNo
			}
			out[i] = &models.Bet{UserID: users[rng.IntN(len(users))], MarketID: markets[rng.IntN(len(markets))], Outcome: o,
				Amount: int64(1 + rng.IntN(50)), ProbabilityAfter: 0.5, PlacedAt: now.Add(time.Duration(i) * time.Microsecond)}
		}
		return out
	}
	timed := func(n int, insert func(ctx context.Context, b []*models.Bet) error) func(context.Context, time.Duration) (float64, error) {
		return func(ctx context.Context, _ time.Duration) (float64, error) {
			b := fresh(n)
			start := time.Now()
			if err := insert(ctx, b); err != nil {
				return 0, err
			}
			el := time.Since(start)
			deleted, err := raw.DeleteBetsAbove(ctx, base)
			if err == nil && deleted != int64(n) {
				err = fmt.Errorf("inserted %d bets, found %d", n, deleted)
			}
			return float64(n) / el.Seconds(), err
		}
	}
	const sec = "Bulk"
	copyName := fmt.Sprintf("%d bets, pgx CopyFrom (raw)", z.bulk)
	bulkName := fmt.Sprintf("%d bets, repository bulk API (CreateBatch)", z.bulk)
	jobs := []job{
		{rep.add(sec, copyName, "rows/s", ""), timed(z.bulk, func(ctx context.Context, b []*models.Bet) error {
			_, err := raw.CopyBets(ctx, b)
			return err
		})},
		{rep.add(sec, bulkName, "rows/s", copyName), timed(z.bulk, func(ctx context.Context, b []*models.Bet) error {
			return s.d.Bets().CreateBatch(ctx, b)
		})},
		{rep.add(sec, fmt.Sprintf("%d bets row by row (repository Create), extrapolated to %d", z.rowByRow, z.bulk), "rows/s", bulkName),
			timed(z.rowByRow, func(ctx context.Context, b []*models.Bet) error {
				for _, x := range b {
					if err := s.d.Bets().Create(ctx, x); err != nil {
						return err
					}
				}
				return nil
			})},
	}
	if err := interleave(ctx, o, jobs); err != nil {
		return err
	}
	return rep.check(ctx, s.svc, "the bulk measurements (their bets deleted after each run)", jobs)
}
