package opspage

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"socialpredict/internal/dbreport"
)

// pageData is what the page template renders.
type pageData struct {
	R *dbreport.Report
	// Who is the caller; CanAct whether they may run the actions that
	// change something (the admin key).
	Who    Principal
	CanAct bool
	// CSRF is the session's token (empty without a session: actions from
	// the page then need a session).
	CSRF string
	// Refresh is the refresh interval in seconds (0: off).
	Refresh int
	// Asset is the query that versions the asset URLs.
	Asset string
	// PG is true on PostgreSQL.
	PG bool
}

// page serves the report: HTML, or JSON when asked. Without a credential
// it is 401 with the sign-in form (or a JSON error), and says nothing about
// the database.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	asJSON := wantsJSON(r)
	c, err := h.authenticate(r)
	if err != nil {
		status := statusOf(err)
		if asJSON {
			writeError(w, status, publicMessage(err))
			return
		}
		msg := ""
		if status != http.StatusUnauthorized || c.session != nil {
			msg = publicMessage(err)
		}
		h.renderLogin(w, status, msg)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.o.ReportTimeout)
	defer cancel()
	rep, err := h.o.Source.Report(ctx)
	if err != nil {
		h.log.Error("debug/db report failed", "error", err)
		writeError(w, http.StatusInternalServerError, "report failed; see the server log")
		return
	}
	if asJSON {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	d := pageData{R: rep, Who: c.Principal, CanAct: c.Admin, Refresh: int(h.o.Refresh.Seconds()),
		Asset: h.assetTag, PG: rep.Driver == "postgres"}
	if c.session != nil {
		d.CSRF = c.session.csrf
	}
	if s := r.URL.Query().Get("refresh"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 3600 {
			d.Refresh = n
		}
	}
	h.render(w, http.StatusOK, "page", d)
}

// loginData is what the sign-in template renders: nothing about the
// database.
type loginData struct {
	Message string
	Asset   string
}

// renderLogin shows the sign-in form with status.
func (h *Handler) renderLogin(w http.ResponseWriter, status int, message string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="socialpredict ops"`)
	}
	h.render(w, status, "login", loginData{Message: message, Asset: h.assetTag})
}

// render executes a template into a buffer, then writes it with the page's
// security headers: a template error is a 500, never half a page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		h.log.Error("debug/db page failed to render", "template", name, "error", err)
		writeError(w, http.StatusInternalServerError, "the page failed to render; see the server log")
		return
	}
	noStore(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
