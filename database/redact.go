package database

import (
	"strings"

	"socialpredict/internal/confkit"
)

// redactedError hides a secret in the message of the error it wraps, while
// errors.Is and errors.As still see the original.
type redactedError struct {
	err    error
	secret string
}

// Error returns the wrapped message with every occurrence of the secret masked.
func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, confkit.Masked)
}

// Unwrap returns the original error.
func (e *redactedError) Unwrap() error { return e.err }

// minRedactLen is the shortest secret redact masks: masking a short
// password wherever its text appears (in "user=postgres", say) would reveal
// more than it hides. pgx never puts the password in its errors; this is a
// second line of defence.
const minRedactLen = 8

// redact returns err with secret masked in its message; err itself when there
// is no secret to hide or err is nil.
func redact(err error, secret string) error {
	if err == nil || len(secret) < minRedactLen || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{err: err, secret: secret}
}
