package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/models"
	"socialpredict/service"
)

// writerLoad is a SQLite database with a creator, bettors with ample
// credits, hot markets the bettors bet on, and markets ready to be resolved.
type writerLoad struct {
	d        *dal.DataAccessLayer
	tm       *database.TransactionManager
	svc      *service.Services
	creator  int64
	bettors  []int64
	hot      []int64
	toSettle []int64
	// placed counts the bets placed since startBettors.
	placed atomic.Int64
}

// newWriterLoad builds a writerLoad with the given bettors and hot markets,
// and settle markets with perSettle bets each, placed before the load starts.
func newWriterLoad(tb testing.TB, bettors, hot, settle, perSettle int) *writerLoad {
	tb.Helper()
	d, tdb := daltest.New(tb, dbtest.SQLite)
	econ := service.DefaultEconomics()
	econ.InitialBalance = 1 << 40
	w := &writerLoad{d: d, tm: tdb.Handle.Transactions(), svc: service.New(d.WithClock(func() time.Time { return now }), econ)}
	ctx := context.Background()
	user := func(name string) int64 {
		u, _, err := w.svc.Users.Create(ctx, service.NewUser{Username: name, DisplayName: name, Email: name + "@example.com"})
		if err != nil {
			tb.Fatalf("create user %s: %v", name, err)
		}
		return u.ID
	}
	market := func(i int) int64 {
		m, err := w.svc.Markets.Create(ctx, w.creator, service.NewMarket{QuestionTitle: fmt.Sprintf("Question %d", i), ClosesAt: now.Add(48 * time.Hour)})
		if err != nil {
			tb.Fatalf("create market: %v", err)
		}
		return m.ID
	}
	w.creator = user("creator")
	for i := range bettors {
		w.bettors = append(w.bettors, user(fmt.Sprintf("bettor_%d", i)))
	}
	for i := range hot {
		w.hot = append(w.hot, market(i))
	}
	for i := range settle {
		m := market(hot + i)
		for j := range perSettle {
			if _, err := w.svc.Bets.PlaceBet(ctx, w.bettors[j%bettors], m, outcomeOf(j), int64(j%20+1), ""); err != nil {
				tb.Fatalf("seed bet: %v", err)
			}
		}
		w.toSettle = append(w.toSettle, m)
	}
	return w
}

func outcomeOf(i int) models.Outcome {
	if i%2 == 0 {
		return models.OutcomeYes
	}
	return models.OutcomeNo
}

// betLoad is the result of bettors placing bets in a loop.
type betLoad struct {
	latencies []time.Duration
	errs      []error
	elapsed   time.Duration
}

// startBettors has each bettor place bets on random hot markets in a loop
// until the returned stop is called; stop returns the latencies and errors.
func (w *writerLoad) startBettors() (stop func() betLoad) {
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu  sync.Mutex
		out betLoad
		wg  sync.WaitGroup
	)
	start := time.Now()
	for i, u := range w.bettors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			for ctx.Err() == nil {
				t0 := time.Now()
				_, err := w.svc.Bets.PlaceBet(ctx, u, w.hot[rng.IntN(len(w.hot))], outcomeOf(rng.IntN(2)), int64(rng.IntN(50)+1), "")
				d := time.Since(t0)
				if ctx.Err() != nil {
					return // the bet was cut short by stop
				}
				mu.Lock()
				out.latencies = append(out.latencies, d)
				if err != nil {
					out.errs = append(out.errs, err)
				}
				mu.Unlock()
				w.placed.Add(1)
			}
		}()
	}
	return func() betLoad {
		cancel()
		wg.Wait()
		out.elapsed = time.Since(start)
		return out
	}
}

// quantile returns the q-quantile (nearest rank) of sorted latencies.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// latencySummary returns p50, p99 and max of latencies, in milliseconds.
func latencySummary(latencies []time.Duration) (p50, p99, maxMS float64) {
	s := slices.Clone(latencies)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return ms(quantile(s, 0.50)), ms(quantile(s, 0.99)), ms(quantile(s, 1))
}

// BenchmarkSQLiteWriterFairness measures how SQLite writers share the
// database's single write lock: 8 bettors place bets in a loop
// (BetService.PlaceBet, an interactive write transaction) on 4 markets while
// b.N resolves of other markets (20 bets each) run one after another, 10 ms
// apart. It reports the median, p99 and maximum latency of bets and of
// resolves in milliseconds, bets per second, the transactions retried after
// SQLITE_BUSY and the failed resolves and bets:
//
//	go test ./service -run '^$' -bench SQLiteWriterFairness -benchtime 30x
func BenchmarkSQLiteWriterFairness(b *testing.B) {
	const bettors, hot, perSettle = 8, 4, 20
	w := newWriterLoad(b, bettors, hot, b.N, perSettle)
	ctx := context.Background()
	busyBefore := w.tm.Stats().RetriesBusy

	b.ResetTimer()
	stop := w.startBettors()
	var (
		resolves   []time.Duration
		resolveErr int
	)
	for i := range b.N {
		t0 := time.Now()
		if _, err := w.svc.Markets.Resolve(ctx, w.creator, w.toSettle[i], models.ResolutionYes); err != nil {
			resolveErr++
			b.Logf("resolve %d: %v", i, err)
		}
		resolves = append(resolves, time.Since(t0))
		time.Sleep(10 * time.Millisecond)
	}
	bets := stop()
	b.StopTimer()

	bp50, bp99, bmax := latencySummary(bets.latencies)
	rp50, rp99, rmax := latencySummary(resolves)
	busy := w.tm.Stats().RetriesBusy - busyBefore
	b.ReportMetric(bp50, "bet_p50_ms")
	b.ReportMetric(bp99, "bet_p99_ms")
	b.ReportMetric(bmax, "bet_max_ms")
	b.ReportMetric(rp50, "resolve_p50_ms")
	b.ReportMetric(rp99, "resolve_p99_ms")
	b.ReportMetric(rmax, "resolve_max_ms")
	b.ReportMetric(float64(len(bets.latencies))/bets.elapsed.Seconds(), "bets/s")
	b.ReportMetric(float64(busy), "busy_retries")
	b.ReportMetric(float64(resolveErr), "resolve_errors")
	b.ReportMetric(float64(len(bets.errs)), "bet_errors")
	b.Logf("%d resolves: p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d bets: p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d busy retries, %d failed resolves, %d failed bets",
		len(resolves), rp50, rp99, rmax, len(bets.latencies), bp50, bp99, bmax, busy, resolveErr, len(bets.errs))
	for i, err := range bets.errs {
		if i == 3 {
			break
		}
		b.Logf("bet error: %v", err)
	}
}
