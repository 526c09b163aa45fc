// Package bench measures the money paths: PlaceBet throughput and latency at
// several worker counts, next to pgbench's tpcb-like script at the same
// client counts (PostgreSQL), next to the same bets placed through the real
// HTTP API server in process, driven by the vegeta load generator
// (Options.HTTP), and the resolution of a large market. Each run works in
// scratch databases (PostgreSQL: created on the server and dropped; SQLite:
// files in a directory beside sqlite.path, removed) and checks the money
// invariants afterwards. RunSuite is the whole performance suite (bench
// --all), against a given PostgreSQL or a throwaway cluster it starts
// (internal/pgcluster) and deletes.
package bench
