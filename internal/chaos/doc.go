// Package chaos drives the real HTTP server with concurrent bettors (each
// bet with an Idempotency-Key, retried by the client on 503 as Retry-After
// says), records every request as the client saw it, and checks afterwards
// (Verify) that every acknowledged bet is in the database exactly once and
// nothing else is, that `db check` passes, that the API answered only 503
// with Retry-After when it could not serve (never another 5xx, never past
// the request deadline), and that the server's pool holds no broken
// connection.
//
// The package's end-to-end test runs the bettors against PostgreSQL, and
// through PgBouncer in the test command's second run.
package chaos
