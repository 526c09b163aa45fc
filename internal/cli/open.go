package cli

import (
	"context"

	"gorm.io/gorm"

	"socialpredict/config"
	"socialpredict/database"
)

// openDB loads the configuration and opens the database it names. The
// caller closes the database with database.Close.
func (a *app) openDB(ctx context.Context) (*gorm.DB, *config.Loaded, error) {
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
