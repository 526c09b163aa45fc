// Package opspage is the operator's database page at /debug/db on the ops
// listener: an HTML page (html/template, with its stylesheet, script and
// icon embedded in the binary: no CDN, no build step) that shows the
// report of package dbreport and refreshes its numbers from the same
// report as JSON (?format=json, or Accept: application/json) without
// reloading, and the actions an operator expects (cancel or terminate a
// session, ANALYZE a table, reset pg_stat_statements, SQLite's
// integrity_check).
//
// Everything but the static assets needs a credential: the admin's API key
// or the ops token (server.ops_token), sent as "Authorization: Bearer
// <key>" or entered once in the page's sign-in form, which keeps it in this
// process's memory under a random session cookie (HttpOnly, SameSite=Strict,
// Path=/debug/db) for 12 hours. The ops token opens the page read-only;
// actions that change something need the admin key. Actions are POST
// requests with a JSON body that must say "confirm": true; with the session
// cookie they also need the session's CSRF token (X-CSRF-Token), and a
// request whose Origin is another site is refused. Every sign-in and every
// action is logged with who did it; keys and tokens never are.
package opspage
