package opspage

import (
	"encoding/json"
	"net/http"
	"strings"

	"socialpredict/errs"
)

// wantsJSON reports whether a request asks for JSON: ?format=json, or an
// Accept header that names application/json and not text/html.
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "html":
		return false
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// noStore marks a response as never to be cached.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// writeJSON writes v as indented JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// errorBody is the JSON of an error.
type errorBody struct {
	Error string `json:"error"`
}

// writeError writes {"error": message} with status; a 401 also says how to
// authenticate.
func writeError(w http.ResponseWriter, status int, message string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="socialpredict ops"`)
	}
	writeJSON(w, status, errorBody{Error: message})
}

// statusOf is the HTTP status of an error of the errs vocabulary.
func statusOf(err error) int { return errs.HTTPStatus(err) }

// publicMessage is what an error may say to a caller who has not signed
// in: the message, unless it is an unexpected (500) error.
func publicMessage(err error) string {
	if statusOf(err) == http.StatusInternalServerError {
		return "internal error; see the server log"
	}
	return oneLine(err)
}

// oneLine is an error's message on one line: errors.Join puts each joined
// message on a line of its own.
func oneLine(err error) string {
	var parts []string
	for p := range strings.SplitSeq(err.Error(), "\n") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ": ")
}
