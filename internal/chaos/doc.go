// Package chaos drives the real HTTP server with concurrent bettors (each
// bet with an Idempotency-Key, retried by the client on 503 as Retry-After
// says) while faults hit PostgreSQL: `pg_ctl restart -m fast` and
// `-m immediate` of a throwaway cluster (internal/pgcluster, never the
// shared server), network faults between the server and PostgreSQL
// (toxiproxy in-process: a latency spike, reset connections, a black hole)
// and pool exhaustion (a storm of readers). Every request is recorded by
// the client; afterwards Verify checks that every acknowledged bet is in
// the database exactly once and nothing else is, that `db check` passes,
// that the API answered only 503 with Retry-After when it could not serve
// (never another 5xx, never past the request deadline), that the first bet
// after each fault was acknowledged within MaxRecovery, and that the
// server's pool holds no broken connection.
//
// `socialpredict chaos` runs the full scenario (Full) and prints the
// report; TestChaosShort runs CI's (Short). The same bettors run end to end
// without faults in TestBettorsEndToEnd (through PgBouncer in the test
// command's second run), and on SQLite files that turn read-only or fill up.
package chaos
