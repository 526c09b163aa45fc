package service

import (
	"errors"
	"fmt"

	"socialpredict/repository"
)

// The service errors; match them with errors.Is. The repository's
// ErrNotFound, ErrConflict, ErrInvalidInput and ErrInsufficientCredits are
// returned as they are.
var (
	// ErrMarketClosed: the market no longer takes bets (its closing time has
	// passed, or it is closed or resolved).
	ErrMarketClosed = errors.New("market is closed")
	// ErrAlreadyResolved: the market was resolved before; nothing was paid.
	ErrAlreadyResolved = errors.New("market is already resolved")
	// ErrForbidden: the user may not do this (only a market's creator or an
	// admin resolves it).
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: the API key is unknown or revoked.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// InputError is invalid input, naming the field and the problem. It matches
// repository.ErrInvalidInput.
type InputError struct {
	Field   string
	Problem string
}

// Error returns "invalid input: field: problem".
func (e *InputError) Error() string {
	return fmt.Sprintf("%v: %s: %s", repository.ErrInvalidInput, e.Field, e.Problem)
}

// Is reports whether target is repository.ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == repository.ErrInvalidInput }

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// CheckRange returns an *InputError for field unless lo <= v <= hi, saying
// which bound v crosses ("must be at least 0, got -3"); nil otherwise.
func CheckRange(field string, v, lo, hi int64) error {
	switch {
	case v < lo:
		return invalid(field, "must be at least %d, got %d", lo, v)
	case v > hi:
		return invalid(field, "must be at most %d, got %d", hi, v)
	}
	return nil
}
