package database

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	// GORM dialector over modernc.org/sqlite (SQLite compiled to pure Go),
	// which registers the database/sql driver "sqlite". Importing it turns on
	// three process-wide switches of modernc.org/sqlite in its init: see
	// docs/dependencies.md and TestSQLiteProcessSwitches.
	"github.com/libtnb/sqlite"
	"gorm.io/gorm"
	moderncsqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDSN returns the data source name for the embedded database: WAL
// journal (readers never block the writer), foreign keys enforced, a busy
// timeout, and BEGIN IMMEDIATE for transactions, so that a transaction takes
// the write lock when it starts instead of failing with "database is locked"
// when it first writes while another connection writes.
//
// Times are stored as text in the layout "2006-01-02 15:04:05.999999999-07:00"
// (_time_format=sqlite), the one the previous driver wrote, so that stored
// times keep comparing and sorting as text; the repositories store UTC, and
// _timezone=UTC reads every time back in UTC.
func sqliteDSN(c SQLiteConfig) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", c.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	return c.Path + "?" + q.Encode()
}

// openSQLite prepares the SQLite pool for cfg without connecting yet.
func openSQLite(cfg Config) (*sql.DB, gorm.Dialector, error) {
	dir := filepath.Dir(cfg.SQLite.Path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, nil, fmt.Errorf("directory %s of sqlite.path does not exist", dir)
	}
	db, err := sql.Open(sqlite.DriverName, sqliteDSN(cfg.SQLite))
	if err != nil {
		return nil, nil, err
	}
	return db, sqlite.Dialector{Conn: db}, nil
}

// SQLiteMaxParams returns how many parameters one SQLite statement may bind:
// the engine's SQLITE_LIMIT_VARIABLE_NUMBER (32766 unless lowered) on the
// connection of the transaction ctx carries, or on one taken from db's pool.
func SQLiteMaxParams(ctx context.Context, db *gorm.DB) (int, error) {
	if s := txFrom(ctx); s != nil {
		return moderncsqlite.Limit(s.conn, sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, -1)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return 0, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return 0, poolTimeout(ctx, err)
	}
	defer conn.Close()
	return moderncsqlite.Limit(conn, sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, -1)
}
