package diagnostics

import (
	"strings"
	"testing"
)

// setting is a pg_settings row as Settings reads it.
func setting(name, raw, boot, unit string) Setting {
	return Setting{Name: name, Value: formatSetting(raw, unit), Default: formatSetting(boot, unit), raw: raw, boot: boot, unit: unit}
}

func TestAdvise(t *testing.T) {
	healthy := func() []Setting {
		return []Setting{
			setting("shared_buffers", "262144", "16384", "8kB"),
			setting("work_mem", "4096", "4096", "kB"),
			setting("max_connections", "100", "100", ""),
			setting("superuser_reserved_connections", "3", "3", ""),
			setting("autovacuum", "on", "on", ""),
			setting("track_counts", "on", "on", ""),
			setting("synchronous_commit", "on", "on", ""),
			setting("fsync", "on", "on", ""),
			setting("full_page_writes", "on", "on", ""),
			setting("idle_in_transaction_session_timeout", "300000", "0", "ms"),
		}
	}
	for _, c := range []struct {
		name       string
		change     map[string]string // setting: raw value
		sc         SettingsContext
		want       string // the setting advised on, "" for none
		status     string
		adviceHas  string
		defaultSet bool
	}{
		{name: "healthy", sc: SettingsContext{PoolMaxOpen: 25}},
		{name: "shared_buffers at its default", change: map[string]string{"shared_buffers": "16384"}, want: "shared_buffers", status: SettingWarn, adviceHas: "25% of memory"},
		{name: "temporary files", sc: SettingsContext{TempBytes: 2 << 30}, want: "work_mem", status: SettingWarn, adviceHas: "2.0 GB to temporary files"},
		{name: "a few temporary files", sc: SettingsContext{TempBytes: 1 << 20}, want: "work_mem", status: SettingInfo, adviceHas: "1.0 MB"},
		{name: "pool beyond max_connections", sc: SettingsContext{PoolMaxOpen: 98}, want: "max_connections", status: SettingWarn, adviceHas: "accepts 97"},
		{name: "max_connections in the thousands", change: map[string]string{"max_connections": "2000"}, want: "max_connections", status: SettingWarn, adviceHas: "pooler"},
		{name: "autovacuum off", change: map[string]string{"autovacuum": "off"}, want: "autovacuum", status: SettingWarn, adviceHas: "strongly recommends"},
		{name: "track_counts off", change: map[string]string{"track_counts": "off"}, want: "track_counts", status: SettingWarn, adviceHas: "autovacuum needs"},
		{name: "synchronous_commit off", change: map[string]string{"synchronous_commit": "off"}, want: "synchronous_commit", status: SettingWarn, adviceHas: "acknowledged"},
		{name: "fsync off", change: map[string]string{"fsync": "off"}, want: "fsync", status: SettingWarn, adviceHas: "corrupted"},
		{name: "full_page_writes off", change: map[string]string{"full_page_writes": "off"}, want: "full_page_writes", status: SettingWarn, adviceHas: "half written"},
		{name: "no idle-in-transaction timeout", change: map[string]string{"idle_in_transaction_session_timeout": "0"}, want: "idle_in_transaction_session_timeout", status: SettingInfo, adviceHas: "holds its locks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			list := healthy()
			for i := range list {
				if v, ok := c.change[list[i].Name]; ok {
					list[i].raw = v
				}
			}
			for _, s := range Advise(list, c.sc) {
				switch {
				case s.Name == c.want:
					if s.Status != c.status || !strings.Contains(s.Advice, c.adviceHas) {
						t.Errorf("%s: %s %q, want %s with %q", s.Name, s.Status, s.Advice, c.status, c.adviceHas)
					}
				case s.Status != SettingOK:
					t.Errorf("%s: %s %q, want ok", s.Name, s.Status, s.Advice)
				}
			}
		})
	}
}

func TestFormatSetting(t *testing.T) {
	for _, c := range []struct{ raw, unit, want string }{
		{"16384", "8kB", "128MB"}, {"4096", "kB", "4MB"}, {"65536", "kB", "64MB"}, {"524288", "8kB", "4GB"},
		{"1000", "kB", "1000kB"}, {"0", "ms", "0"}, {"-1", "ms", "-1"}, {"300000", "ms", "300000ms"},
		{"100", "", "100"}, {"on", "", "on"},
	} {
		if got := formatSetting(c.raw, c.unit); got != c.want {
			t.Errorf("formatSetting(%q, %q) = %q, want %q", c.raw, c.unit, got, c.want)
		}
	}
}

func TestBloatEstimate(t *testing.T) {
	// 10,000 rows of an 8-byte key in a B-tree at fillfactor 90: 16-byte
	// tuples + 4-byte line pointers, 8152 usable bytes a page: 28 leaf
	// pages and the metapage.
	idx := bloatRow{Rows: 10000, Pages: 290, BlockSize: 8192, Fillfactor: 90, Columns: 1, WithStats: 1, DataWidth: 8}
	b, ok := idx.estimate(true)
	if !ok || b.ExpectedBytes != 29*8192 || b.WastedBytes != (290-29)*8192 || b.WastedPct < 89 || b.WastedPct > 91 {
		t.Errorf("index estimate %+v", b)
	}
	// A table of 1,000 rows of 100 bytes: 24 + 104 + 4 bytes a row, 8168
	// usable bytes a page: 17 pages.
	tbl := bloatRow{Rows: 1000, Pages: 17, BlockSize: 8192, Fillfactor: 100, Columns: 3, WithStats: 3, DataWidth: 100}
	if b, ok := tbl.estimate(false); !ok || b.WastedBytes != 0 || b.ExpectedBytes != 17*8192 {
		t.Errorf("table estimate %+v", b)
	}
	for _, r := range []bloatRow{
		{Rows: -1, Pages: 10, BlockSize: 8192, Columns: 1, WithStats: 1}, // never analyzed
		{Rows: 10, Pages: 10, BlockSize: 8192, Columns: 2, WithStats: 1}, // a column without statistics
	} {
		if _, ok := r.estimate(false); ok {
			t.Errorf("estimate of %+v, want none", r)
		}
	}
}
