//go:build unix

package migration

import (
	"errors"
	"os"
	"syscall"
)

// fileLock is an exclusive flock(2) on a file. The kernel releases it when
// the process dies, so a crashed runner never leaves it behind.
type fileLock struct {
	path string
	f    *os.File
}

// tryLock takes the lock if it is free; it reports false when another open
// file description (another runner, in this process or another) holds it.
func (l *fileLock) tryLock() (bool, error) {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil
		}
		return false, err
	}
	l.f = f
	return true, nil
}

// unlock releases the lock.
func (l *fileLock) unlock() error {
	if l.f == nil {
		return nil
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	return errors.Join(err, l.f.Close())
}
