package migration

import (
	"context"
	"errors"
	"fmt"
	"math"
	"socialpredict/database"
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
	lctx, cancel := context.WithTimeout(ctx, m.lockTimeout)
	defer cancel()
	backoff := database.Backoff{Initial: 20 * time.Millisecond, Max: time.Second}
	cancelled, err := backoff.Retry(lctx, math.MaxInt, func(err error) bool { return errors.Is(err, errLockBusy) },
		func(attempt int, _ time.Duration, _ error) {
			if attempt == 1 {
				m.log.Info("waiting for another migration runner to finish", "timeout", m.lockTimeout)
			}
		},
		func(attempt int) error {
			ok, err := try()
			switch {
			case err != nil:
				return fmt.Errorf("take migration lock: %w", err)
			case !ok:
				return errLockBusy
			case attempt > 1:
				m.log.Info("migration lock acquired")
			}
			return nil
		})
	switch {
	case err == nil:
		return release, nil
	case cancelled && ctx.Err() != nil:
		return nil, ctx.Err()
	case cancelled:
		return nil, fmt.Errorf("%w (waited %s)", ErrLockTimeout, m.lockTimeout)
	}
	return nil, err
}

// errLockBusy is a try of the migration lock that another runner holds.
var errLockBusy = errors.New("migration lock held by another runner")

// lockFuncs returns the engine's try-lock and release functions.
func (m *MigrationManager) lockFuncs(conn *gorm.DB) (try func() (bool, error), release func(), err error) {
	// Release must work even when the caller's context is cancelled.
	bg := conn.WithContext(context.WithoutCancel(conn.Statement.Context))
	if conn.Dialector.Name() == "postgres" {
		try = func() (bool, error) {
			var ok bool
			if err := conn.Raw("SELECT pg_try_advisory_lock(?)", advisoryLockKey).Scan(&ok).Error; err != nil || !ok {
				return ok, err
			}
			// Behind a transaction pooler the next statement may run in
			// another server session than the one that took the lock:
			// check that the lock is this session's before relying on it.
			var mine bool
			if err := conn.Raw(`SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
				AND pid = pg_backend_pid() AND classid = ? AND objid = ? AND objsubid = 1)`,
				uint32(advisoryLockKey>>32), uint32(advisoryLockKey&0xffffffff)).Scan(&mine).Error; err != nil {
				return false, err
			}
			if !mine {
				m.log.Error("the migration lock was taken by another server session than this one's: the connection goes through a transaction pooler; " +
					"the lock stays held by that session until it ends")
				return false, fmt.Errorf("%w (the advisory lock just taken is not held by this session)", ErrTransactionPooling)
			}
			return true, nil
		}
		release = func() {
			var released bool
			if err := bg.Raw("SELECT pg_advisory_unlock(?)", advisoryLockKey).Scan(&released).Error; err != nil {
				m.log.Error("release migration lock", "error", err)
			} else if !released {
				m.log.Error("release migration lock: this session did not hold it (a transaction pooler between this process and PostgreSQL?)")
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
