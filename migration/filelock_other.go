//go:build !unix

package migration

import "errors"

// fileLock is not available on this operating system.
type fileLock struct{ path string }

func (l *fileLock) tryLock() (bool, error) {
	return false, errors.New("migration lock for sqlite is not supported on this operating system")
}

func (l *fileLock) unlock() error { return nil }
