package dal

import (
	"context"
	"log/slog"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/repository"
)

// Option configures the data access layer.
type Option func(*[]database.TxManagerOption)

// WithMetrics counts transactions, their durations and retries in m.
func WithMetrics(m *database.Metrics) Option {
	return func(o *[]database.TxManagerOption) { *o = append(*o, database.WithTxObserver(m)) }
}

// New builds the data access layer on db, with transactions retried as
// cfg.TransactionRetry says and retries logged to log (slog.Default() when
// nil).
func New(db *gorm.DB, cfg database.Config, log *slog.Logger, opts ...Option) *DataAccessLayer {
	if log == nil {
		log = slog.Default()
	}
	r := cfg.TransactionRetry
	tmOpts := []database.TxManagerOption{database.WithTxLogger(log),
		database.WithRetry(r.Attempts, database.Backoff{Initial: r.InitialBackoff, Max: r.MaxBackoff})}
	for _, o := range opts {
		o(&tmOpts)
	}
	return newDAL(db, database.NewTransactionManager(db, tmOpts...))
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
		invariants:   repository.NewInvariantRepository(db),
		txManager:    tm,
	}
}
