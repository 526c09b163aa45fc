package database

import (
	"net"
	"net/url"
	"strconv"

	"socialpredict/internal/confkit"
)

// postgresURL returns the URL pgx connects with, password included. It must
// never be logged or put in an error: use Target for that.
func (c Config) postgresURL() string {
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil {
			return c.URL // Validate reports it; pgx will fail to parse it too.
		}
		q := u.Query()
		if q.Get("sslmode") == "" && c.SSLMode != "" {
			q.Set("sslmode", c.SSLMode)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	u := url.URL{
		Scheme: "postgres",
		Host:   net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
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
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil {
			return "(unparsable url)"
		}
		port := u.Port()
		if port == "" {
			port = "5432"
		}
		return net.JoinHostPort(c.hostOnly(), port)
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
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
// any PostgreSQL key that differs from its default counts as set).
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
		default:
			return c.SSLMode != d.SSLMode
		}
	})
	return cp.Driver
}
