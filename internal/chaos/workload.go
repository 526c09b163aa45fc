package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Attempt is one HTTP request of a bettor, as the client saw it.
type Attempt struct {
	// Bettor is the bettor's index; Key the bet's Idempotency-Key.
	Bettor int
	Key    string
	// Start and End bound the request, End when the response (or the
	// error) came.
	Start, End time.Time
	// Status is the HTTP status, 0 when the request failed without one
	// (Err says why).
	Status int
	// RetryAfter is the Retry-After header, "" when absent.
	RetryAfter string
	Err        string
	// BetID is the bet of a 2xx answer, PlacedAt when the server placed
	// it (before Start: an earlier attempt placed it, this one replayed it).
	BetID    int64
	PlacedAt time.Time
}

// Bet is one logical bet: every attempt with the same Idempotency-Key.
type Bet struct {
	Bettor int
	UserID int64
	Key    string
	// Acked: some attempt got a 2xx with BetID.
	Acked bool
	BetID int64
	// Attempts made; Rejected when one got a 4xx (not retried).
	Attempts int
	Rejected bool
	// Replayed: acknowledged by a retry with a bet an earlier attempt had
	// placed (that attempt's answer was a 503 or was lost).
	Replayed bool
}

// Workload is a set of bettors betting through the HTTP API with
// Idempotency-Key and client retries; it records every request.
type Workload struct {
	srv     *Server
	http    *http.Client
	bettors []bettor
	markets []int64

	mu       sync.Mutex
	attempts []Attempt
	bets     []*Bet
}

type bettor struct {
	id  int64
	key string
}

// NewWorkload creates bettors users and markets markets through the API
// (as the admin and a market creator) on srv.
func NewWorkload(ctx context.Context, srv *Server, bettors, markets int) (*Workload, error) {
	w := &Workload{srv: srv, http: client(srv.RequestTimeout, bettors+4)}
	type created struct {
		ID     int64 `json:"id"`
		APIKey struct {
			Key string `json:"key"`
		} `json:"api_key"`
	}
	newUser := func(name string) (bettor, error) {
		var c created
		body := map[string]string{"username": name, "display_name": name, "email": name + "@example.com"}
		if err := w.setup(ctx, srv.AdminKey, "/v1/users", body, &c); err != nil {
			return bettor{}, err
		}
		return bettor{id: c.ID, key: c.APIKey.Key}, nil
	}
	creator, err := newUser("creator")
	if err != nil {
		return nil, err
	}
	for i := range bettors {
		b, err := newUser(fmt.Sprintf("bettor_%d", i))
		if err != nil {
			return nil, err
		}
		w.bettors = append(w.bettors, b)
	}
	for i := range markets {
		var m created
		body := map[string]any{"question_title": fmt.Sprintf("Chaos market %d", i), "closes_at": time.Now().Add(7 * 24 * time.Hour).UTC()}
		if err := w.setup(ctx, creator.key, "/v1/markets", body, &m); err != nil {
			return nil, err
		}
		w.markets = append(w.markets, m.ID)
	}
	return w, nil
}

// setup posts body as key and decodes the 2xx answer into out; it retries
// a 503 (the setup may meet a database that is still starting).
func (w *Workload) setup(ctx context.Context, key, path string, body, out any) error {
	b, _ := json.Marshal(body)
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.srv.API+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := w.http.Do(req)
		if err != nil {
			return fmt.Errorf("POST %s: %w", path, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode/100 == 2:
			return json.Unmarshal(data, out)
		case resp.StatusCode == http.StatusServiceUnavailable && attempt < 20:
			time.Sleep(500 * time.Millisecond)
		default:
			return fmt.Errorf("POST %s: %s: %s", path, resp.Status, data)
		}
	}
}

// Run runs the bettors until stop ends; each then finishes the bet it is
// placing, retrying until drain ends. Every request is recorded.
func (w *Workload) Run(stop, drain context.Context) {
	var wg sync.WaitGroup
	for i := range w.bettors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for seq := 0; stop.Err() == nil; seq++ {
				w.place(drain, i, fmt.Sprintf("chaos-%d-%d", i, seq), rng)
			}
		}()
	}
	wg.Wait()
}

// Bet sends one bet request (YES, 1 credit, on the first market) as
// bettor i with Idempotency-Key key, without retrying, and records it.
func (w *Workload) Bet(ctx context.Context, i int, key string) Attempt {
	b := w.newBet(i, key)
	body, _ := json.Marshal(map[string]any{"outcome": "YES", "amount": 1})
	return w.attempt(ctx, b, fmt.Sprintf("/v1/markets/%d/bets", w.markets[0]), body)
}

// newBet records a new logical bet.
func (w *Workload) newBet(i int, key string) *Bet {
	b := &Bet{Bettor: i, UserID: w.bettors[i].id, Key: key}
	w.mu.Lock()
	w.bets = append(w.bets, b)
	w.mu.Unlock()
	return b
}

// attempt sends one request of bet b and records it.
func (w *Workload) attempt(ctx context.Context, b *Bet, path string, body []byte) Attempt {
	a := w.post(ctx, b.Bettor, b.Key, path, body)
	w.mu.Lock()
	defer w.mu.Unlock()
	b.Attempts++
	w.attempts = append(w.attempts, a)
	switch {
	case a.Status/100 == 2 && a.BetID != 0:
		b.Acked, b.BetID = true, a.BetID
		b.Replayed = b.Attempts > 1 && a.PlacedAt.Before(a.Start)
	case a.Status/100 == 4:
		b.Rejected = true
	}
	return a
}

// place places one bet, retrying the same Idempotency-Key on 503, 5xx and
// transport errors (waiting what Retry-After says) until a 2xx, a 4xx, or
// drain's end.
func (w *Workload) place(drain context.Context, i int, key string, rng *rand.Rand) {
	b := w.newBet(i, key)
	outcome := "YES"
	if rng.IntN(2) == 0 {
		outcome = "NO"
	}
	market := w.markets[rng.IntN(len(w.markets))]
	body, _ := json.Marshal(map[string]any{"outcome": outcome, "amount": 1 + rng.IntN(5)})
	for drain.Err() == nil {
		a := w.attempt(drain, b, fmt.Sprintf("/v1/markets/%d/bets", market), body)
		if a.Status/100 == 2 || a.Status/100 == 4 {
			return
		}
		wait := 200 * time.Millisecond
		if secs, err := strconv.Atoi(a.RetryAfter); err == nil && secs > 0 {
			// Honour Retry-After, spread over a quarter more so that the
			// bettors do not come back all at once.
			wait = time.Duration(secs) * time.Second
			wait += time.Duration(rng.Int64N(int64(wait / 4)))
		}
		select {
		case <-drain.Done():
		case <-time.After(wait):
		}
	}
}

// post sends one bet request and records what came back.
func (w *Workload) post(ctx context.Context, i int, key, path string, body []byte) Attempt {
	a := Attempt{Bettor: i, Key: key, Start: time.Now()}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.srv.API+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+w.bettors[i].key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := w.http.Do(req)
	if err != nil {
		a.End, a.Err = time.Now(), err.Error()
		return a
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	a.End, a.Status, a.RetryAfter = time.Now(), resp.StatusCode, resp.Header.Get("Retry-After")
	if err != nil {
		a.Err = err.Error()
		return a
	}
	if resp.StatusCode/100 == 2 {
		var bet struct {
			ID       int64     `json:"id"`
			PlacedAt time.Time `json:"placed_at"`
		}
		if err := json.Unmarshal(data, &bet); err != nil {
			a.Err = "undecodable bet: " + err.Error()
		}
		a.BetID, a.PlacedAt = bet.ID, bet.PlacedAt
	} else if resp.StatusCode != http.StatusServiceUnavailable {
		a.Err = string(data)
	}
	return a
}

// Attempts returns a copy of every request recorded so far.
func (w *Workload) Attempts() []Attempt {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Attempt(nil), w.attempts...)
}

// Bets returns a copy of every logical bet.
func (w *Workload) Bets() []Bet {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Bet, len(w.bets))
	for i, b := range w.bets {
		out[i] = *b
	}
	return out
}

// FirstSuccessAfter returns the end of the first acknowledged bet (a 2xx
// with a bet) that came at or after t, and false when none has yet.
func (w *Workload) FirstSuccessAfter(t time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var first time.Time
	for _, a := range w.attempts {
		if a.Status/100 == 2 && a.BetID != 0 && !a.End.Before(t) && (first.IsZero() || a.End.Before(first)) {
			first = a.End
		}
	}
	return first, !first.IsZero()
}

// Key returns bettor i's API key.
func (w *Workload) Key(i int) string { return w.bettors[i].key }
