package server

import (
	"testing"
	"time"

	"socialpredict/models"
)

func TestAuthCache(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := newAuthCache(5*time.Second, 2)
	u := &models.User{ID: 7, Username: "u", UserType: models.UserTypeRegular, Balance: 123, Email: "e@x.io"}

	if got, _, _ := c.get("k1", now); got != nil {
		t.Fatal("hit on an empty cache")
	}
	_, h, gen := c.get("k1", now)
	c.put(h, u, gen, now)
	got, _, _ := c.get("k1", now.Add(4*time.Second))
	if got == nil || got.ID != 7 || got.Balance != 0 || got.Email != "" {
		t.Fatalf("cached user %+v: want id 7 without balance or email", got)
	}
	got.ID = 99 // callers get a copy
	if again, _, _ := c.get("k1", now); again.ID != 7 {
		t.Error("a caller changed the cached entry")
	}
	if got, _, _ := c.get("k1", now.Add(5*time.Second)); got != nil {
		t.Error("hit after the TTL")
	}

	// A purge between get and put (a revocation racing the lookup) wins.
	_, h, gen = c.get("k2", now)
	c.purge()
	c.put(h, u, gen, now)
	if got, _, _ := c.get("k2", now); got != nil {
		t.Error("an entry looked up before a purge was cached after it")
	}

	// Full: expired entries go first, then everything.
	for i, k := range []string{"a", "b", "c"} {
		_, h, gen := c.get(k, now)
		c.put(h, u, gen, now.Add(time.Duration(i)*time.Second))
	}
	if len(c.m) > 2 {
		t.Errorf("%d entries, max 2", len(c.m))
	}

	var off *authCache = newAuthCache(0, 10)
	_, h, gen = off.get("k", now)
	off.put(h, u, gen, now)
	if got, _, _ := off.get("k", now); got != nil || off != nil {
		t.Error("auth_cache_ttl 0 caches")
	}
	off.purge()
}
