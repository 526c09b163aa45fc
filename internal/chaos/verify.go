package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/repository"
	"socialpredict/service"
)

// MaxRecovery is the longest a run accepts between PostgreSQL being back
// and the first acknowledged bet.
const MaxRecovery = 5 * time.Second

// deadlineSlack is how far past the request deadline a response may come
// (the response is written after the deadline fires) before the request
// counts as hanging.
const deadlineSlack = time.Second

// Fault is one fault injected.
type Fault struct {
	// Kind names it: "restart fast", "restart immediate", "latency",
	// "reset", "black hole", "pool exhaustion".
	Kind string
	// Start is when it began; Back when PostgreSQL (or the network) was
	// back.
	Start, Back time.Time
	// Recovery is from Back to the first acknowledged bet (Recovered
	// false: none came).
	Recovery  time.Duration
	Recovered bool
	// Note says what was observed (health states, statuses).
	Note string
}

// Report is what a run found. Problems lists every failed check; a run
// passes when it is empty.
type Report struct {
	Faults []Fault
	// Requests counts every HTTP request of the bettors; Bets the logical
	// bets (one Idempotency-Key each).
	Requests, Bets int
	// Acknowledged bets got a 2xx; Lost are acknowledged but not in the
	// database (or there under another id); Duplicated have more than one
	// bet in the database for one key; Unknown are bets in the database
	// that no bettor sent.
	Acknowledged, Lost, Duplicated, Unknown int
	// CommittedUnacked are in the database although the bettor gave up
	// (the run's drain ended): committed once, never acknowledged.
	CommittedUnacked int
	// Retried bets were acknowledged after more than one attempt; Replayed
	// of them got the bet an earlier attempt had placed (its answer was a
	// 503 or lost): the Idempotency-Key at work.
	Retried, Replayed int
	// Unavailable counts 503s; NoRetryAfter the 503s without Retry-After;
	// Other5xx every other 5xx; Other4xx every 4xx; TransportErrors
	// requests that got no HTTP answer; OverDeadline answers that came
	// later than the request deadline (plus a second).
	Unavailable, NoRetryAfter, Other5xx, Other4xx, TransportErrors, OverDeadline int
	// LongestRequest is the slowest answer.
	LongestRequest time.Duration
	// LongestRecovery is the longest Fault.Recovery.
	LongestRecovery time.Duration
	// Violations of `db check`.
	Violations []string
	// PoolErrors: connections of the server's pool that failed after the
	// run.
	PoolErrors []string
	Problems   []string
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return len(r.Problems) > 0 }

// problem records a failed check.
func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Verify checks a finished workload: the bets in the database (read
// through db, a handle that does not go through any fault) against what
// the bettors saw, the money invariants (service.Checker with econ), the
// statuses and durations of every request, and the server's pool.
func Verify(ctx context.Context, db *database.DB, srv *Server, w *Workload, econ service.Economics, faults []Fault) *Report {
	r := &Report{Faults: faults}
	attempts, bets := w.Attempts(), w.Bets()
	r.Requests, r.Bets = len(attempts), len(bets)
	limit := srv.RequestTimeout + deadlineSlack
	for _, a := range attempts {
		d := a.End.Sub(a.Start)
		r.LongestRequest = max(r.LongestRequest, d)
		if d > limit {
			r.OverDeadline++
		}
		switch {
		case a.Status == 0:
			r.TransportErrors++
		case a.Status == http.StatusServiceUnavailable:
			r.Unavailable++
			if a.RetryAfter == "" {
				r.NoRetryAfter++
			}
		case a.Status >= 500:
			r.Other5xx++
		case a.Status >= 400:
			r.Other4xx++
		}
	}
	for _, f := range faults {
		r.LongestRecovery = max(r.LongestRecovery, f.Recovery)
		if f.Back.IsZero() {
			continue
		}
		if !f.Recovered {
			r.problem("%s at %s: no bet acknowledged after it ended", f.Kind, f.Start.Format("15:04:05.000"))
		} else if f.Recovery > MaxRecovery {
			r.problem("%s: first acknowledged bet %s after it ended (at most %s)", f.Kind, f.Recovery.Round(time.Millisecond), MaxRecovery)
		}
	}
	if r.NoRetryAfter > 0 {
		r.problem("%d answers 503 without Retry-After", r.NoRetryAfter)
	}
	if r.Other5xx > 0 {
		r.problem("%d answers 5xx other than 503 (%s)", r.Other5xx, sample(attempts, func(a Attempt) bool { return a.Status >= 500 && a.Status != 503 }))
	}
	if r.Other4xx > 0 {
		r.problem("%d answers 4xx (%s)", r.Other4xx, sample(attempts, func(a Attempt) bool { return a.Status >= 400 && a.Status < 500 }))
	}
	if r.TransportErrors > 0 {
		r.problem("%d requests got no HTTP answer (%s)", r.TransportErrors, sample(attempts, func(a Attempt) bool { return a.Status == 0 }))
	}
	if r.OverDeadline > 0 {
		r.problem("%d answers came more than %s after the request (request deadline %s; longest %s)",
			r.OverDeadline, limit, srv.RequestTimeout, r.LongestRequest.Round(time.Millisecond))
	}

	stored, err := storedBets(ctx, db)
	if err != nil {
		r.problem("read the bets: %v", err)
		return r
	}
	sent := map[string]Bet{}
	for _, b := range bets {
		sent[b.Key] = b
		ids := stored[b.Key]
		if len(ids) > 1 {
			r.Duplicated++
			r.problem("key %s: %d bets in the database (%v)", b.Key, len(ids), ids)
		}
		switch {
		case b.Acked:
			r.Acknowledged++
			if b.Attempts > 1 {
				r.Retried++
			}
			if b.Replayed {
				r.Replayed++
			}
			if len(ids) == 0 || ids[0] != b.BetID {
				r.Lost++
				r.problem("key %s: bet %d acknowledged, database has %v", b.Key, b.BetID, ids)
			}
		case len(ids) > 0:
			r.CommittedUnacked++
		}
	}
	for key, ids := range stored {
		if _, ok := sent[key]; !ok {
			r.Unknown += len(ids)
			r.problem("bets %v with key %q that no bettor sent", ids, key)
		}
	}

	vs, err := service.New(dal.New(db), econ).Checker.Check(ctx)
	if err != nil {
		r.problem("db check: %v", err)
	}
	for _, v := range vs {
		r.Violations = append(r.Violations, fmt.Sprint(v))
		r.problem("db check: %v", v)
	}
	r.PoolErrors = checkPool(ctx, srv)
	for _, e := range r.PoolErrors {
		r.problem("pool: %s", e)
	}
	return r
}

// sample returns the first few attempts that match, for a problem's text.
func sample(as []Attempt, match func(Attempt) bool) string {
	var out []string
	for _, a := range as {
		if match(a) {
			out = append(out, fmt.Sprintf("%s: %d %s", a.Key, a.Status, strings.TrimSpace(a.Err)))
			if len(out) == 3 {
				break
			}
		}
	}
	return strings.Join(out, "; ")
}

// storedBets returns the ids of the bets in the database by idempotency
// key ("" for bets without one).
func storedBets(ctx context.Context, db *database.DB) (map[string][]int64, error) {
	out := map[string][]int64{}
	d := dal.New(db)
	req := repository.PageRequest{Limit: repository.MaxLimit}
	for {
		page, err := d.Bets().List(ctx, repository.BetFilters{PageRequest: req})
		if err != nil {
			return nil, err
		}
		for _, b := range page.Items {
			key := ""
			if b.IdempotencyKey != nil {
				key = *b.IdempotencyKey
			}
			out[key] = append(out[key], b.ID)
		}
		if page.NextCursor == "" {
			return out, nil
		}
		req.Cursor = page.NextCursor
	}
}

// checkPool takes every connection of the server's pool at once (as far as
// the server lets it: behind PgBouncer fewer transactions than that may be
// open at once, and the rest then wait their turn), each in a read-only
// transaction that reads a row, and reports those that fail: a connection
// broken by a fault and left in the pool would fail here. Then it asks the
// API twice as many times at once; each must answer 200.
func checkPool(ctx context.Context, srv *Server) []string {
	var problems []string
	n := srv.DB.Config().ConnectionPool.MaxOpenConns
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d := dal.New(srv.DB)
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	go func() {
		defer close(release)
		timeout := time.After(2 * time.Second)
		for range n {
			select {
			case <-arrived:
			case <-timeout:
				return
			}
		}
	}()
	results := make(chan error, n)
	for range n {
		go func() {
			results <- srv.DB.Transactions().Transact(ctx, func(ctx context.Context) error {
				_, err := d.Users().FirstAdmin(ctx)
				arrived <- struct{}{}
				<-release
				return err
			}, database.ReadOnly(), database.WithAttempts(1))
		}()
	}
	for range n {
		if err := <-results; err != nil {
			problems = append(problems, "a pooled connection failed: "+err.Error())
		}
	}
	<-release

	c := client(srv.RequestTimeout, n)
	errc := make(chan error, 2*n)
	for range 2 * n {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.API+"/v1/leaderboard", nil)
			resp, err := c.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = errors.New(resp.Status)
				}
			}
			errc <- err
		}()
	}
	for range 2 * n {
		if err := <-errc; err != nil {
			problems = append(problems, "GET /v1/leaderboard after the run: "+err.Error())
		}
	}
	return problems
}

// Print writes the report as two tables: the faults, then the totals.
func (r *Report) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(r.Faults) > 0 {
		fmt.Fprintln(tw, "FAULT\tAT\tDOWN\tRECOVERY\tNOTE")
		for _, f := range r.Faults {
			down, rec := "-", "none"
			if !f.Back.IsZero() {
				down = f.Back.Sub(f.Start).Round(time.Millisecond).String()
			}
			if f.Recovered {
				rec = f.Recovery.Round(time.Millisecond).String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Kind, f.Start.Format("15:04:05.000"), down, rec, f.Note)
		}
		fmt.Fprintln(tw)
	}
	kinds := map[string]int{}
	var order []string
	for _, f := range r.Faults {
		if kinds[f.Kind] == 0 {
			order = append(order, f.Kind)
		}
		kinds[f.Kind]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	row := func(name string, v any, note string) { fmt.Fprintf(tw, "%s\t%v\t%s\n", name, v, note) }
	fmt.Fprintln(tw, "CHECK\tVALUE\t")
	row("faults injected", len(r.Faults), strings.Join(parts, ", "))
	row("requests", r.Requests, fmt.Sprintf("%d bets (one Idempotency-Key each), %d answered 503", r.Bets, r.Unavailable))
	row("acknowledged", r.Acknowledged, fmt.Sprintf("%d after a retry, %d of them placed by an earlier attempt (replayed by key); %d committed but never acknowledged",
		r.Retried, r.Replayed, r.CommittedUnacked))
	row("lost", r.Lost, "must be 0")
	row("duplicated", r.Duplicated+r.Unknown, "must be 0")
	row("5xx other than 503", r.Other5xx, "must be 0")
	row("503 without Retry-After", r.NoRetryAfter, "must be 0")
	row("4xx", r.Other4xx, "must be 0")
	row("no HTTP answer", r.TransportErrors, "must be 0")
	row("over the deadline", r.OverDeadline, "longest answer "+r.LongestRequest.Round(time.Millisecond).String())
	row("longest recovery", r.LongestRecovery.Round(time.Millisecond), "at most "+MaxRecovery.String())
	row("db check violations", len(r.Violations), "must be 0")
	row("broken pooled connections", len(r.PoolErrors), "must be 0")
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Problems) == 0 {
		_, err := fmt.Fprintln(w, "\nPASS")
		return err
	}
	fmt.Fprintf(w, "\nFAIL: %d problems\n", len(r.Problems))
	for i, p := range r.Problems {
		if i == 20 {
			fmt.Fprintf(w, "  ... %d more\n", len(r.Problems)-i)
			break
		}
		fmt.Fprintln(w, "  - "+p)
	}
	return nil
}
