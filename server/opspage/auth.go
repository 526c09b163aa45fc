package opspage

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"socialpredict/errs"
)

// caller is who sent a request, and how.
type caller struct {
	Principal
	// session is the sign-in when the request came with the cookie (nil
	// for a request with an Authorization header).
	session *session
}

// errNoCredential is matched by the error of a request without any.
var errNoCredential = errors.Join(errs.ErrUnauthenticated,
	errors.New("sign in with the admin API key or the ops token (Authorization: Bearer <key>)"))

// authenticate resolves a request's credential: the Authorization header
// first, then the session cookie. Errors match errs.ErrUnauthenticated or
// errs.ErrForbidden (a key that is not an admin's), or the authenticator's
// own (a database that is down).
func (h *Handler) authenticate(r *http.Request) (caller, error) {
	if hdr := r.Header.Get("Authorization"); hdr != "" {
		scheme, key, ok := strings.Cut(hdr, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
			return caller{}, errors.Join(errs.ErrUnauthenticated, errors.New(`the Authorization header must be "Bearer <key>"`))
		}
		p, err := h.principal(r.Context(), strings.TrimSpace(key))
		return caller{Principal: p}, err
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return caller{}, errNoCredential
	}
	ss := h.sessions.get(c.Value)
	if ss == nil {
		return caller{}, errors.Join(errs.ErrUnauthenticated, errors.New("the sign-in has expired: sign in again"))
	}
	p, err := h.principal(r.Context(), ss.key)
	return caller{Principal: p, session: ss}, err
}

// principal checks a key: the ops token (compared in constant time), or an
// admin's API key.
func (h *Handler) principal(ctx context.Context, key string) (Principal, error) {
	if h.o.OpsToken != "" {
		a, b := sha256.Sum256([]byte(key)), sha256.Sum256([]byte(h.o.OpsToken))
		if subtle.ConstantTimeCompare(a[:], b[:]) == 1 {
			return Principal{Name: "ops token"}, nil
		}
	}
	p, err := h.o.Authenticate(ctx, key)
	if errors.Is(err, errs.ErrUnauthenticated) {
		err = errors.Join(errs.ErrUnauthenticated, errors.New("the key is neither an API key nor the ops token"))
	}
	return p, err
}

// checkCSRF refuses a state-changing request sent from another site, and,
// for a request authenticated by the session cookie, one without the
// session's CSRF token (header X-CSRF-Token or form field csrf). Requests
// with an Authorization header carry no ambient credential: a browser never
// adds that header on its own.
func checkCSRF(r *http.Request, c caller) error {
	if !sameOrigin(r) {
		return errors.Join(errs.ErrForbidden, errors.New("cross-site request refused"))
	}
	if c.session == nil {
		return nil
	}
	token := r.Header.Get("X-CSRF-Token")
	if token == "" {
		token = r.PostFormValue("csrf")
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(c.session.csrf)) != 1 {
		return errors.Join(errs.ErrForbidden, errors.New("missing or wrong CSRF token: reload the page"))
	}
	return nil
}

// sameOrigin reports whether a request's Origin (when the browser sent one)
// is this host, and its Sec-Fetch-Site is not cross-site.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}
