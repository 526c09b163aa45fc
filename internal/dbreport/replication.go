package dbreport

import (
	"fmt"

	"socialpredict/database/diagnostics"
)

// replication reads replicas and slots: an inactive slot retaining much WAL
// is a problem (it can fill the disk), a replica far behind looks wrong.
func (b *builder) replication() {
	r, x := b.r, &b.r.Replication
	if b.unsupported(&x.Section) {
		return
	}
	rep, err := diagnostics.Replication(b.ctx, b.src.DB.GormDB())
	if b.failed(&x.Section, "replication", err) {
		return
	}
	x.Report = rep
	for _, s := range rep.Slots {
		if s.Active || s.RetainedBytes < b.opts.SlotBytes {
			continue
		}
		r.add("replication", "replication_slots", StatusFail, fmt.Sprintf("inactive replication slot %s (%s) retains %s of WAL (wal_status %s): nothing consumes it and the WAL grows until the disk is full; reconnect its consumer or SELECT pg_drop_replication_slot('%s')",
			s.Name, s.Type, diagnostics.ByteSize(s.RetainedBytes), s.WALStatus, s.Name))
	}
	for _, rp := range rep.Replicas {
		if rp.LagBytes >= b.opts.ReplicaLagBytes {
			r.add("replication", "replica_lag", StatusWarn, fmt.Sprintf("replica %s at %s (%s) is %s behind", rp.Application, rp.Client, rp.State, diagnostics.ByteSize(rp.LagBytes)))
		}
	}
	if len(r.FindingsOf("replication")) == 0 {
		r.add("replication", "replication", StatusOK, fmt.Sprintf("%d replicas, %d replication slots, none lagging or retaining %s+ of WAL while inactive", len(rep.Replicas), len(rep.Slots), diagnostics.ByteSize(b.opts.SlotBytes)))
	}
}
