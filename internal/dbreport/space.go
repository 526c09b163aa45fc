package dbreport

import "socialpredict/database/diagnostics"

// space reads the table and index sizes (PostgreSQL; SQLite's are in the
// sqlite section).
func (b *builder) space() {
	s := &b.r.Space
	if !b.pg {
		return // shown from Report.SQLite
	}
	rep, err := diagnostics.Space(b.ctx, b.src.DB.GormDB(), b.opts.Rows)
	if b.failed(&s.Section, "space", err) {
		return
	}
	s.Report = rep
}
