package dbtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"socialpredict/database"
)

// sqliteTemplates holds, per Schema.Name, the bytes of a SQLite database
// file migrated to that schema (a *sqliteTemplate).
var sqliteTemplates sync.Map

// sqliteTemplate is one schema's migrated SQLite file, built once.
type sqliteTemplate struct {
	once  sync.Once
	image []byte
	err   error
}

// copySQLiteTemplate writes to path a SQLite database migrated to schema: a
// copy of a file migrated once per schema and process (SQLite's counterpart
// of the PostgreSQL template database). The copy is byte for byte what
// running schema.Migrate on an empty file gives, without running it again
// for every test.
func copySQLiteTemplate(path string, schema Schema) error {
	v, _ := sqliteTemplates.LoadOrStore(schema.Name, &sqliteTemplate{})
	tpl := v.(*sqliteTemplate)
	tpl.once.Do(func() { tpl.image, tpl.err = migrateSQLiteTemplate(schema) })
	if tpl.err != nil {
		return tpl.err
	}
	return os.WriteFile(path, tpl.image, 0o600)
}

// migrateSQLiteTemplate migrates an empty SQLite file to schema, closes it
// (which checkpoints the WAL into the file) and returns its bytes.
func migrateSQLiteTemplate(schema Schema) (image []byte, err error) {
	dir, err := os.MkdirTemp("", "socialpredict-sqlite-template")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := testConfig()
	cfg.Driver = database.DriverSQLite
	cfg.SQLite.Path = filepath.Join(dir, "template.db")
	ctx := context.Background()
	h, err := database.NewDatabase(ctx, cfg, database.WithLogger(Logger()))
	if err != nil {
		return nil, err
	}
	if err := schema.Migrate(ctx, h.GormDB()); err != nil {
		return nil, errors.Join(err, h.Close())
	}
	if err := h.Close(); err != nil {
		return nil, err
	}
	// The last connection's close checkpoints the WAL and deletes it; a WAL
	// left behind would hold part of the schema.
	if fi, err := os.Stat(cfg.SQLite.Path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("template %s: WAL not checkpointed on close (%d bytes)", cfg.SQLite.Path, fi.Size())
	}
	return os.ReadFile(cfg.SQLite.Path)
}
