// Package dbreport assembles what the operator needs to know about the
// database into one Report, for the ops listener's /debug/db page (HTML
// and JSON) and for `socialpredict db doctor`, so both show the same
// numbers and the same findings.
//
// Build reads every section on one handle: overview (engine, version,
// uptime, health checks, migrations), queries (pg_stat_statements, the
// process's slow statements and N+1 findings), connections, locks
// (blocked, blocking, long-running, idle-in-transaction and leaked
// transactions), indexes (unused, duplicate, invalid, missing, bloat),
// space, maintenance (vacuum, analyze, transaction-ID wraparound,
// sequences), replication and settings. Each section records why it does
// not apply (SQLite has no sessions to inspect, for one) or why it could
// not be read, and every judgement becomes a Finding with a status: fail is
// a problem, warn looks wrong, info is worth knowing.
//
// Actions are what an operator may do from the page: cancel or terminate a
// session, ANALYZE a table, reset pg_stat_statements, run SQLite's
// integrity_check.
//
// The SQL lives in database/diagnostics; this package only decides what to
// read and how to judge it.
package dbreport
