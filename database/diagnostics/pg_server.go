package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ServerInfo is what a PostgreSQL server says about itself and the current
// database.
type ServerInfo struct {
	// Version is version()'s text; ServerVersion the short form ("15.4").
	Version       string `json:"version"`
	ServerVersion string `json:"server_version"`
	// VersionNum is server_version_num (150004 for 15.4).
	VersionNum int `json:"version_num"`
	// StartedAt is when the server started; Uptime how long ago.
	StartedAt time.Time     `json:"started_at"`
	Uptime    time.Duration `json:"uptime_ns"`
	// Database is the current database, DatabaseBytes its size on disk.
	Database      string `json:"database"`
	DatabaseBytes int64  `json:"database_bytes"`
	// User is the role the connection runs as; Superuser and Monitor tell
	// whether it sees every session (superuser or pg_read_all_stats).
	User      string `json:"user"`
	Superuser bool   `json:"superuser"`
	Monitor   bool   `json:"monitor"`
	// InRecovery is true on a standby (a read replica).
	InRecovery bool `json:"in_recovery"`
	// StatsReset is when the database's statistics were last reset (nil:
	// never).
	StatsReset *time.Time `json:"stats_reset,omitempty"`
}

// Server reads ServerInfo. On another engine than PostgreSQL it returns an
// error matching errors.ErrUnsupported; otherwise the query's error, wrapped.
func Server(ctx context.Context, db *gorm.DB) (*ServerInfo, error) {
	if err := requirePostgres(db, "server information"); err != nil {
		return nil, err
	}
	var row struct {
		ServerInfo
		UptimeS float64
	}
	err := db.WithContext(ctx).Raw(`
SELECT version() AS version, current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS version_num,
       pg_postmaster_start_time() AS started_at,
       EXTRACT(EPOCH FROM now() - pg_postmaster_start_time())::float8 AS uptime_s,
       current_database() AS database, pg_database_size(current_database()) AS database_bytes,
       current_user AS "user",
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') AS monitor,
       pg_is_in_recovery() AS in_recovery,
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset`).Scan(&row).Error
	if err != nil {
		return nil, fmt.Errorf("server information: %w", err)
	}
	info := row.ServerInfo
	info.Uptime = seconds(row.UptimeS)
	return &info, nil
}

// requirePostgres returns an error matching errors.ErrUnsupported when db
// is not PostgreSQL.
func requirePostgres(db *gorm.DB, what string) error {
	if name := db.Dialector.Name(); name != driverPostgres {
		return fmt.Errorf("%s: not on %s: %w", what, name, errors.ErrUnsupported)
	}
	return nil
}
