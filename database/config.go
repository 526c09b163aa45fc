package database

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"socialpredict/internal/confkit"
)

// The drivers, as in database.driver.
const (
	// DriverPostgres is PostgreSQL through pgx, the production engine.
	DriverPostgres = "postgres"
	// DriverSQLite is the embedded SQLite, the default.
	DriverSQLite = "sqlite"
)

// Config is the `database` section of the configuration file. Every field
// documents its default (see DefaultConfig) and unit in its `doc` tag; the
// README's configuration reference is generated from those tags.
type Config struct {
	Driver   string `yaml:"driver" doc:"Database engine: postgres or sqlite. Empty: postgres when url or any of host, port, database, username, password, ssl_mode is set, otherwise sqlite (the embedded default)."`
	URL      string `yaml:"url" secret:"url" doc:"PostgreSQL URL (postgres://user:password@host:port/database?sslmode=...). When set, host, port, database, username and password are ignored; ssl_mode applies when the URL has no sslmode. Also read from $DATABASE_URL (below SOCIALPREDICT_DATABASE_URL)."`
	Host     string `yaml:"host" doc:"PostgreSQL server host name or IP address."`
	Port     int    `yaml:"port" doc:"PostgreSQL server TCP port (1-65535)."`
	Database string `yaml:"database" doc:"PostgreSQL database name."`
	Username string `yaml:"username" doc:"PostgreSQL user name."`
	Password string `yaml:"password" secret:"true" doc:"PostgreSQL password. Never printed: shown masked by config show and redacted from logs and errors."`
	SSLMode  string `yaml:"ssl_mode" doc:"PostgreSQL TLS mode: disable, allow, prefer, require, verify-ca or verify-full. Empty: disable for a loopback host (localhost, 127.0.0.0/8, ::1, a socket directory), require for any other host."`

	// PreparedStatements keeps pgx's per-connection cache of prepared
	// statements; turn it off behind PgBouncer in transaction mode.
	PreparedStatements bool `yaml:"prepared_statements" doc:"PostgreSQL: cache prepared statements per connection (pgx's statement cache: one round trip per repeated query). Set false behind PgBouncer in transaction pooling mode; queries then use unnamed statements. database.pgbouncer: true sets it false."`

	// PgBouncer says the connection goes through PgBouncer in transaction
	// pooling mode: no named prepared statements, and no session state
	// (migrations need MigrationsURL).
	PgBouncer bool `yaml:"pgbouncer" doc:"PostgreSQL: the connection goes through PgBouncer (1.18 or later) in transaction pooling mode. Implies prepared_statements false (pgx runs every query as an unnamed statement, QueryExecModeExec), and nothing may rely on session state: the migration commands (and serve --migrate) connect through migrations_url, and refuse when it is empty, since their session-level advisory lock would not survive transaction pooling."`
	// MigrationsURL is a direct connection for the migration commands.
	MigrationsURL string `yaml:"migrations_url" secret:"url" doc:"PostgreSQL URL the migration commands (migrate, serve --migrate) connect to instead of url/host: a direct connection to PostgreSQL, needed behind PgBouncer. Empty: the same connection as everything else. The password is masked like database.url's."`

	// Replicas are streaming replicas for the reads that may be stale
	// (see StaleOK): URLs of hot standbys of this database.
	Replicas []string `yaml:"replicas" secret:"url" doc:"PostgreSQL streaming replicas (hot standbys) of this database, as URLs (postgres://user:password@host:port/database), in YAML a list, in the environment a comma-separated list. Only reads chosen as stale-OK at their call site (market lists, leaderboards, public positions) go there, round robin among the replicas in rotation; transactions, money paths and a user's own data always use the writer. Passwords are masked like database.url's."`
	// MaxReplicaLag takes a replica further behind out of rotation.
	MaxReplicaLag time.Duration `yaml:"max_replica_lag" doc:"A replica further behind than this (now() - pg_last_xact_replay_timestamp() while it has WAL left to replay), or unreachable, or no longer a standby, is taken out of rotation and its reads go to the writer; it comes back when it has caught up (100ms to 1h)."`
	// ReplicaCheckInterval is how often the replicas' lag is measured.
	ReplicaCheckInterval time.Duration `yaml:"replica_check_interval" doc:"How often each replica's lag and reachability are measured (100ms to 1h)."`
	// ReadYourWrites is the window after a session's write during which its
	// stale-OK reads still go to the writer.
	ReadYourWrites time.Duration `yaml:"read_your_writes" doc:"After a user's write (any write transaction or statement of a request authenticated as that user), that user's stale-OK reads go to the writer for this long, so that a user always sees their own writes (0s to 1h; at least max_replica_lag)."`

	SQLite           SQLiteConfig      `yaml:"sqlite"`
	ConnectionPool   PoolConfig        `yaml:"connection_pool"`
	ConnectRetry     RetryConfig       `yaml:"connect_retry"`
	TransactionRetry TxRetryConfig     `yaml:"transaction_retry"`
	Monitoring       MonitoringConfig  `yaml:"monitoring"`
	HealthCheck      HealthCheckConfig `yaml:"health_check"`
	GroupCommit      GroupCommitConfig `yaml:"group_commit"`
}

// GroupCommitConfig configures group commit of bets on PostgreSQL (see
// Group): bets that arrive while earlier ones are being placed wait and go
// to the database together, one round trip and one transaction for many.
type GroupCommitConfig struct {
	Enabled     bool `yaml:"enabled" doc:"PostgreSQL: place concurrent bets together (group commit). A bet that finds fewer than max_in_flight batches running, none holding its market or user, goes at once and alone; the others wait for the next batch, placed in one round trip and one transaction, each bet accepted or refused exactly as if alone (an unexpected error places them again one by one). Bets inside a caller's transaction are never grouped. SQLite ignores it."`
	MaxBatch    int  `yaml:"max_batch" doc:"Most bets in one batch (1 to 1000)."`
	MaxInFlight int  `yaml:"max_in_flight" doc:"Most batches (a lone bet is a batch of one) running at once; more concurrent bets queue for the next batch (0 to 10000; 0: connection_pool.max_open_conns). Whatever the limit, a bet whose market or user a running batch holds queues for the next batch, where it would otherwise wait for the row lock; so with no limit, bets batch only where they contend (a hot market), and a lower limit batches more at the cost of parallelism."`
}

// SQLiteConfig configures the embedded SQLite engine.
type SQLiteConfig struct {
	Path        string        `yaml:"path" doc:"SQLite database file; created when missing. WAL mode, foreign keys on, write transactions BEGIN IMMEDIATE."`
	BusyTimeout time.Duration `yaml:"busy_timeout" doc:"How long a writer waits before failing with \"database is locked\" (retried as busy): for its turn in this process's write queue, then for the lock held by another process. 0: the queue waits without limit and SQLite fails at once (0s to 1h)."`
}

// PoolConfig sizes the connection pool (database/sql's settings).
type PoolConfig struct {
	MaxOpenConns    int           `yaml:"max_open_conns" doc:"Maximum open connections (1 to 10000). A pool that saturates PostgreSQL is small: about 2 x CPU cores of the server."`
	MaxIdleConns    int           `yaml:"max_idle_conns" doc:"Maximum idle connections kept open (0 to max_open_conns)."`
	ConnMaxLifetime time.Duration `yaml:"conn_max_lifetime" doc:"Connections older than this are closed and replaced (0: never; at most 8760h)."`
	ConnMaxIdleTime time.Duration `yaml:"conn_max_idle_time" doc:"Connections idle longer than this are closed (0: never; at most 8760h)."`
}

// RetryConfig controls the connection attempts made at startup.
type RetryConfig struct {
	Attempts       int           `yaml:"attempts" doc:"Connection attempts at startup before giving up (1 to 1000)."`
	InitialBackoff time.Duration `yaml:"initial_backoff" doc:"Nominal wait after the first failed attempt, doubled after each further failure; each actual wait is between half the nominal one and all of it (jitter). Greater than 0, at most 1h."`
	MaxBackoff     time.Duration `yaml:"max_backoff" doc:"Longest wait between two attempts (initial_backoff to 1h)."`
	AttemptTimeout time.Duration `yaml:"attempt_timeout" doc:"Time limit of one connection attempt (greater than 0, at most 1h)."`
}

// TxRetryConfig controls the rerun of transactions that fail with a
// serialization failure, a deadlock or SQLite busy.
type TxRetryConfig struct {
	Attempts       int           `yaml:"attempts" doc:"Runs of a transaction at most (1 to 100; 1: never retry)."`
	InitialBackoff time.Duration `yaml:"initial_backoff" doc:"Nominal wait before the first rerun, doubled for each further one (with jitter). Greater than 0, at most 1m."`
	MaxBackoff     time.Duration `yaml:"max_backoff" doc:"Longest wait between two runs (initial_backoff to 1m)."`
}

// MonitoringConfig controls query logging and monitoring.
type MonitoringConfig struct {
	SlowQueryThreshold time.Duration `yaml:"slow_query_threshold" doc:"Queries slower than this are logged as slow (0: off; at most 24h)."`
	EnableQueryLogging bool          `yaml:"enable_query_logging" doc:"Log every SQL statement (parameters as placeholders, never their values) at info level."`
	LogLevel           string        `yaml:"log_level" doc:"Level of the database logger: silent, error, warn or info."`
	LogQueryArgs       bool          `yaml:"log_query_args" doc:"Include query arguments in slow query logs. Off by default: arguments can hold personal data."`
	ExplainSlowQueries bool          `yaml:"explain_slow_queries" doc:"PostgreSQL: log the EXPLAIN plan of each slow SELECT (run in the background on another connection), its string literals masked unless log_query_args is on (the plan shows the arguments)."`
	NPlusOneThreshold  int           `yaml:"n_plus_one_threshold" doc:"Within one unit of work, the same query shape from the same call site more than this many times is reported as N+1 (0: off; at most 1000000)."`
	RecentSlowQueries  int           `yaml:"recent_slow_queries" doc:"How many of the latest slow queries are kept in memory for the ops listener's /debug/db: SQL with placeholders (never the parameter values), duration, rows, caller, operation id, error class and plan (0: none; at most 1000)."`
	RecentNPlusOne     int           `yaml:"recent_n_plus_one" doc:"How many of the latest N+1 findings are kept in memory for the ops listener's /debug/db (0: none; at most 1000)."`
}

// HealthCheckConfig controls database health checks.
type HealthCheckConfig struct {
	Interval time.Duration `yaml:"interval" doc:"How often background health checks run (greater than 0, at most 24h)."`
	Timeout  time.Duration `yaml:"timeout" doc:"Time limit of one health check (greater than 0, at most 1h)."`
	Retries  int           `yaml:"retries" doc:"Consecutive failed checks before the state changes (1 to 1000)."`
}

// DefaultConfig returns the configuration used when nothing is configured:
// the embedded SQLite database ./socialpredict.db.
func DefaultConfig() Config {
	return Config{
		Host:                 "localhost",
		Port:                 5432,
		Database:             "socialpredict",
		Username:             "postgres",
		PreparedStatements:   true,
		MaxReplicaLag:        5 * time.Second,
		ReplicaCheckInterval: time.Second,
		ReadYourWrites:       10 * time.Second,
		SQLite: SQLiteConfig{
			Path:        "./socialpredict.db",
			BusyTimeout: 5 * time.Second,
		},
		ConnectionPool: PoolConfig{
			MaxOpenConns:    25,
			MaxIdleConns:    10,
			ConnMaxLifetime: time.Hour,
			ConnMaxIdleTime: 30 * time.Minute,
		},
		ConnectRetry: RetryConfig{
			Attempts:       5,
			InitialBackoff: 250 * time.Millisecond,
			MaxBackoff:     5 * time.Second,
			AttemptTimeout: 5 * time.Second,
		},
		TransactionRetry: TxRetryConfig{
			Attempts:       4,
			InitialBackoff: 20 * time.Millisecond,
			MaxBackoff:     time.Second,
		},
		Monitoring: MonitoringConfig{
			SlowQueryThreshold: 200 * time.Millisecond,
			LogLevel:           "warn",
			NPlusOneThreshold:  10,
			RecentSlowQueries:  50,
			RecentNPlusOne:     50,
		},
		HealthCheck: HealthCheckConfig{
			Interval: 30 * time.Second,
			Timeout:  5 * time.Second,
			Retries:  3,
		},
		GroupCommit: GroupCommitConfig{
			Enabled:     true,
			MaxBatch:    64,
			MaxInFlight: 0,
		},
	}
}

var (
	sslModes  = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
	logLevels = []string{"silent", "error", "warn", "info"}
	// postgresKeys are the keys whose presence selects PostgreSQL when no driver is set.
	postgresKeys = []string{"url", "host", "port", "database", "username", "password", "ssl_mode"}
)

// URLReplaces lists the keys (below "database.") that database.url replaces.
var URLReplaces = []string{"host", "port", "database", "username", "password"}

// Resolve fills in the values that depend on others: the driver when empty
// (from which keys isSet reports as configured; isSet takes a key path below
// "database."), the ssl_mode when empty, and max_idle_conns when it was left
// at a default above max_open_conns. It returns, for each key it
// filled, why it chose that value.
func (c *Config) Resolve(isSet func(key string) bool) map[string]string {
	why := map[string]string{}
	if c.Driver == "" {
		c.Driver = DriverSQLite
		why["driver"] = "no PostgreSQL key is set"
		for _, k := range postgresKeys {
			if isSet(k) {
				c.Driver = DriverPostgres
				why["driver"] = "database." + k + " is set"
				break
			}
		}
	}
	if p := &c.ConnectionPool; !isSet("connection_pool.max_idle_conns") && p.MaxOpenConns >= 1 && p.MaxIdleConns > p.MaxOpenConns {
		p.MaxIdleConns = p.MaxOpenConns
		why["connection_pool.max_idle_conns"] = "default capped at connection_pool.max_open_conns"
	}
	if c.PgBouncer && c.PreparedStatements && !isSet("prepared_statements") {
		c.PreparedStatements = false
		why["prepared_statements"] = "database.pgbouncer is true: unnamed statements (pgx QueryExecModeExec), which transaction pooling allows"
	}
	if c.Driver == DriverPostgres && c.SSLMode == "" {
		hosts, _ := c.postgresHosts()
		c.SSLMode = "disable"
		why["ssl_mode"] = "loopback host " + strings.Join(hosts, ", ")
		if len(hosts) == 0 {
			c.SSLMode, why["ssl_mode"] = "require", "host not known"
		}
		for _, h := range hosts {
			if !IsLoopback(h) {
				c.SSLMode = "require"
				why["ssl_mode"] = "non-loopback host " + h
				break
			}
		}
	}
	return why
}

// Validate checks every value and returns all problems at once, each naming
// its key path ("database.port", ...): unknown names, malformed URLs and
// hosts, and numbers outside their documented ranges (see validateNumbers). It returns nil when c is valid; the
// error matches confkit.ErrInvalid.
func (c Config) Validate() error {
	var errs confkit.Errors
	add := func(key, format string, args ...any) { errs.Add("database."+key, fmt.Sprintf(format, args...)) }

	if c.Driver != "" && c.Driver != DriverPostgres && c.Driver != DriverSQLite {
		add("driver", "unknown driver %q (want postgres or sqlite)", c.Driver)
	}
	if c.Port < 1 || c.Port > 65535 {
		add("port", "must be between 1 and 65535, got %d", c.Port)
	}
	if c.SSLMode != "" && !slices.Contains(sslModes, c.SSLMode) {
		add("ssl_mode", "unknown mode %q (want one of %s)", c.SSLMode, strings.Join(sslModes, ", "))
	}
	if c.URL != "" {
		if problem := checkPostgresURL(c.URL); problem != "" {
			add("url", "%s", problem)
		}
		if c.Driver == DriverSQLite {
			add("url", "is a PostgreSQL URL but driver is sqlite")
		}
	} else if c.Driver == DriverPostgres {
		if problem := checkHost(c.Host); problem != "" {
			add("host", "%s", problem)
		}
	}
	if c.Driver != DriverPostgres {
		if strings.TrimSpace(c.SQLite.Path) == "" {
			add("sqlite.path", "must not be empty")
		} else if strings.ContainsAny(c.SQLite.Path, "?#") {
			add("sqlite.path", "must not contain ? or #")
		} else if c.SQLite.Path == ":memory:" || strings.HasPrefix(c.SQLite.Path, "file::memory:") {
			add("sqlite.path", "in-memory databases are not supported: each pooled connection would get its own empty database")
		}
	}
	if c.MigrationsURL != "" {
		if problem := checkPostgresURL(c.MigrationsURL); problem != "" {
			add("migrations_url", "%s", problem)
		}
		if c.Driver == DriverSQLite {
			add("migrations_url", "is a PostgreSQL URL but driver is sqlite")
		}
	}
	for i, r := range c.Replicas {
		if problem := checkPostgresURL(r); problem != "" {
			add("replicas", "replica %d %s", i+1, problem)
		}
	}
	if len(c.Replicas) > 0 && c.Driver == DriverSQLite {
		add("replicas", "are PostgreSQL streaming replicas but driver is sqlite")
	}
	if c.ReadYourWrites < c.MaxReplicaLag && c.ReadYourWrites >= 0 {
		add("read_your_writes", "must be at least max_replica_lag (%s), got %s: a replica that far behind may not have a user's write yet",
			confkit.FormatDuration(c.MaxReplicaLag), confkit.FormatDuration(c.ReadYourWrites))
	}
	if c.PgBouncer {
		if c.Driver == DriverSQLite {
			add("pgbouncer", "is a PostgreSQL setting but driver is sqlite")
		}
		if c.PreparedStatements {
			add("prepared_statements", "must be false when database.pgbouncer is true: PgBouncer's transaction pooling cannot keep named prepared statements")
		}
	}
	c.validateNumbers(&errs)
	if !slices.Contains(logLevels, c.Monitoring.LogLevel) {
		add("monitoring.log_level", "unknown level %q (want one of %s)", c.Monitoring.LogLevel, strings.Join(logLevels, ", "))
	}
	return errs.Err()
}

// checkPostgresURL returns what is wrong with a PostgreSQL URL, or "". The
// problem never quotes the URL, which may hold a password.
func checkPostgresURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse rejects host lists with ports (h1:5432,h2:5433), which
		// pgx accepts.
		if _, perr := pgconn.ParseConfig(s); perr != nil || !strings.HasPrefix(s, "postgres") {
			return "is not a valid URL"
		}
		return ""
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Sprintf("scheme must be postgres or postgresql, got %q", u.Scheme)
	}
	if u.Opaque != "" || !strings.HasPrefix(s, u.Scheme+"://") {
		return "must start with " + u.Scheme + "://"
	}
	if mode := u.Query().Get("sslmode"); mode != "" && !slices.Contains(sslModes, mode) {
		return fmt.Sprintf("unknown sslmode %q", mode)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port must be between 1 and 65535, got %q", p)
		}
	}
	return ""
}

// checkHost returns what is wrong with a PostgreSQL host, or "".
func checkHost(host string) string {
	h := strings.Trim(host, "[]")
	switch {
	case strings.TrimSpace(host) == "":
		return "must not be empty for the postgres driver (or set database.url)"
	case strings.HasPrefix(h, "/"):
		return "" // a Unix socket directory
	case strings.Contains(h, ":") && net.ParseIP(h) == nil:
		return "must be a host name or IP address; put the port in database.port"
	case strings.ContainsAny(h, " /?#@"):
		return "must be a host name or IP address"
	}
	return ""
}

// IsLoopback reports whether host is on this machine: localhost, a loopback
// IP address, or a Unix socket directory.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasPrefix(host, "/") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// postgresHosts returns the hosts the connection would use, and their ports,
// as pgx reads them (a URL's host list, a host= parameter, PGHOST).
func (c Config) postgresHosts() (hosts []string, ports []uint16) {
	if c.URL == "" {
		return []string{strings.Trim(c.Host, "[]")}, []uint16{uint16(c.Port)}
	}
	pc, err := pgconn.ParseConfig(c.URL)
	if err != nil {
		return nil, nil
	}
	hosts, ports = []string{pc.Host}, []uint16{pc.Port}
	for _, fb := range pc.Fallbacks {
		// sslmode=prefer lists each host twice (with and without TLS).
		if fb.Host != hosts[len(hosts)-1] || fb.Port != ports[len(ports)-1] {
			hosts, ports = append(hosts, fb.Host), append(ports, fb.Port)
		}
	}
	return hosts, ports
}
