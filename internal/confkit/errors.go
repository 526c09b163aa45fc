package confkit

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every error that reports invalid
// configuration, so callers can tell bad configuration from I/O failures.
var ErrInvalid = errors.New("invalid configuration")

// FieldError reports one problem with one configuration key.
type FieldError struct {
	// Key is the dotted key path, e.g. "database.connection_pool.max_open_conns".
	Key string
	// Problem says what is wrong, in words an operator can act on.
	Problem string
}

// Error returns "key: problem".
func (e *FieldError) Error() string {
	if e.Key == "" {
		return e.Problem
	}
	return e.Key + ": " + e.Problem
}

// Is reports whether target is ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Errors is a list of configuration problems, reported together.
type Errors []*FieldError

// MaxReported is how many problems Errors.Error lists; it counts the
// others, so that a file full of mistakes gives a short message.
const MaxReported = 20

// Error lists the first MaxReported problems, one per line, then says how
// many more there are ("… and 80 more problems").
func (es Errors) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for i, e := range es {
		if i == MaxReported {
			more := len(es) - MaxReported
			fmt.Fprintf(&b, "\n  … and %d more %s", more, plural(more, "problem", "problems"))
			break
		}
		b.WriteString("\n  - ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// plural returns one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Is reports whether target is ErrInvalid.
func (es Errors) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the individual problems.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Add appends a problem for key.
func (es *Errors) Add(key, problem string) {
	*es = append(*es, &FieldError{Key: key, Problem: problem})
}

// Err returns es as an error, or nil when there is no problem.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
