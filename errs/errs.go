package errs

import "errors"

// The sentinel errors. Each says the HTTP status HTTPStatus maps it to.
var (
	// ErrInvalidInput: a value breaks a rule (a field out of range, text
	// that cannot be stored, a CHECK or NOT NULL constraint), or a cursor,
	// filter or sort is malformed. 400 Bad Request. *InputError names the
	// field.
	ErrInvalidInput = errors.New("invalid input")
	// ErrUnauthenticated: the API key is missing, unknown or revoked.
	// 401 Unauthorized.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the caller may not do this (only a market's creator or an
	// admin resolves it). 403 Forbidden.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no row has the id, username or other key asked for.
	// 404 Not Found.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the row would duplicate a unique value (username, email,
	// API key, idempotency key, a second payout). 409 Conflict.
	ErrConflict = errors.New("conflict")
	// ErrMarketClosed: the market no longer takes bets (its closing time has
	// passed, or it is closed or resolved). 409 Conflict.
	ErrMarketClosed = errors.New("market is closed")
	// ErrAlreadyResolved: the market was resolved before; nothing was paid.
	// 409 Conflict.
	ErrAlreadyResolved = errors.New("market is already resolved")
	// ErrInvalidReference: the row refers to a row that does not exist (or a
	// row still referred to was to be deleted). 422 Unprocessable Content.
	ErrInvalidReference = errors.New("invalid reference")
	// ErrInsufficientCredits: the balance would fall below the allowed
	// floor; nothing was changed. 422 Unprocessable Content.
	ErrInsufficientCredits = errors.New("insufficient credits")
	// ErrUnavailable: the database could not be reached or went away; retry
	// later. *UnavailableError says whether the operation may have committed.
	// 503 Service Unavailable.
	ErrUnavailable = errors.New("database unavailable")
	// ErrIdempotencyKeyReused: an idempotency key was sent again with a
	// different request; nothing was changed. 422 Unprocessable Content.
	ErrIdempotencyKeyReused = errors.New("idempotency key reused with a different request")
	// ErrTooLarge: the request body is larger than the server accepts.
	// 413 Content Too Large.
	ErrTooLarge = errors.New("request body too large")
	// ErrMethodNotAllowed: the route exists, but not with this method.
	// 405 Method Not Allowed.
	ErrMethodNotAllowed = errors.New("method not allowed")
	// ErrUnsupportedMediaType: the request body is in a format the server
	// does not read (it reads JSON). 415 Unsupported Media Type.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrRequestTimeout: the request body did not arrive within the
	// server's read timeout. 408 Request Timeout.
	ErrRequestTimeout = errors.New("request timeout")
	// ErrRateLimited: the caller sent more requests than its rate limit
	// allows; retry after the time the response names. 429 Too Many Requests.
	ErrRateLimited = errors.New("rate limit exceeded")
)
