package migration

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ErrLockTimeout is returned when another runner held the migration lock for
// longer than the lock timeout.
var ErrLockTimeout = errors.New("timed out waiting for the migration lock held by another runner")

// advisoryLockKey is the PostgreSQL advisory lock key of migration runs
// ("socialp" in ASCII).
const advisoryLockKey int64 = 0x736f6369616c70

// acquireLock excludes other runners until the returned unlock is called. On
// PostgreSQL it takes a session-level advisory lock on conn, which must stay
// the same connection for the whole run: a transaction-level lock would keep
// a transaction open, and CREATE INDEX CONCURRENTLY waits for every open
// transaction to end. On SQLite it takes an exclusive file lock beside the
// database file. It waits up to timeout, then returns ErrLockTimeout.
func (m *MigrationManager) acquireLock(ctx context.Context, conn *gorm.DB) (unlock func(), err error) {
	try, release, err := m.lockFuncs(conn)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(m.lockTimeout)
	delay := 20 * time.Millisecond
	for waited := false; ; waited = true {
		ok, err := try()
		if err != nil {
			return nil, fmt.Errorf("take migration lock: %w", err)
		}
		if ok {
			if waited {
				m.log.Info("migration lock acquired")
			}
			return release, nil
		}
		if !waited {
			m.log.Info("waiting for another migration runner to finish", "timeout", m.lockTimeout)
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, fmt.Errorf("%w (waited %s)", ErrLockTimeout, m.lockTimeout)
		}
		t := time.NewTimer(min(delay, remaining))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, time.Second)
	}
}

// lockFuncs returns the engine's try-lock and release functions.
func (m *MigrationManager) lockFuncs(conn *gorm.DB) (try func() (bool, error), release func(), err error) {
	// Release must work even when the caller's context is cancelled.
	bg := conn.WithContext(context.WithoutCancel(conn.Statement.Context))
	if conn.Dialector.Name() == "postgres" {
		try = func() (bool, error) {
			var ok bool
			err := conn.Raw("SELECT pg_try_advisory_lock(?)", advisoryLockKey).Scan(&ok).Error
			return ok, err
		}
		release = func() {
			if err := bg.Exec("SELECT pg_advisory_unlock(?)", advisoryLockKey).Error; err != nil {
				m.log.Error("release migration lock", "error", err)
			}
		}
		return try, release, nil
	}
	var path string
	if err := conn.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path).Error; err != nil {
		return nil, nil, fmt.Errorf("find the sqlite database file: %w", err)
	}
	if path == "" { // in-memory: no other process can see it
		return func() (bool, error) { return true, nil }, func() {}, nil
	}
	fl := &fileLock{path: path + ".migrate-lock"}
	return fl.tryLock, func() {
		if err := fl.unlock(); err != nil {
			m.log.Error("release migration lock", "error", err)
		}
	}, nil
}
