package cli

import (
	"context"

	"socialpredict/config"
	"socialpredict/database"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
)

// openDB loads the configuration and opens the database it names. The
// caller closes the handle.
func (a *app) openDB(ctx context.Context) (*database.DB, *config.Loaded, error) {
	cfg, err := a.load()
	if err != nil {
		return nil, nil, err
	}
	db, err := database.NewDatabase(ctx, cfg.Database, database.WithLogger(a.logger(cfg)))
	if err != nil {
		return nil, nil, err
	}
	return db, cfg, nil
}

// openMigrations opens the database the migration commands connect to
// (database.migrations_url when set: a direct connection, never through
// PgBouncer) and returns a manager of the embedded migrations on it, and
// the function that closes it. Behind PgBouncer without migrations_url the
// manager reads the history but refuses to change the schema
// (migration.ErrTransactionPooling).
func (a *app) openMigrations(ctx context.Context, cfg *config.Loaded, opts ...migration.Option) (*migration.MigrationManager, func(), error) {
	mcfg, direct := cfg.Database.ForMigrations()
	db, err := database.NewDatabase(ctx, mcfg, database.WithLogger(a.logger(cfg)))
	if err != nil {
		return nil, nil, err
	}
	opts = append([]migration.Option{migration.WithLogger(a.logger(cfg))}, opts...)
	if !direct {
		opts = append(opts, migration.WithTransactionPooling())
	}
	return migration.NewMigrationManager(db.GormDB(), migrations.All(), opts...), func() { db.Close() }, nil
}
