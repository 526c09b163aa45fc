// Package server is the HTTP server of `socialpredict serve`: the JSON API
// under /v1 (users, API keys, markets, bets, ledger, leaderboard) on the
// public listener, and the operator's endpoints (/metrics, /healthz,
// /readyz, /debug/db) on a separate ops listener that is never the public
// one.
//
// The API is registered with huma on the standard library's ServeMux, so the
// OpenAPI 3.1 document at /openapi.json is generated from the same
// registrations that serve requests. Every error is an RFC 9457 problem
// (application/problem+json) whose status and type come from the one table
// in package errs. Requests are authenticated by API key (Authorization:
// Bearer), rate limited per key, bounded in size and time, logged with a
// request id, counted in Prometheus metrics by route and status, and each is
// a query-monitoring scope (N+1 detection).
//
// The ops listener's /debug/db is the operator's database page (package
// opspage), over the report of internal/dbreport; it needs the admin's API
// key or server.ops_token.
//
// The server calls only package service (and reads its page and filter types
// from package repository); it never touches SQL.
package server
