package server

import (
	"crypto/sha256"
	"sync"
	"time"

	"socialpredict/models"
)

// authCache remembers, for server.auth_cache_ttl, which user an API key
// belongs to, so that a request costs no key lookup query when the same key
// came recently. It stores SHA-256 hashes of keys, never keys, and only the
// user's identity (id, username, display name, type), never the balance.
// A revocation through this process empties it at once; a key revoked
// through another process keeps working here until its entry expires.
type authCache struct {
	ttl time.Duration
	max int

	mu  sync.Mutex
	m   map[[32]byte]authEntry
	gen uint64
}

type authEntry struct {
	user  *models.User
	until time.Time
}

// newAuthCache returns a cache of at most max entries; nil (no caching)
// when ttl is 0.
func newAuthCache(ttl time.Duration, max int) *authCache {
	if ttl <= 0 {
		return nil
	}
	return &authCache{ttl: ttl, max: max, m: map[[32]byte]authEntry{}}
}

// get returns the cached user of key (nil when absent or expired), the key's
// hash and the cache generation to pass to put.
func (c *authCache) get(key string, now time.Time) (*models.User, [32]byte, uint64) {
	h := sha256.Sum256([]byte(key))
	if c == nil {
		return nil, h, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[h]; ok && now.Before(e.until) {
		u := *e.user
		return &u, h, c.gen
	}
	return nil, h, c.gen
}

// put caches u for the key hash h, unless the cache was purged since get
// returned gen (a revocation raced with the lookup).
func (c *authCache) put(h [32]byte, u *models.User, gen uint64, now time.Time) {
	if c == nil {
		return
	}
	id := &models.User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, UserType: u.UserType}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			c.m = map[[32]byte]authEntry{}
		}
	}
	c.m[h] = authEntry{user: id, until: now.Add(c.ttl)}
}

// purge forgets every entry (after a key is revoked).
func (c *authCache) purge() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = map[[32]byte]authEntry{}
}
