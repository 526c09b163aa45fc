package cli_test

import (
	"errors"
	"strings"
	"testing"

	"socialpredict/database/dbtest"
	"socialpredict/migration"
)

// TestMigrateThroughPgBouncer: behind PgBouncer the migration commands
// refuse to change the schema until database.migrations_url names a direct
// connection (their session-level advisory lock would not hold), still
// read the status, and then migrate through that direct connection; config
// show says what database.pgbouncer implies, the password masked.
func TestMigrateThroughPgBouncer(t *testing.T) {
	cfg := dbtest.PgBouncerConfig(t, dbtest.Empty)
	env := map[string]string{"DATABASE_URL": cfg.URL, "SOCIALPREDICT_DATABASE_PGBOUNCER": "true"}

	_, _, err := run(t, env, "migrate", "up")
	if !errors.Is(err, migration.ErrTransactionPooling) || !strings.Contains(err.Error(), "database.migrations_url") {
		t.Fatalf("migrate up through PgBouncer: %v, want ErrTransactionPooling naming database.migrations_url", err)
	}
	if out, _, err := run(t, env, "migrate", "status"); err != nil || !strings.Contains(out, "pending") {
		t.Errorf("migrate status through PgBouncer = %q, %v; want the pending migrations", out, err)
	}

	env["SOCIALPREDICT_DATABASE_MIGRATIONS_URL"] = cfg.MigrationsURL
	if _, _, err := run(t, env, "migrate", "up"); err != nil {
		t.Fatalf("migrate up through migrations_url: %v", err)
	}
	if out, _, err := run(t, env, "migrate", "status"); err != nil || strings.Contains(out, "pending") {
		t.Errorf("migrate status after up = %q, %v; want nothing pending", out, err)
	}

	out, _, err := run(t, env, "config", "show")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"database.pgbouncer", "database.prepared_statements", "false", "derived (database.pgbouncer is true",
		"database.migrations_url", "connect here, not through PgBouncer"} {
		if !strings.Contains(out, want) {
			t.Errorf("config show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ":socialpredict_test@") {
		t.Errorf("config show prints a password:\n%s", out)
	}
}
