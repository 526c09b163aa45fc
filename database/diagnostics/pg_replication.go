package diagnostics

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Replica is one standby streaming from this server (pg_stat_replication).
type Replica struct {
	Application string `json:"application"`
	Client      string `json:"client"`
	// State is "streaming", "catchup"...; SyncState "async", "sync"...
	State     string `json:"state"`
	SyncState string `json:"sync_state"`
	// LagBytes is the WAL not yet replayed by the standby; ReplayLag the
	// time its last replay took to catch up (nil when idle).
	LagBytes  int64          `json:"lag_bytes"`
	ReplayLag *time.Duration `json:"replay_lag_ns"`
}

// ReplicationSlot is one replication slot of the server. An inactive slot
// keeps every WAL file its consumer has not confirmed: it can fill the disk.
type ReplicationSlot struct {
	Name string `json:"name"`
	// Type is "physical" or "logical"; Database is set for logical slots.
	Type     string `json:"type"`
	Database string `json:"database,omitempty"`
	Active   bool   `json:"active"`
	// RetainedBytes is the WAL kept for it; WALStatus pg_replication_slots'
	// wal_status ("reserved", "extended", "unreserved", "lost").
	RetainedBytes int64  `json:"retained_bytes"`
	WALStatus     string `json:"wal_status"`
}

// ReplicationReport is the server's replication: its standbys and slots
// when it is a primary, its own lag when it is a standby.
type ReplicationReport struct {
	// InRecovery is true on a standby.
	InRecovery bool `json:"in_recovery"`
	// Replicas and Slots are empty when there are none.
	Replicas []Replica         `json:"replicas"`
	Slots    []ReplicationSlot `json:"slots"`
	// ReplayDelay is, on a standby, how long ago the last replayed
	// transaction committed on the primary (nil on a primary).
	ReplayDelay *time.Duration `json:"replay_delay_ns,omitempty"`
}

// Replication reads the server's replication state. On another engine it
// returns an error matching errors.ErrUnsupported; otherwise the query's
// error, wrapped.
func Replication(ctx context.Context, db *gorm.DB) (*ReplicationReport, error) {
	if err := requirePostgres(db, "replication"); err != nil {
		return nil, err
	}
	conn := db.WithContext(ctx)
	r := &ReplicationReport{Replicas: []Replica{}, Slots: []ReplicationSlot{}}
	if err := conn.Raw("SELECT pg_is_in_recovery()").Scan(&r.InRecovery).Error; err != nil {
		return nil, fmt.Errorf("replication: %w", err)
	}
	// The WAL position slots are measured from: written here on a primary,
	// received on a standby.
	current := "pg_current_wal_lsn()"
	if r.InRecovery {
		current = "pg_last_wal_receive_lsn()"
		var delay *float64
		if err := conn.Raw("SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8").Scan(&delay).Error; err != nil {
			return nil, fmt.Errorf("replication: %w", err)
		}
		if delay != nil {
			d := seconds(*delay)
			r.ReplayDelay = &d
		}
	}
	var replicas []struct {
		Application, Client, State, SyncState string
		LagBytes                              int64
		ReplayLagS                            *float64
	}
	err := conn.Raw(`
SELECT coalesce(application_name, '') AS application, coalesce(host(client_addr), 'local') AS client,
       coalesce(state, '') AS state, coalesce(sync_state, '') AS sync_state,
       coalesce(pg_wal_lsn_diff(` + current + `, replay_lsn), 0)::bigint AS lag_bytes,
       EXTRACT(EPOCH FROM replay_lag)::float8 AS replay_lag_s
FROM pg_stat_replication ORDER BY application, client`).Scan(&replicas).Error
	if err == nil {
		err = conn.Raw(`
SELECT slot_name AS name, slot_type AS type, coalesce(database::text, '') AS database, active,
       coalesce(pg_wal_lsn_diff(` + current + `, restart_lsn), 0)::bigint AS retained_bytes,
       coalesce(wal_status, '') AS wal_status
FROM pg_replication_slots ORDER BY retained_bytes DESC, name`).Scan(&r.Slots).Error
	}
	if err != nil {
		return nil, fmt.Errorf("replication: %w", err)
	}
	for _, rep := range replicas {
		x := Replica{Application: rep.Application, Client: rep.Client, State: rep.State, SyncState: rep.SyncState, LagBytes: rep.LagBytes}
		if rep.ReplayLagS != nil {
			d := seconds(*rep.ReplayLagS)
			x.ReplayLag = &d
		}
		r.Replicas = append(r.Replicas, x)
	}
	return r, nil
}
