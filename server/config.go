package server

import (
	"fmt"
	"net"
	"time"

	"socialpredict/internal/confkit"
)

// Config is the `server` section of the configuration file.
type Config struct {
	Listen          string        `yaml:"listen" doc:"Address of the public API listener (host:port)."`
	OpsListen       string        `yaml:"ops_listen" doc:"Address of the ops listener (/metrics, /healthz, /readyz, /debug/db); empty disables it. Must differ from listen; keep it on loopback or a private network."`
	MaxBodyBytes    int64         `yaml:"max_body_bytes" doc:"Largest request body accepted, in bytes; larger ones get 413 (1 to 67108864)."`
	ReadTimeout     time.Duration `yaml:"read_timeout" doc:"Time allowed to read a whole request, headers and body (1s to 10m)."`
	WriteTimeout    time.Duration `yaml:"write_timeout" doc:"Time allowed from the end of the request headers to the end of the response (1s to 10m); longer than request_timeout."`
	IdleTimeout     time.Duration `yaml:"idle_timeout" doc:"How long an idle keep-alive connection stays open (1s to 1h)."`
	RequestTimeout  time.Duration `yaml:"request_timeout" doc:"Deadline of each request's database work; past it the request fails with 503 and its transaction rolls back (100ms to 5m)."`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" doc:"On SIGINT/SIGTERM, how long in-flight requests may take to finish before connections are closed (0s to 10m)."`
	AdminKeyFile    string        `yaml:"admin_key_file" doc:"Where the first start writes the bootstrap admin's API key (mode 0600), unless SOCIALPREDICT_ADMIN_KEY gives the key."`
	Debug           bool          `yaml:"debug" doc:"Add the number of SQL statements a request ran as the X-Statement-Count response header."`
	AuthCacheTTL    time.Duration `yaml:"auth_cache_ttl" doc:"How long this process remembers which user an API key belongs to, saving a query per request (0 disables, at most 1m). A key revoked through this process stops working at once; revoked through another process, it keeps working here until its entry expires."`
	OpsToken        string        `yaml:"ops_token" secret:"true" doc:"A token that opens the ops listener's /debug/db page read-only (Authorization: Bearer, or the page's sign-in form), for operators without the admin key; actions still need the admin key. Empty: only the admin key opens it. At least 16 characters; never printed."`
	RateLimit       RateLimit     `yaml:"rate_limit"`
	MaxPageSize     int           `yaml:"max_page_size" doc:"Largest page a list returns (1 to 500); a larger limit parameter is refused with 400."`
}

// RateLimit is the `server.rate_limit` section.
type RateLimit struct {
	Requests int           `yaml:"requests" doc:"Requests allowed per user, all their API keys together (anonymous requests: per client IP), in each window; 0 disables rate limiting (0 to 1000000)."`
	Window   time.Duration `yaml:"window" doc:"Length of the rate-limit window (1s to 1h)."`
	Admins   bool          `yaml:"admins" doc:"Rate-limit admins too (by default they are not)."`
}

// DefaultConfig is the server's configuration when nothing is set.
func DefaultConfig() Config {
	return Config{
		Listen: "127.0.0.1:8080", OpsListen: "127.0.0.1:9090", MaxBodyBytes: 64 << 10,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		RequestTimeout: 10 * time.Second, ShutdownTimeout: 20 * time.Second,
		AdminKeyFile: "socialpredict-admin.key", MaxPageSize: 100, AuthCacheTTL: 5 * time.Second,
		RateLimit: RateLimit{Requests: 600, Window: time.Minute},
	}
}

// Validate reports every invalid key; the error matches confkit.ErrInvalid.
func (c Config) Validate() error {
	var es confkit.Errors
	if err := checkAddr(c.Listen); err != "" {
		es.Add("server.listen", err)
	}
	if c.OpsListen != "" {
		if err := checkAddr(c.OpsListen); err != "" {
			es.Add("server.ops_listen", err)
		} else if c.OpsListen == c.Listen && !anyPort(c.Listen) {
			// Port 0 picks a free port for each: they differ.
			es.Add("server.ops_listen", "must differ from server.listen: ops endpoints are never on the public listener")
		}
	}
	es.CheckInt("server.max_body_bytes", c.MaxBodyBytes, 1, 64<<20)
	es.CheckDuration("server.read_timeout", c.ReadTimeout, time.Second, 10*time.Minute)
	es.CheckDuration("server.write_timeout", c.WriteTimeout, time.Second, 10*time.Minute)
	es.CheckDuration("server.idle_timeout", c.IdleTimeout, time.Second, time.Hour)
	es.CheckDuration("server.request_timeout", c.RequestTimeout, 100*time.Millisecond, 5*time.Minute)
	es.CheckDuration("server.shutdown_timeout", c.ShutdownTimeout, 0, 10*time.Minute)
	if c.WriteTimeout <= c.RequestTimeout {
		es.Add("server.write_timeout", fmt.Sprintf("must be longer than server.request_timeout (%s), got %s",
			confkit.FormatDuration(c.RequestTimeout), confkit.FormatDuration(c.WriteTimeout)))
	}
	if c.OpsToken != "" && len(c.OpsToken) < 16 {
		es.Add("server.ops_token", fmt.Sprintf("must be at least 16 characters (it guards the database page), got %d", len(c.OpsToken)))
	}
	if c.AdminKeyFile == "" {
		es.Add("server.admin_key_file", "must not be empty")
	}
	es.CheckDuration("server.auth_cache_ttl", c.AuthCacheTTL, 0, time.Minute)
	es.CheckInt("server.max_page_size", int64(c.MaxPageSize), 1, 500)
	es.CheckInt("server.rate_limit.requests", int64(c.RateLimit.Requests), 0, 1_000_000)
	es.CheckDuration("server.rate_limit.window", c.RateLimit.Window, time.Second, time.Hour)
	return es.Err()
}

// anyPort reports whether addr asks for any free port (port 0).
func anyPort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port == "0"
}

// checkAddr returns the problem with a host:port listen address, or "".
func checkAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("must be host:port, e.g. 127.0.0.1:8080 (%v)", err)
	}
	if port == "" {
		return "must name a port, e.g. 127.0.0.1:8080 (0 picks a free one)"
	}
	return ""
}
