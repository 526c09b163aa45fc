package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"socialpredict/database"
)

// scratch creates the empty scratch database name next to admin's and
// returns its configuration and the function that drops it: on PostgreSQL
// a database created on admin's server; on SQLite a file in a new
// directory beside admin's sqlite.path (the same file system as the real
// database, so that its fsyncs cost what they cost there).
func scratch(ctx context.Context, admin database.Config, name string) (database.Config, func(), error) {
	if admin.Driver != database.DriverSQLite {
		drop, err := createDatabase(ctx, admin, name)
		if err != nil {
			return database.Config{}, nil, err
		}
		return admin.WithDatabase(name), drop, nil
	}
	dir, err := os.MkdirTemp(filepath.Dir(admin.SQLite.Path), ".socialpredict-bench-")
	if err != nil {
		return database.Config{}, nil, fmt.Errorf("create the scratch directory beside sqlite.path: %w", err)
	}
	cfg := admin
	cfg.SQLite.Path = filepath.Join(dir, name+".db")
	return cfg, func() { _ = os.RemoveAll(dir) }, nil
}
