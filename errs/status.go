package errs

import (
	"errors"
	"net/http"
)

// kinds is the one table from the error vocabulary to HTTP statuses and
// problem types (the stable last segment of an RFC 9457 "type" URI), most
// specific first.
var kinds = []struct {
	err    error
	status int
	typ    string
}{
	{ErrInvalidInput, http.StatusBadRequest, "invalid-input"},
	{ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{ErrForbidden, http.StatusForbidden, "forbidden"},
	{ErrNotFound, http.StatusNotFound, "not-found"},
	{ErrConflict, http.StatusConflict, "conflict"},
	{ErrMarketClosed, http.StatusConflict, "market-closed"},
	{ErrAlreadyResolved, http.StatusConflict, "already-resolved"},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, "too-large"},
	{ErrMethodNotAllowed, http.StatusMethodNotAllowed, "method-not-allowed"},
	{ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported-media-type"},
	{ErrRequestTimeout, http.StatusRequestTimeout, "request-timeout"},
	{ErrInvalidReference, http.StatusUnprocessableEntity, "invalid-reference"},
	{ErrInsufficientCredits, http.StatusUnprocessableEntity, "insufficient-credits"},
	{ErrIdempotencyKeyReused, http.StatusUnprocessableEntity, "idempotency-key-reused"},
	{ErrRateLimited, http.StatusTooManyRequests, "rate-limited"},
	{ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
}

// InternalType is the problem type of an error outside the vocabulary
// (status 500).
const InternalType = "internal"

// HTTPStatus returns the HTTP status for err: the status of the first
// sentinel err matches (see the table above), 500 for any other error, and
// 200 for nil.
func HTTPStatus(err error) int {
	status, _ := Classify(err)
	return status
}

// Classify returns the HTTP status and the problem type of err: those of
// the first sentinel err matches, else 500 and InternalType; 200 and "" for
// nil.
func Classify(err error) (status int, problemType string) {
	if err == nil {
		return http.StatusOK, ""
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.status, k.typ
		}
	}
	return http.StatusInternalServerError, InternalType
}

// ProblemTypes returns every problem type with its status, in table order
// and then InternalType, for documentation.
func ProblemTypes() []ProblemType {
	out := make([]ProblemType, 0, len(kinds)+1)
	for _, k := range kinds {
		out = append(out, ProblemType{Type: k.typ, Status: k.status, Title: k.err.Error()})
	}
	return append(out, ProblemType{Type: InternalType, Status: http.StatusInternalServerError, Title: "internal error"})
}

// ProblemType documents one problem type.
type ProblemType struct {
	// Type is the stable slug; Status the HTTP status; Title the sentinel's text.
	Type   string
	Status int
	Title  string
}
