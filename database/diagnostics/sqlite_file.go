package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"os"

	"gorm.io/gorm"
)

// SQLiteReport is what an SQLite database says about its file.
type SQLiteReport struct {
	// Version is sqlite_version(); Path the main database file.
	Version string `json:"version"`
	Path    string `json:"path"`
	// FileBytes, WALBytes and SHMBytes are the sizes of the database file,
	// its write-ahead log (-wal) and shared-memory index (-shm); 0 when
	// absent.
	FileBytes int64 `json:"file_bytes"`
	WALBytes  int64 `json:"wal_bytes"`
	SHMBytes  int64 `json:"shm_bytes"`
	// PageSize, PageCount and FreelistCount are the pragmas of the same
	// names: FreePct is the share of pages on the freelist (reclaimed by
	// VACUUM, or by auto_vacuum).
	PageSize      int64   `json:"page_size"`
	PageCount     int64   `json:"page_count"`
	FreelistCount int64   `json:"freelist_count"`
	FreePct       float64 `json:"free_pct"`
	// JournalMode ("wal"), AutoVacuum (0 none, 1 full, 2 incremental) and
	// Synchronous (0 off, 1 normal, 2 full, 3 extra) are the pragmas.
	JournalMode string `json:"journal_mode"`
	AutoVacuum  int    `json:"auto_vacuum"`
	Synchronous int    `json:"synchronous"`
	// Objects are the tables and indexes with their size (from the dbstat
	// virtual table) and, for tables, their rows; the largest first.
	Objects []SQLiteObject `json:"objects"`
	// Stat1 are the rows of sqlite_stat1, the statistics ANALYZE gathers
	// for the query planner (empty: never analyzed).
	Stat1 []SQLiteStat1 `json:"stat1"`
}

// SQLiteObject is one table or index of an SQLite database.
type SQLiteObject struct {
	Name string `json:"name"`
	// Type is "table" or "index"; Table the table an index belongs to.
	Type  string `json:"type"`
	Table string `json:"table"`
	// Bytes and Pages are its size.
	Bytes int64 `json:"bytes"`
	Pages int64 `json:"pages"`
	// Rows counts a table's rows (-1 for an index).
	Rows int64 `json:"rows"`
	// SQL is the statement that created it (empty for automatic indexes).
	SQL string `json:"sql"`
}

// SQLiteStat1 is one row of sqlite_stat1: for an index, the table's rows
// and then the average rows per distinct value of each leading column.
type SQLiteStat1 struct {
	Table string `json:"table"`
	Index string `json:"index"`
	Stat  string `json:"stat"`
}

// SQLiteFile reads the file, page and object statistics of an SQLite
// database. On another engine it returns an error matching
// errors.ErrUnsupported; otherwise the query's error, wrapped.
func SQLiteFile(ctx context.Context, db *gorm.DB) (*SQLiteReport, error) {
	if name := db.Dialector.Name(); name != driverSQLite {
		return nil, fmt.Errorf("sqlite file statistics: not on %s: %w", name, errors.ErrUnsupported)
	}
	conn := db.WithContext(ctx)
	r := &SQLiteReport{Objects: []SQLiteObject{}, Stat1: []SQLiteStat1{}}
	var files []struct {
		Seq        int
		Name, File string
	}
	steps := []func() error{
		func() error { return conn.Raw("SELECT sqlite_version()").Scan(&r.Version).Error },
		func() error { return conn.Raw("PRAGMA database_list").Scan(&files).Error },
		func() error { return conn.Raw("PRAGMA page_size").Scan(&r.PageSize).Error },
		func() error { return conn.Raw("PRAGMA page_count").Scan(&r.PageCount).Error },
		func() error { return conn.Raw("PRAGMA freelist_count").Scan(&r.FreelistCount).Error },
		func() error { return conn.Raw("PRAGMA journal_mode").Scan(&r.JournalMode).Error },
		func() error { return conn.Raw("PRAGMA auto_vacuum").Scan(&r.AutoVacuum).Error },
		func() error { return conn.Raw("PRAGMA synchronous").Scan(&r.Synchronous).Error },
		func() error {
			return conn.Raw(`
SELECT m.name, m.type, m.tbl_name AS "table", coalesce(m.sql, '') AS sql,
       coalesce(s.bytes, 0) AS bytes, coalesce(s.pages, 0) AS pages, -1 AS rows
FROM sqlite_master m
LEFT JOIN (SELECT name, sum(pgsize) AS bytes, count(*) AS pages FROM dbstat GROUP BY name) s ON s.name = m.name
WHERE m.type IN ('table', 'index') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY bytes DESC, m.name`).Scan(&r.Objects).Error
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("sqlite file statistics: %w", err)
		}
	}
	for i := range r.Objects {
		o := &r.Objects[i]
		if o.Type != "table" {
			continue
		}
		q := `SELECT count(*) FROM "` + replaceQuote(o.Name) + `"`
		if err := conn.Raw(q).Scan(&o.Rows).Error; err != nil {
			return nil, fmt.Errorf("sqlite file statistics: count %s: %w", o.Name, err)
		}
	}
	var hasStat1 bool
	if err := conn.Raw(`SELECT count(*) > 0 FROM sqlite_master WHERE name = 'sqlite_stat1'`).Scan(&hasStat1).Error; err != nil {
		return nil, fmt.Errorf("sqlite file statistics: %w", err)
	}
	if hasStat1 {
		if err := conn.Raw(`SELECT tbl AS "table", coalesce(idx, '') AS "index", stat FROM sqlite_stat1 ORDER BY tbl, idx`).Scan(&r.Stat1).Error; err != nil {
			return nil, fmt.Errorf("sqlite file statistics: %w", err)
		}
	}
	if r.PageCount > 0 {
		r.FreePct = 100 * float64(r.FreelistCount) / float64(r.PageCount)
	}
	for _, f := range files {
		if f.Name == "main" {
			r.Path = f.File
		}
	}
	if r.Path != "" {
		r.FileBytes, r.WALBytes, r.SHMBytes = fileSize(r.Path), fileSize(r.Path+"-wal"), fileSize(r.Path+"-shm")
	}
	return r, nil
}

// replaceQuote doubles the double quotes of an identifier.
func replaceQuote(s string) string {
	out := make([]byte, 0, len(s))
	for i := range len(s) {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// fileSize is the size of the file at path, 0 when it does not exist.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// IntegrityCheck runs PRAGMA integrity_check on an SQLite database and
// returns its findings: ["ok"] when the database is sound, otherwise up to
// 100 problems. It reads every page: seconds on a large database. On
// another engine it returns an error matching errors.ErrUnsupported;
// otherwise the query's error, wrapped.
func IntegrityCheck(ctx context.Context, db *gorm.DB) ([]string, error) {
	if name := db.Dialector.Name(); name != driverSQLite {
		return nil, fmt.Errorf("integrity_check: not on %s: %w", name, errors.ErrUnsupported)
	}
	var out []string
	if err := db.WithContext(ctx).Raw("PRAGMA integrity_check(100)").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("integrity_check: %w", err)
	}
	return out, nil
}
