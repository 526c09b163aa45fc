package database

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// PingResult is what Ping learns about the database.
type PingResult struct {
	// Driver is the engine: postgres or sqlite.
	Driver string `json:"driver"`
	// ServerVersion is the server's version string (SQLite: the library's).
	ServerVersion string `json:"server_version"`
	// Latency is the median round-trip time of a trivial query.
	Latency time.Duration `json:"latency_ns"`
}

// pingSamples is how many round trips Ping times; it reports their median.
const pingSamples = 5

// Ping checks that db answers and reports its engine, server version and
// round-trip latency. It returns the first query error, wrapped.
func Ping(ctx context.Context, db *DB) (PingResult, error) {
	res := PingResult{Driver: db.Driver()}
	versionSQL := "SELECT sqlite_version()"
	if res.Driver == DriverPostgres {
		versionSQL = "SELECT current_setting('server_version')"
	}
	conn := db.gorm.WithContext(ctx)
	if err := conn.Raw(versionSQL).Scan(&res.ServerVersion).Error; err != nil {
		return res, fmt.Errorf("ping %s: read server version: %w", res.Driver, err)
	}
	samples := make([]time.Duration, 0, pingSamples)
	for range pingSamples {
		var one int
		start := time.Now()
		if err := conn.Raw("SELECT 1").Scan(&one).Error; err != nil {
			return res, fmt.Errorf("ping %s: %w", res.Driver, err)
		}
		samples = append(samples, time.Since(start))
	}
	slices.Sort(samples)
	res.Latency = samples[len(samples)/2]
	return res, nil
}
