package cli

import (
	"errors"
	"socialpredict/errs"
	"strings"
)

// FlagError reports a command-line flag with an invalid value, refused
// before the command did anything. Its message starts with the flag:
// "--markets must be at least 0, got -3".
type FlagError struct {
	// Flag is the flag's name, without the dashes ("markets").
	Flag string
	// Problem says what is wrong with its value.
	Problem string
	// Err is the underlying error (a *errs.InputError), or nil.
	Err error
}

// Error returns "--flag problem".
func (e *FlagError) Error() string { return "--" + e.Flag + " " + e.Problem }

// Unwrap returns the underlying error, so that errors.Is(err,
// errs.ErrInvalidInput) holds for an invalid option.
func (e *FlagError) Unwrap() error { return e.Err }

// flagError turns an *errs.InputError about an option into a FlagError
// naming the flag of the same name (initial_balance is --initial-balance);
// other errors are returned as they are.
func flagError(err error) error {
	var ie *errs.InputError
	if !errors.As(err, &ie) {
		return err
	}
	return &FlagError{Flag: strings.ReplaceAll(ie.Field, "_", "-"), Problem: ie.Problem, Err: err}
}
