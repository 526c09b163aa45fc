package dal

import (
	"context"
	"log/slog"

	"socialpredict/database"
	"socialpredict/repository"
)

// callerPackages are the packages that pass queries on: the query monitor
// names the code above them as a statement's caller.
var callerPackages = []string{"socialpredict/repository.", "socialpredict/dal."}

// New builds the data access layer on the database handle db.
func New(db *database.DB) *DataAccessLayer {
	if m := db.Monitor(); m != nil {
		m.SkipCallers(callerPackages...)
	}
	return newDAL(db)
}

// Open connects to the database cfg describes (see database.NewDatabase,
// which opts are passed to) and builds the data access layer on it, logging
// to log (slog.Default() when nil). Close it with Close.
func Open(ctx context.Context, cfg database.Config, log *slog.Logger, opts ...database.Option) (*DataAccessLayer, error) {
	if log == nil {
		log = slog.Default()
	}
	db, err := database.NewDatabase(ctx, cfg, append([]database.Option{database.WithLogger(log)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return New(db), nil
}

// Close closes the database handle under the data access layer.
func (d *DataAccessLayer) Close() error { return d.db.Close() }

func newDAL(db *database.DB) *DataAccessLayer {
	return &DataAccessLayer{
		db:           db,
		userRepo:     repository.NewUserRepository(db),
		marketRepo:   repository.NewMarketRepository(db),
		betRepo:      repository.NewBetRepository(db),
		ledgerRepo:   repository.NewLedgerRepository(db),
		positionRepo: repository.NewPositionRepository(db),
		invariants:   repository.NewInvariantRepository(db),
	}
}
