package diagnostics

import "fmt"

// The statuses of a Setting.
const (
	SettingOK   = "ok"
	SettingInfo = "info"
	SettingWarn = "warn"
)

// tempBytesWarn is how much a database may write to temporary files
// before work_mem looks too small.
const tempBytesWarn = 1 << 30

// Advise sets Status and Advice on each setting from the rules below,
// weighing them against sc, and returns settings. The reasons follow
// PostgreSQL's documentation (Server Configuration; Routine Vacuuming;
// Reliability and the Write-Ahead Log).
func Advise(settings []Setting, sc SettingsContext) []Setting {
	byName := map[string]*Setting{}
	for i := range settings {
		settings[i].Status, settings[i].Advice = SettingOK, ""
		byName[settings[i].Name] = &settings[i]
	}
	set := func(name, status, advice string) {
		if s, ok := byName[name]; ok {
			s.Status, s.Advice = status, advice
		}
	}
	value := func(name string) string {
		if s, ok := byName[name]; ok {
			return s.raw
		}
		return ""
	}
	number := func(name string) int64 {
		var n int64
		fmt.Sscan(value(name), &n)
		return n
	}
	if s, ok := byName["shared_buffers"]; ok && s.raw == s.boot {
		set("shared_buffers", SettingWarn, "still PostgreSQL's built-in 128MB, sized to start anywhere: on a dedicated server the documentation suggests about 25% of memory as a starting point (more rarely helps: PostgreSQL also relies on the OS cache)")
	}
	if sc.TempBytes > 0 {
		status := SettingInfo
		if sc.TempBytes >= tempBytesWarn {
			status = SettingWarn
		}
		set("work_mem", status, fmt.Sprintf("this database wrote %s to temporary files since statistics were reset: sorts and hashes larger than work_mem spill to disk (index builds count too, against maintenance_work_mem); raise it (it applies per sort or hash, per connection: mind max_connections × work_mem) or find the queries with log_temp_files", ByteSize(sc.TempBytes)))
	}
	maxConns, reserved := number("max_connections"), number("superuser_reserved_connections")
	switch {
	case sc.PoolMaxOpen > 0 && maxConns > 0 && int64(sc.PoolMaxOpen) > maxConns-reserved:
		set("max_connections", SettingWarn, fmt.Sprintf("this process's pool may open %d connections but the server accepts %d from ordinary roles (max_connections %d less %d reserved): new connections will be refused before the pool is full; lower database.connection_pool.max_open_conns",
			sc.PoolMaxOpen, maxConns-reserved, maxConns, reserved))
	case maxConns > 500:
		set("max_connections", SettingWarn, "every connection is a server process with its own memory, and snapshots get slower with many of them: beyond a few hundred, put a pooler (PgBouncer) in front and lower it")
	}
	if value("autovacuum") == "off" {
		set("autovacuum", SettingWarn, "autovacuum is off: dead rows are not cleaned up and planner statistics go stale unless VACUUM and ANALYZE run by hand; the documentation strongly recommends keeping it on (anti-wraparound vacuums still start at autovacuum_freeze_max_age)")
	}
	if value("track_counts") == "off" {
		set("track_counts", SettingWarn, "autovacuum needs these statistics to find the tables to vacuum, and without them the table and index usage on this page stays empty")
	}
	if value("synchronous_commit") == "off" {
		set("synchronous_commit", SettingWarn, "a crash can lose the last transactions the server already acknowledged (up to three times wal_writer_delay): bets and payouts a client saw succeed; the database stays consistent")
	}
	if value("fsync") == "off" {
		set("fsync", SettingWarn, "an operating-system crash or power loss can leave the database corrupted beyond repair: the documentation allows it only for data that can be rebuilt (a test cluster)")
	}
	if value("full_page_writes") == "off" {
		set("full_page_writes", SettingWarn, "a page half written when the machine crashed cannot be repaired from the WAL: the database can be corrupted; keep it on unless the file system prevents torn pages")
	}
	if value("idle_in_transaction_session_timeout") == "0" {
		set("idle_in_transaction_session_timeout", SettingInfo, "no limit: a client that leaves a transaction open holds its locks and holds back vacuum until it comes back; a timeout (a few minutes) ends such sessions")
	}
	return settings
}
