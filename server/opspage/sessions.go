package opspage

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// cookieName is the session cookie's name.
const cookieName = "sp_ops_session"

// maxSessions bounds the sign-ins kept in memory; the oldest goes first.
const maxSessions = 1000

// session is one browser's sign-in. The key stays in this process's memory
// only, so that every request re-checks it (a revoked admin key stops
// working at once).
type session struct {
	key     string
	csrf    string
	expires time.Time
}

// sessionStore keeps the sign-ins, keyed by the SHA-256 of their cookie.
// Its methods are safe for concurrent use.
type sessionStore struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[[32]byte]*session
}

func newSessionStore(ttl time.Duration) *sessionStore {
	return &sessionStore{ttl: ttl, m: map[[32]byte]*session{}}
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for key and returns its cookie value.
func (s *sessionStore) create(key string) (string, *session) {
	id := randomToken()
	ss := &session{key: key, csrf: randomToken(), expires: time.Now().Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	for len(s.m) >= maxSessions {
		var oldest [32]byte
		var at time.Time
		for k, v := range s.m {
			if at.IsZero() || v.expires.Before(at) {
				oldest, at = k, v.expires
			}
		}
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(id))] = ss
	return id, ss
}

// get returns the live session of a cookie value, or nil.
func (s *sessionStore) get(id string) *session {
	if id == "" {
		return nil
	}
	h := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[h]
	if ss == nil || time.Now().After(ss.expires) {
		delete(s.m, h)
		return nil
	}
	return ss
}

// remove ends the session of a cookie value.
func (s *sessionStore) remove(id string) {
	s.mu.Lock()
	delete(s.m, sha256.Sum256([]byte(id)))
	s.mu.Unlock()
}
