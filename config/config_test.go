package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"socialpredict/config"
	"socialpredict/database"
	"socialpredict/internal/confkit"
)

// envMap is a fake environment, from key, value pairs.
func envMap(kv ...string) []string {
	env := []string{}
	for i := 0; i+1 < len(kv); i += 2 {
		env = append(env, kv[i]+"="+kv[i+1])
	}
	return env
}

// writeFile writes a configuration file into a temporary directory.
func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "socialpredict.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadPlanExampleVerbatim(t *testing.T) {
	l, err := config.Load("testdata/plan-example.yaml", envMap("POSTGRES_PASSWORD", "s3cret"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := database.DefaultConfig()
	want.Driver = database.DriverPostgres
	want.Password = "s3cret"
	want.SSLMode = "require"
	want.Monitoring.SlowQueryThreshold = time.Second
	want.Monitoring.EnableQueryLogging = true
	if diff := cmp.Diff(l.Database, want); diff != "" {
		t.Errorf("database config (-got +want):\n%s", diff)
	}
	for key, kind := range map[string]confkit.SourceKind{
		"database.password":                       confkit.FromFile,
		"database.driver":                         confkit.FromDerived,
		"database.connect_retry.attempts":         confkit.FromDefault,
		"database.health_check.interval":          confkit.FromFile,
		"database.monitoring.log_level":           confkit.FromFile,
		"log.level":                               confkit.FromDefault,
		"database.connection_pool.max_idle_conns": confkit.FromFile,
	} {
		if got := l.Sources[key].Kind; got != kind {
			t.Errorf("source of %s = %s, want %s", key, got, kind)
		}
	}
}

func TestLoadNoConfigIsEmbeddedSQLite(t *testing.T) {
	l, err := config.Load("", envMap())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if l.Database.Driver != database.DriverSQLite || l.Database.SQLite.Path != "./socialpredict.db" {
		t.Errorf("got driver %q path %q, want sqlite ./socialpredict.db", l.Database.Driver, l.Database.SQLite.Path)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"), envMap())
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want os.ErrNotExist", err)
	}
}

// problemKeys returns the key paths of every problem in err.
func problemKeys(t *testing.T, err error) []string {
	t.Helper()
	if !errors.Is(err, confkit.ErrInvalid) {
		t.Fatalf("err = %v, want one matching confkit.ErrInvalid", err)
	}
	var problems confkit.Errors
	if !errors.As(err, &problems) {
		t.Fatalf("err %T is not confkit.Errors", err)
	}
	keys := make([]string, len(problems))
	for i, p := range problems {
		keys[i] = p.Key
	}
	return keys
}

func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		env      []string
		wantKeys []string
		wantText string // a fragment of the message
	}{
		{"negative pool size", "database:\n  connection_pool:\n    max_open_conns: -1\n    max_idle_conns: 0\n",
			nil, []string{"database.connection_pool.max_open_conns"}, "at least 1"},
		{"idle above open", "database:\n  connection_pool:\n    max_open_conns: 5\n    max_idle_conns: 6\n",
			nil, []string{"database.connection_pool.max_idle_conns"}, "must not exceed"},
		{"negative idle", "database:\n  connection_pool:\n    max_idle_conns: -2\n",
			nil, []string{"database.connection_pool.max_idle_conns"}, "negative"},
		{"bad duration", "database:\n  connection_pool:\n    conn_max_lifetime: forever\n",
			nil, []string{"database.connection_pool.conn_max_lifetime"}, `invalid duration "forever"`},
		{"duration without unit", "database:\n  health_check:\n    interval: 30\n",
			nil, []string{"database.health_check.interval"}, "invalid duration"},
		{"negative duration", "database:\n  connection_pool:\n    conn_max_idle_time: -1m\n",
			nil, []string{"database.connection_pool.conn_max_idle_time"}, "negative"},
		{"zero timeout", "database:\n  health_check:\n    timeout: 0s\n",
			nil, []string{"database.health_check.timeout"}, "greater than 0"},
		{"unknown ssl_mode", "database:\n  host: db.example.com\n  ssl_mode: sometimes\n",
			nil, []string{"database.ssl_mode"}, `unknown mode "sometimes"`},
		{"port out of range", "database:\n  host: db\n  port: 70000\n",
			nil, []string{"database.port"}, "between 1 and 65535"},
		{"port zero", "database:\n  port: 0\n",
			nil, []string{"database.port"}, "between 1 and 65535"},
		{"port not a number", "database:\n  port: fivefour\n",
			nil, []string{"database.port"}, `invalid integer "fivefour"`},
		{"bad boolean", "database:\n  monitoring:\n    enable_query_logging: maybe\n",
			nil, []string{"database.monitoring.enable_query_logging"}, "invalid boolean"},
		{"unknown driver", "database:\n  driver: mysql\n",
			nil, []string{"database.driver"}, `unknown driver "mysql"`},
		{"unknown log level", "database:\n  monitoring:\n    log_level: loud\n",
			nil, []string{"database.monitoring.log_level"}, "unknown level"},
		{"retries zero", "database:\n  health_check:\n    retries: 0\n",
			nil, []string{"database.health_check.retries"}, "at least 1"},
		{"retry attempts zero", "database:\n  connect_retry:\n    attempts: 0\n",
			nil, []string{"database.connect_retry.attempts"}, "at least 1"},
		{"max backoff below initial", "database:\n  connect_retry:\n    initial_backoff: 2s\n    max_backoff: 1s\n",
			nil, []string{"database.connect_retry.max_backoff"}, "at least"},
		{"bad url scheme", "database:\n  url: mysql://u:pw@h/db\n",
			nil, []string{"database.url"}, "scheme must be postgres"},
		{"url with sqlite driver", "database:\n  driver: sqlite\n  url: postgres://h/db\n",
			nil, []string{"database.url"}, "driver is sqlite"},
		{"empty host", "database:\n  driver: postgres\n  host: \"\"\n",
			nil, []string{"database.host"}, "must not be empty"},
		{"empty sqlite path", "database:\n  sqlite:\n    path: \"\"\n",
			nil, []string{"database.sqlite.path"}, "must not be empty"},
		{"unknown log format", "log:\n  format: xml\n",
			nil, []string{"log.format"}, "unknown format"},
		{"unknown key", "database:\n  connection_pool:\n    max_open_con: 5\n",
			nil, []string{"database.connection_pool.max_open_con"}, `did you mean "max_open_conns"`},
		{"unknown top-level key", "databse:\n  host: x\n",
			nil, []string{"databse"}, `did you mean "database"`},
		{"unknown section key", "database:\n  pool:\n    size: 3\n",
			nil, []string{"database.pool"}, "unknown key"},
		{"mapping where a value belongs", "database:\n  port:\n    number: 5\n",
			nil, []string{"database.port"}, "expected a single value"},
		{"value where a mapping belongs", "database:\n  monitoring: loud\n",
			nil, []string{"database.monitoring"}, "expected a mapping"},
		{"missing value", "database:\n  port:\n",
			nil, []string{"database.port"}, "missing value"},
		{"unset variable", "database:\n  password: ${DB_SECRET_FOR_TEST}\n",
			nil, []string{"database.password"}, "DB_SECRET_FOR_TEST is not set"},
		{"malformed variable", "database:\n  password: ${OOPS\n",
			nil, []string{"database.password"}, "malformed variable reference"},
		{"yaml syntax", "database:\n  port: [1\n",
			nil, []string{""}, "yaml"},
		{"bad env override", "",
			[]string{"SOCIALPREDICT_DATABASE_PORT", "x"}, []string{"database.port"}, "SOCIALPREDICT_DATABASE_PORT"},
		{"duplicate key", "database:\n  host: a\n  host: b\n",
			nil, []string{"database.host"}, "duplicate key (lines 2 and 3)"},
		{"duplicate section", "database:\n  host: a\ndatabase:\n  port: 5\n",
			nil, []string{"database"}, "duplicate key"},
		{"second document", "database:\n  host: a\n---\ndatabase:\n  nonsense: 1\n",
			nil, []string{""}, "more than one YAML document"},
		{"merge key", "base: &b\n  host: x\n", nil, []string{"base"}, "unknown key"},
		{"misspelled environment variable", "",
			[]string{"SOCIALPREDICT_DATABASE_PROT", "6000"}, []string{"SOCIALPREDICT_DATABASE_PROT"}, `did you mean "SOCIALPREDICT_DATABASE_PORT"`},
		{"url without //", "database:\n  url: postgres:app:secret@h/db\n",
			nil, []string{"database.url"}, "must start with postgres://"},
		{"host with port", "database:\n  host: db:5433\n", nil, []string{"database.host"}, "database.port"},
		{"in-memory sqlite", "database:\n  sqlite:\n    path: \":memory:\"\n", nil, []string{"database.sqlite.path"}, "in-memory"},
		{"every problem at once", "database:\n  port: 0\n  ssl_mode: nope\n  nonsense: 1\n  connection_pool:\n    max_open_conns: -1\n  health_check:\n    interval: soon\n",
			nil, []string{"database.nonsense", "database.health_check.interval", "database.port", "database.ssl_mode", "database.connection_pool.max_open_conns"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.yaml)
			_, err := config.Load(path, envMap(tt.env...))
			got := problemKeys(t, err)
			if diff := cmp.Diff(got, tt.wantKeys); diff != "" {
				t.Errorf("problem keys (-got +want):\n%s\nerror: %v", diff, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
		})
	}
}

func TestLoadExpansion(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want string // database.password
	}{
		{"set variable", "database:\n  password: ${PW}\n", []string{"PW", "abc"}, "abc"},
		{"default when unset", "database:\n  password: ${PW:-fallback}\n", nil, "fallback"},
		{"default when empty", "database:\n  password: ${PW:-fallback}\n", []string{"PW", ""}, "fallback"},
		{"value over default", "database:\n  password: ${PW:-fallback}\n", []string{"PW", "real"}, "real"},
		{"empty but set", "database:\n  password: \"${PW}\"\n", []string{"PW", ""}, ""},
		{"embedded", "database:\n  password: pre-${PW}-post\n", []string{"PW", "x"}, "pre-x-post"},
		{"dollar escape", "database:\n  password: a$$b\n", nil, "a$b"},
		{"lone dollar kept", "database:\n  password: a$b\n", nil, "a$b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := config.Load(writeFile(t, tt.yaml), envMap(tt.env...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if l.Database.Password != tt.want {
				t.Errorf("password = %q, want %q", l.Database.Password, tt.want)
			}
		})
	}
}

func TestLoadExpansionOfOtherTypes(t *testing.T) {
	l, err := config.Load(writeFile(t, "database:\n  port: ${PGPORT_T:-6543}\n  connection_pool:\n    conn_max_lifetime: ${LIFE}\n"),
		envMap("LIFE", "2h"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if l.Database.Port != 6543 || l.Database.ConnectionPool.ConnMaxLifetime != 2*time.Hour {
		t.Errorf("port %d lifetime %s, want 6543 and 2h", l.Database.Port, l.Database.ConnectionPool.ConnMaxLifetime)
	}
}

func TestLoadEnvPrecedence(t *testing.T) {
	file := writeFile(t, "database:\n  host: file-host\n  port: 5433\n  url: postgres://file@file-url:5432/db\n  connection_pool:\n    max_open_conns: 7\n")
	tests := []struct {
		name       string
		env        []string
		wantURL    string
		wantPort   int
		wantOpen   int
		wantSource map[string]confkit.Source
	}{
		{"file only", nil, "postgres://file@file-url:5432/db", 5433, 7, map[string]confkit.Source{
			"database.url": {Kind: confkit.FromFile, Detail: file + ":4"},
		}},
		{"DATABASE_URL over file", []string{"DATABASE_URL", "postgres://env@env-url/db"}, "postgres://env@env-url/db", 5433, 7,
			map[string]confkit.Source{"database.url": {Kind: confkit.FromEnv, Detail: "DATABASE_URL"}}},
		{"prefixed over DATABASE_URL", []string{"DATABASE_URL", "postgres://env@env-url/db", "SOCIALPREDICT_DATABASE_URL", "postgres://pref@pref/db"},
			"postgres://pref@pref/db", 5433, 7, map[string]confkit.Source{"database.url": {Kind: confkit.FromEnv, Detail: "SOCIALPREDICT_DATABASE_URL"}}},
		{"nested key override", []string{"SOCIALPREDICT_DATABASE_CONNECTION_POOL_MAX_OPEN_CONNS", "30", "SOCIALPREDICT_DATABASE_PORT", "6000"},
			"postgres://file@file-url:5432/db", 6000, 30, map[string]confkit.Source{
				"database.connection_pool.max_open_conns": {Kind: confkit.FromEnv, Detail: "SOCIALPREDICT_DATABASE_CONNECTION_POOL_MAX_OPEN_CONNS"},
				"database.port": {Kind: confkit.FromEnv, Detail: "SOCIALPREDICT_DATABASE_PORT (ignored: database.url is set)"},
			}},
		{"empty variable ignored", []string{"SOCIALPREDICT_DATABASE_PORT", ""}, "postgres://file@file-url:5432/db", 5433, 7, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := config.Load(file, envMap(tt.env...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if l.Database.URL != tt.wantURL || l.Database.Port != tt.wantPort || l.Database.ConnectionPool.MaxOpenConns != tt.wantOpen {
				t.Errorf("got url %q port %d open %d, want %q %d %d", l.Database.URL, l.Database.Port,
					l.Database.ConnectionPool.MaxOpenConns, tt.wantURL, tt.wantPort, tt.wantOpen)
			}
			for key, want := range tt.wantSource {
				if got := l.Sources[key]; got != want {
					t.Errorf("source of %s = %v, want %v", key, got, want)
				}
			}
		})
	}
}

func TestLoadSSLModeDefault(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"loopback name", "database:\n  host: localhost\n", "disable"},
		{"loopback ip", "database:\n  host: 127.0.0.1\n", "disable"},
		{"loopback ipv6", "database:\n  host: \"::1\"\n", "disable"},
		{"socket directory", "database:\n  host: /var/run/postgresql\n", "disable"},
		{"remote host", "database:\n  host: db.example.com\n", "require"},
		{"remote url", "database:\n  url: postgres://u@db.example.com/x\n", "require"},
		{"explicit disable on remote host is honoured", "database:\n  host: db.example.com\n  ssl_mode: disable\n", "disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := config.Load(writeFile(t, tt.yaml), envMap())
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if l.Database.Driver != database.DriverPostgres || l.Database.SSLMode != tt.want {
				t.Errorf("driver %q ssl_mode %q, want postgres %q", l.Database.Driver, l.Database.SSLMode, tt.want)
			}
		})
	}
}

func TestShowMasksSecrets(t *testing.T) {
	file := writeFile(t, "database:\n  host: db.example.com\n  password: ${PW}\n")
	for _, env := range [][]string{
		{"PW", "hunter2-file"},
		{"PW", "x", "SOCIALPREDICT_DATABASE_PASSWORD", "hunter2-env"},
		{"PW", "x", "DATABASE_URL", "postgres://app:hunter2-url@db.example.com:5432/app"},
	} {
		l, err := config.Load(file, envMap(env...))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		var out strings.Builder
		if err := l.Show(&out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "hunter2") {
			t.Errorf("config show leaks a secret:\n%s", out.String())
		}
		for _, want := range []string{"database.password", confkit.Masked, "database.host", "db.example.com", file + ":2"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("config show lacks %q:\n%s", want, out.String())
			}
		}
	}
}

func TestLoadYAMLForms(t *testing.T) {
	l, err := config.Load(writeFile(t, "x-pool: &pool\n  max_open_conns: 7\n"[:0]+"database:\n  connection_pool: &pool\n    max_open_conns: 7\n    max_idle_conns: 2\n  host: &h db.example.com\nlog:\n  level: debug\n"), envMap())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if l.Database.ConnectionPool.MaxOpenConns != 7 || l.Database.Host != "db.example.com" {
		t.Errorf("got %+v", l.Database)
	}
	// An alias to an anchored value is followed.
	l, err = config.Load(writeFile(t, "database:\n  host: &h db.example.com\n  database: *h\n"), envMap())
	if err != nil || l.Database.Database != "db.example.com" {
		t.Errorf("alias: database %q, err %v", l.Database.Database, err)
	}
}

func TestLoadKeepsSpacesInPasswords(t *testing.T) {
	l, err := config.Load(writeFile(t, "database:\n  password: \"  two spaces  \"\n  port: \" 5433 \"\n"), envMap())
	if err != nil {
		t.Fatal(err)
	}
	if l.Database.Password != "  two spaces  " || l.Database.Port != 5433 {
		t.Errorf("password %q port %d", l.Database.Password, l.Database.Port)
	}
	l, err = config.Load("", envMap("SOCIALPREDICT_DATABASE_PASSWORD", " env pw "))
	if err != nil || l.Database.Password != " env pw " {
		t.Errorf("env password %q, err %v", l.Database.Password, err)
	}
}

func TestErrorsNeverQuoteSecrets(t *testing.T) {
	for _, body := range []string{
		"database:\n  password: \"ab${cd-SECRETX\"\n",
		"database:\n  password: \"pre${9SECRETX}post\"\n",
		"database:\n  url: \"postgres:app:SECRETX@h/db\"\n",
		"database:\n  url: \"mysql://app:SECRETX@h/db\"\n",
	} {
		_, err := config.Load(writeFile(t, body), envMap())
		if err == nil {
			t.Fatalf("%q loaded", body)
		}
		if strings.Contains(err.Error(), "SECRETX") {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
}

func TestShowMasksURLSecrets(t *testing.T) {
	for _, u := range []string{
		"postgres://app:SECRETX@db.example.com/x",
		"postgres://app@db.example.com/x?password=SECRETX&sslpassword=SECRETX",
		"postgres://app@db.example.com/x?PassWord=SECRETX",
	} {
		l, err := config.Load("", envMap("DATABASE_URL", u))
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		var out strings.Builder
		if err := l.Show(&out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "SECRETX") || !strings.Contains(out.String(), "db.example.com") {
			t.Errorf("config show for %s:\n%s", u, out.String())
		}
	}
}

func TestSSLModeFromURLHosts(t *testing.T) {
	for u, want := range map[string]string{
		"postgres://app@/x?host=db.example.com":      "require",
		"postgres://app@127.0.0.1,db.example.com/x":  "require",
		"postgres://app@127.0.0.1:5432,[::1]:5433/x": "disable",
		"postgres://app@LOCALHOST/x":                 "disable",
		"postgres://app@/x?host=/var/run/postgresql": "disable",
	} {
		l, err := config.Load("", envMap("DATABASE_URL", u))
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if l.Database.SSLMode != want {
			t.Errorf("%s: ssl_mode %q, want %q (%s)", u, l.Database.SSLMode, want, l.Sources["database.ssl_mode"])
		}
	}
}

// TestShowMasksOpsToken: server.ops_token is a secret like the password:
// masked by config show, never quoted by a validation error.
func TestShowMasksOpsToken(t *testing.T) {
	for _, c := range []struct {
		yaml string
		env  []string
	}{
		{"server:\n  ops_token: hunter2-ops-token-0123\n", nil},
		{"", []string{"SOCIALPREDICT_SERVER_OPS_TOKEN", "hunter2-ops-token-env0"}},
	} {
		l, err := config.Load(writeFile(t, c.yaml), envMap(c.env...))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		var out strings.Builder
		if err := l.Show(&out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "hunter2") || !strings.Contains(out.String(), "server.ops_token") {
			t.Errorf("config show of server.ops_token:\n%s", out.String())
		}
	}
	_, err := config.Load(writeFile(t, "server:\n  ops_token: hunter2\n"), envMap())
	if err == nil || !strings.Contains(err.Error(), "server.ops_token") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a short ops token: %v, want an error naming the key, not the token", err)
	}
}
