package database

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"socialpredict/internal/confkit"
)

// postgresURL returns the URL pgx connects with, password included. It must
// never be logged or put in an error: use Target for that.
func (c Config) postgresURL() string {
	if c.URL != "" {
		// Add the sslmode textually: url.Parse rejects host lists with ports.
		_, query, _ := strings.Cut(c.URL, "?")
		q, _ := url.ParseQuery(query)
		if q.Get("sslmode") != "" || c.SSLMode == "" {
			return c.URL
		}
		sep := "?"
		if strings.Contains(c.URL, "?") {
			sep = "&"
		}
		return c.URL + sep + "sslmode=" + url.QueryEscape(c.SSLMode)
	}
	u := url.URL{
		Scheme: "postgres",
		Host:   net.JoinHostPort(strings.Trim(c.Host, "[]"), strconv.Itoa(c.Port)),
		Path:   "/" + c.Database,
	}
	if c.Password != "" {
		u.User = url.UserPassword(c.Username, c.Password)
	} else if c.Username != "" {
		u.User = url.User(c.Username)
	}
	if c.SSLMode != "" {
		u.RawQuery = url.Values{"sslmode": {c.SSLMode}}.Encode()
	}
	return u.String()
}

// Address returns where the database is: host:port for PostgreSQL, the file
// path for SQLite. It never contains a secret.
func (c Config) Address() string {
	if c.driver() == DriverSQLite {
		return c.SQLite.Path
	}
	hosts, ports := c.postgresHosts()
	if len(hosts) == 0 {
		return "(invalid url)"
	}
	addrs := make([]string, len(hosts))
	for i := range hosts {
		addrs[i] = net.JoinHostPort(hosts[i], strconv.Itoa(int(ports[i])))
	}
	return strings.Join(addrs, ",")
}

// Target describes the database for log lines and errors, e.g.
// "postgres at db.example.com:5432" or "sqlite at ./socialpredict.db".
func (c Config) Target() string {
	return c.driver() + " at " + c.Address()
}

// RedactedDSN returns the connection string with the password masked.
func (c Config) RedactedDSN() string {
	if c.driver() == DriverSQLite {
		return c.SQLite.Path
	}
	return confkit.RedactURL(c.postgresURL())
}

// driver returns the configured driver, or the one Resolve would choose for
// a configuration built in code (where nothing records which keys were set:
// any PostgreSQL key that differs from DefaultConfig's counts as set, so
// build configurations from DefaultConfig).
func (c Config) driver() string {
	if c.Driver != "" {
		return c.Driver
	}
	cp := c
	d := DefaultConfig()
	cp.Resolve(func(key string) bool {
		switch key {
		case "url":
			return c.URL != d.URL
		case "host":
			return c.Host != d.Host
		case "port":
			return c.Port != d.Port
		case "database":
			return c.Database != d.Database
		case "username":
			return c.Username != d.Username
		case "password":
			return c.Password != d.Password
		case "ssl_mode":
			return c.SSLMode != d.SSLMode
		}
		return false
	})
	return cp.Driver
}

// WithDatabase returns the configuration for another database on the same
// PostgreSQL server (the name replaces the URL's path or database).
func (c Config) WithDatabase(name string) Config {
	if c.URL == "" {
		c.Database = name
		return c
	}
	base, query, _ := strings.Cut(c.URL, "?")
	if i := strings.Index(base, "://"); i >= 0 {
		if j := strings.Index(base[i+3:], "/"); j >= 0 {
			base = base[:i+3+j]
		}
	}
	c.URL = base + "/" + url.PathEscape(name)
	if query != "" {
		c.URL += "?" + query
	}
	return c
}

// LibpqConn returns the PostgreSQL URL to hand to libpq tools (pgbench,
// pg_dump) without its password, and the password apart ("" for none), to
// be passed in the PGPASSWORD environment variable: a command line is
// readable by every local user. The password is taken out of the URL's
// user information and out of a password= parameter (which libpq would
// prefer, so it wins here too); everything else is kept as it is.
func (c Config) LibpqConn() (conn, password string) {
	if c.URL == "" {
		password, c.Password = c.Password, ""
		return c.postgresURL(), password
	}
	return splitURLPassword(c.postgresURL())
}
