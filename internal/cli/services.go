package cli

import (
	"context"

	"socialpredict/config"
	"socialpredict/dal"
	"socialpredict/database"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
	"socialpredict/service"
)

// openServices opens the configured database with a ready schema and
// returns the services on it; close the DAL when done. The embedded SQLite
// database migrates itself; a PostgreSQL database must already be current
// (run `socialpredict migrate up`), and is refused otherwise.
func (a *app) openServices(ctx context.Context) (*service.Services, *dal.DataAccessLayer, *config.Loaded, error) {
	db, cfg, err := a.openDB(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	log := a.logger(cfg)
	mgr := migration.NewMigrationManager(db.GormDB(), migrations.All(), migration.WithLogger(log))
	if cfg.Database.Driver == database.DriverSQLite {
		if _, err := mgr.Up(ctx); err != nil {
			db.Close()
			return nil, nil, nil, err
		}
	} else if err := mgr.CheckCurrent(ctx); err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	d := dal.New(db)
	return service.New(d, cfg.Economics), d, cfg, nil
}
