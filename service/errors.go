package service

import (
	"socialpredict/errs"
	"socialpredict/models"
)

// The services return the errors of package errs: errs.ErrMarketClosed,
// errs.ErrAlreadyResolved, errs.ErrForbidden and errs.ErrUnauthenticated of their own, the
// repository's as they are, and *errs.InputError (ErrInvalidInput) naming
// the field of bad input, checked before anything reaches the database.

// checkText returns an *errs.InputError naming field when s cannot be
// stored as text (see models.TextProblem).
func checkText(field, s string) error {
	if p := models.TextProblem(s); p != "" {
		return invalid(field, "%s", p)
	}
	return nil
}

// invalid is errs.Invalid.
var invalid = errs.Invalid

// CheckRange returns an *errs.InputError for field unless lo <= v <= hi,
// saying which bound v crosses ("must be at least 0, got -3"); nil
// otherwise.
func CheckRange(field string, v, lo, hi int64) error {
	switch {
	case v < lo:
		return invalid(field, "must be at least %d, got %d", lo, v)
	case v > hi:
		return invalid(field, "must be at most %d, got %d", hi, v)
	}
	return nil
}
