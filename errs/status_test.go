package errs_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"socialpredict/errs"
)

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, http.StatusOK},
		{errs.Invalid("amount", "must be positive"), http.StatusBadRequest},
		{&errs.ConstraintError{Kind: errs.ErrConflict, Table: "users", Field: "username"}, http.StatusConflict},
		{&errs.ConstraintError{Kind: errs.ErrInvalidReference}, http.StatusUnprocessableEntity},
		{fmt.Errorf("%w: market 3", errs.ErrMarketClosed), http.StatusConflict},
		{fmt.Errorf("%w: market 3", errs.ErrAlreadyResolved), http.StatusConflict},
		{fmt.Errorf("%w: user 1", errs.ErrInsufficientCredits), http.StatusUnprocessableEntity},
		{errs.ErrNotFound, http.StatusNotFound},
		{errs.ErrForbidden, http.StatusForbidden},
		{errs.ErrUnauthenticated, http.StatusUnauthorized},
		{&errs.UnavailableError{Err: errors.New("connection refused")}, http.StatusServiceUnavailable},
		{errs.ErrUnsupportedMediaType, http.StatusUnsupportedMediaType},
		{errs.ErrRequestTimeout, http.StatusRequestTimeout},
		{errors.New("boom"), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		if got := errs.HTTPStatus(tc.err); got != tc.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestInputErrorNamesField(t *testing.T) {
	err := errs.Invalid("closes_at", "must be in the future")
	var ie *errs.InputError
	if !errors.As(err, &ie) || ie.Field != "closes_at" || !errors.Is(err, errs.ErrInvalidInput) {
		t.Fatalf("Invalid = %#v", err)
	}
	if got, want := err.Error(), "invalid input: closes_at: must be in the future"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
