package dbreport

import (
	"fmt"
	"strings"

	"socialpredict/database/diagnostics"
)

// sqlite reads the SQLite file's statistics (and runs integrity_check when
// asked): a freelist worth a VACUUM or a WAL that checkpoints cannot
// shrink look wrong, a failed integrity check is a problem.
func (b *builder) sqlite() {
	if b.pg {
		return
	}
	r := b.r
	s := &SQLite{}
	r.SQLite = s
	db := b.src.DB.GormDB()
	file, err := diagnostics.SQLiteFile(b.ctx, db)
	if b.failed(&s.Section, "sqlite", err) {
		return
	}
	s.File = file
	r.Overview.Version = "SQLite " + file.Version
	r.Overview.DatabaseBytes = file.FileBytes + file.WALBytes
	o := b.opts
	free := file.FreelistCount * file.PageSize
	if file.FreePct >= o.SQLiteFreePct && free >= o.SQLiteFreeBytes {
		r.add("sqlite", "freelist", StatusWarn, fmt.Sprintf("%d of %d pages (%.0f%%, %s) are free: VACUUM would give them back to the file system (it rewrites the file and blocks writers meanwhile)",
			file.FreelistCount, file.PageCount, file.FreePct, diagnostics.ByteSize(free)))
	} else {
		r.add("sqlite", "freelist", StatusOK, fmt.Sprintf("%d of %d pages free (%.1f%%)", file.FreelistCount, file.PageCount, file.FreePct))
	}
	if file.WALBytes >= o.SQLiteWALBytes {
		r.add("sqlite", "wal", StatusWarn, fmt.Sprintf("the write-ahead log is %s: checkpoints cannot reset it while readers stay open; look for long reads or transactions that never end", diagnostics.ByteSize(file.WALBytes)))
	} else {
		r.add("sqlite", "wal", StatusOK, fmt.Sprintf("write-ahead log %s (journal_mode %s)", diagnostics.ByteSize(file.WALBytes), file.JournalMode))
	}
	if len(file.Stat1) == 0 {
		r.add("sqlite", "sqlite_stat1", StatusInfo, "no planner statistics (sqlite_stat1 is empty): ANALYZE, or PRAGMA optimize, lets SQLite choose between indexes knowing the data")
	}
	if !o.IntegrityCheck {
		return
	}
	res, err := diagnostics.IntegrityCheck(b.ctx, db)
	switch {
	case err != nil:
		r.add("sqlite", "integrity_check", StatusFail, "integrity_check did not finish: "+err.Error()+"; a damaged file reads this way: restore from a backup (or .recover with the sqlite3 shell)")
	case len(res) == 1 && res[0] == "ok":
		s.Integrity = res
		r.add("sqlite", "integrity_check", StatusOK, "integrity_check: ok")
	default:
		s.Integrity = res
		r.add("sqlite", "integrity_check", StatusFail, fmt.Sprintf("integrity_check found %d problems: %s; restore from a backup (or .recover with the sqlite3 shell)", len(res), strings.Join(res[:min(3, len(res))], "; ")))
	}
}

// tables lists the tables ANALYZE may be run on.
func (b *builder) tables() {
	t, err := diagnostics.Tables(b.ctx, b.src.DB.GormDB())
	if err != nil {
		t = []diagnostics.TableName{}
	}
	b.r.Tables = t
}
