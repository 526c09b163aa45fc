package dal

import (
	"context"
	"log/slog"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/repository"
)

// New builds the data access layer on db, with transactions retried as
// cfg.TransactionRetry says and retries logged to log (slog.Default() when
// nil).
func New(db *gorm.DB, cfg database.Config, log *slog.Logger) *DataAccessLayer {
	if log == nil {
		log = slog.Default()
	}
	r := cfg.TransactionRetry
	tm := database.NewTransactionManager(db, database.WithTxLogger(log),
		database.WithRetry(r.Attempts, database.Backoff{Initial: r.InitialBackoff, Max: r.MaxBackoff}))
	return newDAL(db, tm)
}

// Open connects to the database cfg describes (see database.NewDatabase) and
// builds the data access layer on it. Close it with Close.
func Open(ctx context.Context, cfg database.Config, log *slog.Logger) (*DataAccessLayer, error) {
	if log == nil {
		log = slog.Default()
	}
	db, err := database.NewDatabase(ctx, cfg, database.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return New(db, cfg, log), nil
}

// Close closes the connection pool.
func (d *DataAccessLayer) Close() error { return database.Close(d.db) }

// DB returns the underlying GORM handle, for infrastructure (migrations,
// health checks) rather than for services.
func (d *DataAccessLayer) DB() *gorm.DB { return d.db }

func newDAL(db *gorm.DB, tm *database.TransactionManager) *DataAccessLayer {
	return &DataAccessLayer{
		db:           db,
		userRepo:     repository.NewUserRepository(db),
		marketRepo:   repository.NewMarketRepository(db),
		betRepo:      repository.NewBetRepository(db),
		ledgerRepo:   repository.NewLedgerRepository(db),
		positionRepo: repository.NewPositionRepository(db),
		txManager:    tm,
	}
}
