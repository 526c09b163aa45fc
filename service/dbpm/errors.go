package dbpm

import "errors"

var (
	// ErrInvalidResult is returned by Resolve when the result is neither Yes
	// nor No (an N/A resolution refunds stakes and does not use DBPM).
	ErrInvalidResult = errors.New("invalid market result")
	// ErrInvalidBet is returned when a bet has an unknown outcome, an amount
	// that is not positive, a probability outside [0, 1] (or NaN), or when
	// the total volume exceeds MaxVolume.
	ErrInvalidBet = errors.New("invalid bet")
	// ErrInvalidProbability is returned when the final probability is
	// outside [0, 1] or NaN.
	ErrInvalidProbability = errors.New("invalid final probability")
)
