package diagnostics

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// ConnectionReport counts the client connections of the whole PostgreSQL
// server against its limit.
type ConnectionReport struct {
	// MaxConnections is max_connections; Reserved is
	// superuser_reserved_connections, which ordinary roles cannot use.
	MaxConnections int `json:"max_connections"`
	Reserved       int `json:"reserved"`
	// Total counts client backends (every database); UsedPct is Total
	// against MaxConnections - Reserved, in percent.
	Total   int     `json:"total"`
	UsedPct float64 `json:"used_pct"`
	// ByState counts them by state ("active", "idle", "idle in
	// transaction"...; "hidden" when the role may not see another role's
	// sessions).
	ByState []ConnectionCount `json:"by_state"`
	// BySource counts them by database, role, application and client
	// address, largest first (at most 50 rows).
	BySource []ConnectionSource `json:"by_source"`
}

// ConnectionCount is a number of connections in one state.
type ConnectionCount struct {
	State string `json:"state"`
	Count int    `json:"count"`
}

// ConnectionSource is a number of connections from one place.
type ConnectionSource struct {
	Database    string `json:"database"`
	User        string `json:"user"`
	Application string `json:"application"`
	// Client is the client's address, or "local" for a Unix socket.
	Client            string `json:"client"`
	Count             int    `json:"count"`
	Active            int    `json:"active"`
	IdleInTransaction int    `json:"idle_in_transaction"`
}

// Connections reads the server's client connections from pg_stat_activity.
// On another engine it returns an error matching errors.ErrUnsupported;
// otherwise the query's error, wrapped.
func Connections(ctx context.Context, db *gorm.DB) (*ConnectionReport, error) {
	if err := requirePostgres(db, "connections"); err != nil {
		return nil, err
	}
	conn := db.WithContext(ctx)
	r := &ConnectionReport{ByState: []ConnectionCount{}, BySource: []ConnectionSource{}}
	var head struct{ MaxConnections, Reserved, Total int }
	err := conn.Raw(`
SELECT current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS total`).Scan(&head).Error
	r.MaxConnections, r.Reserved, r.Total = head.MaxConnections, head.Reserved, head.Total
	if err == nil {
		err = conn.Raw(`
SELECT coalesce(state, 'hidden') AS state, count(*) AS count
FROM pg_stat_activity WHERE backend_type = 'client backend'
GROUP BY 1 ORDER BY 2 DESC, 1`).Scan(&r.ByState).Error
	}
	if err == nil {
		err = conn.Raw(`
SELECT coalesce(datname, '') AS database, coalesce(usename::text, '') AS "user",
       coalesce(application_name, '') AS application,
       coalesce(host(client_addr), CASE WHEN client_port = -1 THEN 'local' ELSE 'hidden' END, 'hidden') AS client,
       count(*) AS count, count(*) FILTER (WHERE state = 'active') AS active,
       count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_transaction
FROM pg_stat_activity WHERE backend_type = 'client backend'
GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2, 3, 4 LIMIT 50`).Scan(&r.BySource).Error
	}
	if err != nil {
		return nil, fmt.Errorf("connections: %w", err)
	}
	if usable := r.MaxConnections - r.Reserved; usable > 0 {
		r.UsedPct = 100 * float64(r.Total) / float64(usable)
	}
	return r, nil
}
