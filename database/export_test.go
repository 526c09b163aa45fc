package database

import "gorm.io/gorm"

// WriteQueueWaiting returns how many writers wait in db's write queue (0
// when db has none), for tests that hold a *gorm.DB.
func WriteQueueWaiting(db *gorm.DB) int {
	if q := writeQueueOf(db); q != nil {
		return q.waiting()
	}
	return 0
}
