package chaos

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Storm runs clients anonymous readers, each asking for a market (GET
// /v1/markets/{id}) again and again until ctx ends; every request is
// recorded (Bettor -1, Key "storm").
func (w *Workload) Storm(ctx context.Context, clients int) {
	c := client(w.srv.RequestTimeout, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := fmt.Sprintf("%s/v1/markets/%d", w.srv.API, w.markets[i%len(w.markets)])
			for ctx.Err() == nil {
				a := Attempt{Bettor: -1, Key: "storm", Start: time.Now()}
				// Not ctx: a request cut short by the storm's end would
				// look like a transport error.
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
				resp, err := c.Do(req)
				if err != nil {
					a.Err = err.Error()
				} else {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					a.Status, a.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
				}
				a.End = time.Now()
				w.mu.Lock()
				w.attempts = append(w.attempts, a)
				w.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
