package dbreport

import (
	"fmt"
	"time"

	"socialpredict/database"
	"socialpredict/database/diagnostics"
)

// sessions lists blocked and blocking sessions, long-running and
// idle-in-transaction ones, and this process's leaked transactions. The
// health checks already judge them (section health); this section shows
// them in full.
func (b *builder) sessions() {
	r, s := b.r, &b.r.Sessions
	s.LongRunningAfter, s.IdleInTransactionAfter = b.opts.LongRunning, b.opts.IdleInTransaction
	s.Blocked, s.Blocking = []diagnostics.BlockedSession{}, []diagnostics.BlockingSession{}
	s.LongRunning, s.IdleInTransaction = []diagnostics.SessionActivity{}, []diagnostics.SessionActivity{}
	s.Leaked = []database.LeakedTx{}
	if r.Health != nil {
		s.Leaked = orEmpty(r.Health.LongTransactions)
	}
	if b.unsupported(&s.Section) {
		return
	}
	db := b.src.DB.GormDB()
	locks, err := diagnostics.InspectLocks(b.ctx, db, diagnostics.LockThresholds{LongRunning: b.opts.LongRunning, IdleInTransaction: b.opts.IdleInTransaction})
	if b.failed(&s.Section, "locks", err) {
		return
	}
	s.LongRunning, s.IdleInTransaction = orEmpty(locks.LongRunning), orEmpty(locks.IdleInTransaction)
	s.Blocked = locks.Blocked
	if s.Blocked == nil {
		s.Blocked = []diagnostics.BlockedSession{}
	}
	blocking, err := diagnostics.BlockingSessions(b.ctx, db)
	if b.failed(&s.Section, "locks", err) {
		return
	}
	s.Blocking = blocking
	for _, bl := range blocking {
		r.add("locks", "blocking", StatusInfo, fmt.Sprintf("pid %d (%s for %s, transaction open %s) blocks %d sessions: %s",
			bl.PID, bl.State, bl.InState.Round(time.Millisecond), bl.InTransaction.Round(time.Millisecond), len(bl.Blocking), oneLine(bl.Query, 120)))
	}
}

// orEmpty returns s, or an empty slice for nil (JSON [] rather than null).
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
