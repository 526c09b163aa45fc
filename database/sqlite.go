package database

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/glebarez/sqlite" // pure-Go SQLite (modernc.org/sqlite), registers driver "sqlite"
	"gorm.io/gorm"
)

// sqliteDSN returns the data source name for the embedded database: WAL
// journal (readers never block the writer), foreign keys enforced, a busy
// timeout, and BEGIN IMMEDIATE for transactions, so that a transaction takes
// the write lock when it starts instead of failing with "database is locked"
// when it first writes while another connection writes.
func sqliteDSN(c SQLiteConfig) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", c.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
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
