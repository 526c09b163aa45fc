package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// proxy is a toxiproxy TCP proxy (in this process) between the server and
// PostgreSQL, for network faults.
type proxy struct {
	p *toxiproxy.Proxy
}

// newProxy starts a proxy on a free loopback port to upstream (host:port).
func newProxy(upstream string) (*proxy, error) {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "postgres", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start the fault proxy: %w", err)
	}
	return &proxy{p: p}, nil
}

// Addr is the proxy's listen address.
func (p *proxy) Addr() string { return p.p.Listen }

// add adds a toxic (see toxiproxy's README for types and attributes).
func (p *proxy) add(name, typ, stream string, attrs map[string]any) error {
	b, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs})
	_, err := p.p.Toxics.AddToxicJson(strings.NewReader(string(b)))
	return err
}

// remove removes a toxic.
func (p *proxy) remove(name string) error {
	return p.p.Toxics.RemoveToxic(context.Background(), name)
}

// Stop closes the proxy and every connection through it.
func (p *proxy) Stop() { p.p.Stop() }

// readiness is one answer of /readyz.
type readiness struct {
	At     time.Time
	Status int
	State  string
	// PoolExhausted: the pool check said "exhausted".
	PoolExhausted bool
}

// readyWatcher polls /readyz and keeps every answer.
type readyWatcher struct {
	mu      sync.Mutex
	answers []readiness
}

// watchReady polls the ops listener's /readyz every interval until ctx
// ends.
func watchReady(ctx context.Context, ops string, interval time.Duration) *readyWatcher {
	rw := &readyWatcher{}
	c := &http.Client{Timeout: 2 * time.Second}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r := readiness{At: time.Now()}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ops+"/readyz", nil)
			resp, err := c.Do(req)
			if err != nil {
				continue
			}
			var body struct {
				State  string `json:"state"`
				Checks []struct {
					Name, Status, Message string
				} `json:"checks"`
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			_ = json.Unmarshal(data, &body)
			r.Status, r.State = resp.StatusCode, body.State
			for _, ch := range body.Checks {
				if ch.Name == "pool" && strings.HasPrefix(ch.Message, "exhausted") {
					r.PoolExhausted = true
				}
			}
			rw.mu.Lock()
			rw.answers = append(rw.answers, r)
			rw.mu.Unlock()
		}
	}()
	return rw
}

// between returns the answers in [from, to].
func (rw *readyWatcher) between(from, to time.Time) []readiness {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	var out []readiness
	for _, r := range rw.answers {
		if !r.At.Before(from) && !r.At.After(to) {
			out = append(out, r)
		}
	}
	return out
}

// states summarises answers as the sequence of states, e.g.
// "healthy > degraded > unhealthy (503) > healthy".
func states(rs []readiness) string {
	var out []string
	for _, r := range rs {
		s := r.State
		if s == "" {
			s = "?"
		}
		if r.Status != http.StatusOK {
			s += fmt.Sprintf(" (%d)", r.Status)
		}
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return strings.Join(out, " > ")
}

// seen reports whether state s comes in rs, and whether it comes after
// state first.
func seen(rs []readiness, first, then string) (sawFirst, sawThenAfter bool) {
	for _, r := range rs {
		switch {
		case r.State == first:
			sawFirst = true
		case r.State == then && sawFirst:
			sawThenAfter = true
		}
	}
	return sawFirst, sawThenAfter
}
