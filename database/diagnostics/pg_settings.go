package diagnostics

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"gorm.io/gorm"
)

// Setting is one server setting that matters to an operator, with advice
// when its value looks wrong.
type Setting struct {
	Name string `json:"name"`
	// Value is the value as SHOW prints it ("128MB"); Default the value
	// PostgreSQL starts with when nothing sets it, printed the same way.
	Value   string `json:"value"`
	Default string `json:"default"`
	// Source says where the value comes from: "default",
	// "configuration file", "database", "user"...
	Source string `json:"source"`
	// Description is pg_settings' short description.
	Description string `json:"description"`
	// Status is "ok", "info" (worth knowing) or "warn" (looks wrong);
	// Advice says why, after PostgreSQL's documentation.
	Status string `json:"status"`
	Advice string `json:"advice,omitempty"`

	raw, unit, boot string
}

// settingNames are the settings Settings reads, in the order it returns
// them.
var settingNames = []string{
	"shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size", "max_connections",
	"superuser_reserved_connections", "autovacuum", "track_counts", "autovacuum_freeze_max_age",
	"synchronous_commit", "fsync", "full_page_writes", "idle_in_transaction_session_timeout",
	"statement_timeout", "log_min_duration_statement", "shared_preload_libraries", "random_page_cost",
}

// SettingsContext is what the advice weighs settings against.
type SettingsContext struct {
	// PoolMaxOpen is the application's connection pool limit (0: unknown).
	PoolMaxOpen int
	// TempBytes is what the database's queries wrote to temporary files
	// since its statistics were reset (pg_stat_database.temp_bytes).
	TempBytes int64
}

// settingRow is one row of pg_settings.
type settingRow struct {
	Name, Value, Setting, Unit, BootVal, Source, ShortDesc string
}

// Settings reads the settings that matter and advises on each (see
// Advise). On another engine it returns an error matching
// errors.ErrUnsupported; otherwise the query's error, wrapped.
func Settings(ctx context.Context, db *gorm.DB, sc SettingsContext) ([]Setting, error) {
	if err := requirePostgres(db, "settings"); err != nil {
		return nil, err
	}
	var rows []settingRow
	conn := db.WithContext(ctx)
	err := conn.Raw(`
SELECT name, current_setting(name) AS value, setting, coalesce(unit, '') AS unit, coalesce(boot_val, '') AS boot_val,
       source, short_desc
FROM pg_settings WHERE name IN ?`, settingNames).Scan(&rows).Error
	if err == nil && sc.TempBytes == 0 {
		err = conn.Raw(`SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()`).Scan(&sc.TempBytes).Error
	}
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	slices.SortFunc(rows, func(a, b settingRow) int {
		return slices.Index(settingNames, a.Name) - slices.Index(settingNames, b.Name)
	})
	out := make([]Setting, 0, len(rows))
	for _, r := range rows {
		out = append(out, Setting{Name: r.Name, Value: r.Value, Source: r.Source, Description: r.ShortDesc,
			Default: formatSetting(r.BootVal, r.Unit), raw: r.Setting, unit: r.Unit, boot: r.BootVal})
	}
	return Advise(out, sc), nil
}

// formatSetting prints a raw pg_settings value in unit the way SHOW does
// ("16384" in "8kB" is "128MB").
func formatSetting(raw, unit string) string {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || unit == "" || n < 0 {
		return raw
	}
	mult := map[string]int64{"B": 1, "kB": 1 << 10, "8kB": 8 << 10, "16kB": 16 << 10, "MB": 1 << 20, "16MB": 16 << 20, "GB": 1 << 30}
	if m, ok := mult[unit]; ok {
		b := n * m
		for _, u := range []struct {
			name string
			size int64
		}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}} {
			if b >= u.size && b%u.size == 0 {
				return fmt.Sprintf("%d%s", b/u.size, u.name)
			}
		}
		return fmt.Sprintf("%dB", b)
	}
	if n == 0 && (unit == "ms" || unit == "s" || unit == "min") {
		return "0"
	}
	return raw + unit
}
