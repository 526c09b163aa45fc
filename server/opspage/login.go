package opspage

import (
	"errors"
	"net/http"

	"socialpredict/errs"
)

// maxFormBytes bounds the sign-in and sign-out forms.
const maxFormBytes = 4 << 10

// login checks the key of the sign-in form and starts a session: the
// cookie carries a random id, the key stays in memory. A wrong key shows
// the form again with 401.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if !sameOrigin(r) {
		h.renderLogin(w, http.StatusForbidden, "cross-site sign-in refused")
		return
	}
	key := r.PostFormValue("key")
	if key == "" {
		h.renderLogin(w, http.StatusBadRequest, "enter the admin API key or the ops token")
		return
	}
	p, err := h.principal(r.Context(), key)
	if err != nil {
		status := statusOf(err)
		h.log.Warn("ops page sign-in refused", "remote", r.RemoteAddr, "status", status)
		msg := "that key was not accepted"
		switch {
		case errors.Is(err, errs.ErrForbidden):
			msg = "that API key is not an admin's"
		case status >= 500:
			msg = "the key could not be checked (is the database down? the ops token does not need it)"
		}
		h.renderLogin(w, status, msg)
		return
	}
	id, _ := h.sessions.create(key)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: Path, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(h.o.SessionTTL.Seconds())})
	h.log.Info("ops page sign-in", "by", p.Name, "admin", p.Admin, "remote", r.RemoteAddr)
	http.Redirect(w, r, Path, http.StatusSeeOther)
}

// logout ends the session (its CSRF token required) and clears the
// cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	c, err := h.authenticate(r)
	if err == nil {
		err = checkCSRF(r, c)
	}
	if err != nil && !errors.Is(err, errs.ErrUnauthenticated) {
		writeError(w, statusOf(err), publicMessage(err))
		return
	}
	if ck, cerr := r.Cookie(cookieName); cerr == nil {
		h.sessions.remove(ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Path, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: -1})
	if err == nil {
		h.log.Info("ops page sign-out", "by", c.Name, "remote", r.RemoteAddr)
	}
	http.Redirect(w, r, Path, http.StatusSeeOther)
}
