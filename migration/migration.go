package migration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// Migration is one numbered change to the schema.
type Migration struct {
	// Version orders migrations: a string of digits such as "001", compared
	// as a number.
	Version string
	// Description says what the migration does, in a few words.
	Description string
	// Up applies the change. It runs inside a transaction (with the history
	// row) unless NoTransaction is set; the context is in the *gorm.DB.
	Up func(*gorm.DB) error
	// Down reverts exactly what Up did; nil when the migration cannot be
	// reverted.
	Down func(*gorm.DB) error
	// NoTransaction runs Up and Down outside a transaction, as CREATE INDEX
	// CONCURRENTLY requires. If such a migration fails it is recorded as
	// failed, and further runs refuse until `migrate repair`.
	NoTransaction bool
	// Checksum is an optional explicit value that the recorded checksum
	// covers besides Version and Description; SQL migrations (FromSQL) set it
	// to their statements, so editing an applied migration is detected.
	Checksum string
}

// Sum is the checksum recorded when m is applied: a SHA-256 of its version,
// description and explicit Checksum.
func (m Migration) Sum() string {
	h := sha256.Sum256([]byte(m.Version + "\x00" + m.Description + "\x00" + m.Checksum))
	return hex.EncodeToString(h[:])
}

// String returns "version description".
func (m Migration) String() string { return m.Version + " " + m.Description }

// number returns the numeric value of the version, or an error for a
// version that is not a string of digits.
func (m Migration) number() (uint64, error) {
	n, err := strconv.ParseUint(m.Version, 10, 64)
	if err != nil || strings.TrimLeft(m.Version, "0123456789") != "" {
		return 0, fmt.Errorf("migration version %q: must be digits only", m.Version)
	}
	return n, nil
}

// SQL holds the statements of one direction of a migration for each engine.
// Each statement is executed on its own, in order.
type SQL struct {
	Postgres []string
	SQLite   []string
}

// Same returns SQL that runs the same statements on both engines.
func Same(statements ...string) SQL {
	return SQL{Postgres: statements, SQLite: statements}
}

// For returns the statements for the dialect name ("postgres" or "sqlite").
func (s SQL) For(dialect string) []string {
	if dialect == "postgres" {
		return s.Postgres
	}
	return s.SQLite
}

// Exec returns a function that executes the statements for db's engine.
func (s SQL) Exec() func(*gorm.DB) error {
	return func(db *gorm.DB) error {
		for _, stmt := range s.For(db.Dialector.Name()) {
			if err := db.Exec(stmt).Error; err != nil {
				return fmt.Errorf("%w\nin statement:\n%s", err, stmt)
			}
		}
		return nil
	}
}

// text renders the statements of both engines, for checksums.
func (s SQL) text() string {
	return "postgres:\n" + strings.Join(s.Postgres, ";\n") + "\nsqlite:\n" + strings.Join(s.SQLite, ";\n")
}

// FromSQL builds a migration that runs plain SQL. Its checksum covers the
// statements, so a changed statement in an applied migration shows as
// modified.
func FromSQL(version, description string, up, down SQL) Migration {
	return Migration{
		Version:     version,
		Description: description,
		Up:          up.Exec(),
		Down:        down.Exec(),
		Checksum:    "up:\n" + up.text() + "\ndown:\n" + down.text(),
	}
}
