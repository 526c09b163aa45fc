package service

import (
	"socialpredict/errs"
	"socialpredict/models"
)

// The services return the errors of package errs: ErrMarketClosed,
// ErrAlreadyResolved, ErrForbidden and ErrUnauthenticated of their own, the
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
