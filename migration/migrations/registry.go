package migrations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"

	"gorm.io/gorm"

	"socialpredict/migration"
)

// registered is filled by the init functions of the migration files.
var registered []migration.Migration

// register adds a migration; called from init functions only.
func register(m migration.Migration) { registered = append(registered, m) }

// All returns every migration, in version order.
func All() []migration.Migration {
	out := slices.Clone(registered)
	migration.SortByVersion(out, func(m migration.Migration) string { return m.Version })
	return out
}

// Fingerprint identifies the full set of migrations: it changes when any
// migration is added or its checksum changes. Test template databases are
// keyed by it.
func Fingerprint() string {
	h := sha256.New()
	for _, m := range All() {
		h.Write([]byte(m.Version + ":" + m.Sum() + "\n"))
	}
	return "migrations-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// Up applies every pending migration to db, logging nothing; for tests and
// embedded use.
func Up(ctx context.Context, db *gorm.DB) error {
	quiet := slog.New(slog.DiscardHandler)
	_, err := migration.NewMigrationManager(db, All(), migration.WithLogger(quiet)).Up(ctx)
	return err
}
