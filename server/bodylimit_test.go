package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"socialpredict/database/dbtest"
	"socialpredict/server"
)

// TestBodyLimit: max_body_bytes is the largest body accepted: a body of
// exactly that size is served, one byte more is 413, whether the client
// sends its length or streams it (chunked).
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	const limit = 1024
	e := newEnv(t, dbtest.SQLite)
	a := e.serve(func(c *server.Config) { c.MaxBodyBytes = limit })
	u := a.createUser("sizer")
	m := a.createMarket(u.Key, "How big?", 100*time.Hour)
	path := fmt.Sprintf("/v1/markets/%d/bets", m.ID)
	// body is a valid bet of n bytes (JSON padded with spaces).
	body := func(n int) string {
		b := `{"outcome":"YES","amount":1}`
		return b + strings.Repeat(" ", n-len(b))
	}
	for _, c := range []struct {
		name    string
		size    int
		chunked bool
		status  int
	}{
		{"at the limit", limit, false, http.StatusCreated},
		{"at the limit, chunked", limit, true, http.StatusCreated},
		{"one byte over", limit + 1, false, http.StatusRequestEntityTooLarge},
		{"one byte over, chunked", limit + 1, true, http.StatusRequestEntityTooLarge},
	} {
		var b any = body(c.size)
		if c.chunked {
			b = io.MultiReader(strings.NewReader(body(c.size))) // no length: sent chunked
		}
		r := a.do("POST", path, u.Key, b)
		if r.Status != c.status {
			t.Errorf("%s (%d bytes): %s, want %d", c.name, c.size, r, c.status)
		}
		if want := fmt.Sprintf("larger than %d bytes", limit); r.Status == 413 && !strings.Contains(r.str("detail"), want) {
			t.Errorf("%s: detail %q, want it to say %q", c.name, r.str("detail"), want)
		}
	}
}
