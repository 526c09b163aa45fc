package errs

import (
	"errors"
	"net/http"
)

// statuses is the one table from the error vocabulary to HTTP statuses,
// most specific first.
var statuses = []struct {
	err    error
	status int
}{
	{ErrInvalidInput, http.StatusBadRequest},
	{ErrUnauthenticated, http.StatusUnauthorized},
	{ErrForbidden, http.StatusForbidden},
	{ErrNotFound, http.StatusNotFound},
	{ErrConflict, http.StatusConflict},
	{ErrMarketClosed, http.StatusConflict},
	{ErrAlreadyResolved, http.StatusConflict},
	{ErrInvalidReference, http.StatusUnprocessableEntity},
	{ErrInsufficientCredits, http.StatusUnprocessableEntity},
	{ErrUnavailable, http.StatusServiceUnavailable},
}

// HTTPStatus returns the HTTP status for err: the status of the first
// sentinel err matches (see the table above), 500 for any other error, and
// 200 for nil.
func HTTPStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return s.status
		}
	}
	return http.StatusInternalServerError
}
