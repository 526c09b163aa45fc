// Package bench measures the money paths on a real PostgreSQL server:
// PlaceBet throughput and latency at several worker counts next to pgbench's
// tpcb-like script at the same client counts, and the resolution of a large
// market. Each run creates scratch databases on the server and drops them.
package bench
