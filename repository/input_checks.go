package repository

import (
	"fmt"
	"time"
	"unicode/utf8"

	"socialpredict/errs"
	"socialpredict/models"
)

// maxFilterText is the longest text filter (prefix, search) accepted, in
// characters: longer patterns are refused before they reach the database,
// where SQLite fails on them ("LIKE or GLOB pattern too complex").
const maxFilterText = 200

// invalidField returns errs.ErrInvalidInput naming field and the problem.
func invalidField(field, problem string) error {
	return fmt.Errorf("%w: %s: %s", errs.ErrInvalidInput, field, problem)
}

// checkFilterText returns errs.ErrInvalidInput naming field when s is not text
// both engines store (see models.TextProblem) or is longer than
// maxFilterText.
func checkFilterText(field, s string) error {
	if p := models.TextProblem(s); p != "" {
		return invalidField(field, p)
	}
	if n := utf8.RuneCountInString(s); n > maxFilterText {
		return invalidField(field, fmt.Sprintf("must be at most %d characters, got %d", maxFilterText, n))
	}
	return nil
}

// checkTimeRange returns errs.ErrInvalidInput naming the bound (field_after or
// field_before) outside models.MinTime..models.MaxTime; nil bounds are not
// set.
func checkTimeRange(field string, after, before *time.Time) error {
	for _, b := range []struct {
		suffix string
		t      *time.Time
	}{{"_after", after}, {"_before", before}} {
		if b.t == nil {
			continue
		}
		if p := models.TimeProblem(*b.t); p != "" {
			return invalidField(field+b.suffix, p)
		}
	}
	return nil
}
