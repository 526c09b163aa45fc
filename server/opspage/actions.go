package opspage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"socialpredict/errs"
	"socialpredict/internal/dbreport"
)

// actionRequest is the body of POST /debug/db/actions.
type actionRequest struct {
	dbreport.Action
	// Confirm must be true: the page asks the operator first.
	Confirm bool `json:"confirm"`
}

// action runs an operator's action: authenticated, same-origin (and with
// the CSRF token for a cookie session), confirmed, the admin key for any
// action that changes something, and logged.
func (h *Handler) action(w http.ResponseWriter, r *http.Request) {
	c, err := h.authenticate(r)
	if err == nil {
		err = checkCSRF(r, c)
	}
	if err != nil {
		writeError(w, statusOf(err), publicMessage(err))
		return
	}
	var req actionRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "the body must be JSON: {\"action\": ..., \"pid\": ..., \"table\": ..., \"confirm\": true}: "+err.Error())
		return
	}
	a := req.Action
	switch {
	case !req.Confirm:
		writeError(w, http.StatusBadRequest, "confirm the action: send \"confirm\": true")
		return
	case !a.ReadOnly() && !c.Admin:
		h.log.Warn("ops action refused: needs the admin key", "action", a.String(), "by", c.Name, "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, "this action needs the admin key: sign in with it")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.o.ActionTimeout)
	defer cancel()
	start := time.Now()
	res, err := h.o.Source.Act(ctx, a)
	attrs := []any{"action", a.String(), "by", c.Name, "remote", r.RemoteAddr, "duration", time.Since(start).Round(time.Millisecond)}
	if err != nil {
		status := statusOf(err)
		if errors.Is(err, errs.ErrInvalidInput) || errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrConflict) || errors.Is(err, errs.ErrForbidden) {
			h.log.Warn("ops action failed", append(attrs, "error", err)...)
		} else {
			h.log.Error("ops action failed", append(attrs, "error", err)...)
		}
		// The caller is signed in: the database's own error helps them.
		msg := oneLine(err)
		if status >= 500 {
			msg = "the action failed: " + msg
		}
		writeError(w, status, msg)
		return
	}
	h.log.Info("ops action", append(attrs, "result", res.Message)...)
	writeJSON(w, http.StatusOK, res)
}
