package database

// Behind PgBouncer in transaction pooling mode a client connection is lent a
// server connection for one transaction at a time, so nothing that lives in
// a server session survives from one transaction to the next: named
// prepared statements (PgBouncer 1.18 has no max_prepared_statements),
// session-level SET, session-level advisory locks, temporary tables, LISTEN,
// cursors WITH HOLD. database.pgbouncer: true selects pgx's
// QueryExecModeExec (unnamed statements: parse, bind and execute in one
// round trip) and sends the migration commands, whose session-level
// advisory lock must be held for a whole run, to database.migrations_url.
// The README's "PgBouncer" section records the audit of the rest of the code.

// ForMigrations returns the configuration the migration commands connect
// with: the one in migrations_url when it is set (a direct connection,
// so not behind PgBouncer), otherwise c itself. direct reports whether the
// migration lock can be held on it: false only when c goes through
// PgBouncer and migrations_url is empty, and then a migration manager built
// on it must refuse to change the schema (migration.WithTransactionPooling).
func (c Config) ForMigrations() (cfg Config, direct bool) {
	if c.MigrationsURL == "" {
		return c, !c.PgBouncer
	}
	c.URL, c.MigrationsURL, c.PgBouncer = c.MigrationsURL, "", false
	// A migration run holds one connection, and a status read one more.
	c.ConnectionPool.MaxOpenConns = min(c.ConnectionPool.MaxOpenConns, 4)
	c.ConnectionPool.MaxIdleConns = min(c.ConnectionPool.MaxIdleConns, c.ConnectionPool.MaxOpenConns)
	return c, true
}

// Implications returns, for keys whose value has consequences worth showing
// beside it in `config show`, what the consequence is.
func (c Config) Implications() map[string]string {
	out := map[string]string{}
	if c.Driver != DriverPostgres {
		return out
	}
	if c.PgBouncer {
		out["pgbouncer"] = "(transaction pooling: unnamed statements, no session state; migrations need a direct connection)"
		if c.MigrationsURL == "" {
			out["migrations_url"] = "(empty behind PgBouncer: migrate commands and serve --migrate refuse; set a direct URL)"
		} else {
			out["migrations_url"] = "(migrate commands and serve --migrate connect here, not through PgBouncer)"
		}
	}
	return out
}
