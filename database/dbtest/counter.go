package dbtest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"
)

// Counter counts the statements GORM sends through a database.
type Counter struct {
	n atomic.Int64
}

// Reset sets the count to zero.
func (c *Counter) Reset() { c.n.Store(0) }

// Count returns the statements counted since the last Reset.
func (c *Counter) Count() int64 { return c.n.Load() }

// CountQueries starts counting every statement (query, exec, create,
// update, delete, row) that db sends, until the test ends. Transaction
// control (BEGIN, COMMIT) and COPY are not counted.
func CountQueries(tb testing.TB, db *gorm.DB) *Counter {
	tb.Helper()
	c := &Counter{}
	name := fmt.Sprintf("dbtest:count:%p", c)
	inc := func(*gorm.DB) { c.n.Add(1) }
	cb := db.Callback()
	register := []func() error{
		func() error { return cb.Create().After("gorm:create").Register(name, inc) },
		func() error { return cb.Query().After("gorm:query").Register(name, inc) },
		func() error { return cb.Update().After("gorm:update").Register(name, inc) },
		func() error { return cb.Delete().After("gorm:delete").Register(name, inc) },
		func() error { return cb.Row().After("gorm:row").Register(name, inc) },
		func() error { return cb.Raw().After("gorm:raw").Register(name, inc) },
	}
	for _, r := range register {
		if err := r(); err != nil {
			tb.Fatalf("dbtest: count queries: %v", err)
		}
	}
	tb.Cleanup(func() {
		_ = cb.Create().Remove(name)
		_ = cb.Query().Remove(name)
		_ = cb.Update().Remove(name)
		_ = cb.Delete().Remove(name)
		_ = cb.Row().Remove(name)
		_ = cb.Raw().Remove(name)
	})
	return c
}
