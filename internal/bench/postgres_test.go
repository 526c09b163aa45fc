package bench

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"socialpredict/database"
)

// TestPgBenchCommandKeepsThePasswordOutOfArgv: the command line of pgbench
// is readable by every local user (ps, /proc/PID/cmdline), so the password
// goes in PGPASSWORD and nowhere in argv (issue 9, item 15).
func TestPgBenchCommandKeepsThePasswordOutOfArgv(t *testing.T) {
	const pw = "s3cr:t@/?&=%x"
	esc := url.QueryEscape(pw)
	userInfo := url.UserPassword("app", pw).String() // app:s3cr:t%40%2F%3F&=%25x
	fields := database.DefaultConfig()
	fields.Driver, fields.Host, fields.Username, fields.Password, fields.SSLMode = database.DriverPostgres, "db.example.com", "app", pw, "require"
	withURL := func(u string) database.Config {
		c := database.DefaultConfig()
		c.Driver, c.URL = database.DriverPostgres, u
		return c
	}
	tests := []struct {
		name string
		cfg  database.Config
		// host, port and user the connection must keep.
		host string
		port uint16
		user string
	}{
		{"fields", fields, "db.example.com", 5432, "app"},
		{"url user info", withURL("postgres://" + userInfo + "@db.example.com:5433/app?sslmode=require"), "db.example.com", 5433, "app"},
		{"url parameter", withURL("postgres://app@db.example.com/app?sslmode=require&password=" + esc + "&application_name=x"), "db.example.com", 5432, "app"},
		{"url host list", withURL("postgres://" + userInfo + "@h1:5432,h2:5433/app?sslmode=require"), "h1", 5432, "app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newPgBench("/usr/bin/pgbench", tt.cfg.WithDatabase("scratch")).command(context.Background(), "-i", "-s", "1")
			for _, arg := range cmd.Args {
				for _, secret := range []string{pw, esc, userInfo, "s3cr"} {
					if strings.Contains(arg, secret) {
						t.Fatalf("argv %q holds the password (as %q)", cmd.Args, secret)
					}
				}
			}
			if n := slices.Index(cmd.Args, "-s"); n != 2 || cmd.Args[0] != "/usr/bin/pgbench" || len(cmd.Args) != 5 {
				t.Errorf("argv %q, want pgbench, the arguments, then the connection", cmd.Args)
			}
			var pgPasswords []string
			for _, kv := range cmd.Env {
				if v, ok := strings.CutPrefix(kv, "PGPASSWORD="); ok {
					pgPasswords = append(pgPasswords, v)
				}
			}
			if len(pgPasswords) != 1 || pgPasswords[0] != pw {
				t.Errorf("PGPASSWORD in the environment: %q, want exactly [%q]", pgPasswords, pw)
			}
			// libpq reads the connection as pgx does: same server, user and
			// database, the password from PGPASSWORD.
			t.Setenv("PGPASSWORD", pw)
			pc, err := pgconn.ParseConfig(cmd.Args[len(cmd.Args)-1])
			if err != nil {
				t.Fatalf("the connection does not parse: %v", err)
			}
			if pc.Host != tt.host || pc.Port != tt.port || pc.User != tt.user || pc.Database != "scratch" || pc.Password != pw || pc.TLSConfig == nil {
				t.Errorf("connection reads as host %q port %d user %q database %q password ok %v tls %v",
					pc.Host, pc.Port, pc.User, pc.Database, pc.Password == pw, pc.TLSConfig != nil)
			}
		})
	}
}

// TestPgBenchEnvReplacesAnInheritedPassword: the configured password wins
// over a PGPASSWORD inherited from the caller's environment, and without
// one the environment is left as it is.
func TestPgBenchEnvReplacesAnInheritedPassword(t *testing.T) {
	got := pgbenchEnv([]string{"PATH=/bin", "PGPASSWORD=old"}, "new")
	if !slices.Equal(got, []string{"PATH=/bin", "PGPASSWORD=new"}) {
		t.Errorf("env = %q", got)
	}
	if got := pgbenchEnv([]string{"PATH=/bin", "PGPASSWORD=old"}, ""); !slices.Equal(got, []string{"PATH=/bin", "PGPASSWORD=old"}) {
		t.Errorf("env without a password = %q", got)
	}
}
