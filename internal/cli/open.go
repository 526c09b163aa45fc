package cli

import (
	"context"

	"socialpredict/config"
	"socialpredict/database"
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
