package database_test

import (
	"context"
	"os"
	"runtime"
	"testing"

	moderncsqlite "modernc.org/sqlite"

	"socialpredict/database"
	"socialpredict/database/dbtest"
)

// TestSQLiteProcessSwitches pins what importing github.com/libtnb/sqlite
// does to the whole process: its init turns on three switches of
// modernc.org/sqlite that are off upstream (docs/dependencies.md says what
// each means for us). An upgrade that changes them fails here.
func TestSQLiteProcessSwitches(t *testing.T) {
	if !moderncsqlite.StrictPragmasEnabled() {
		t.Error("StrictPragmas is off: a _pragma DSN value may carry more than one statement")
	}
	if runtime.GOOS != "linux" {
		t.Skipf("OFD locks and fdatasync are switched on Linux only, not on %s", runtime.GOOS)
	}
	if !moderncsqlite.FdatasyncEnabled() {
		t.Error("Fdatasync is off: commits call fsync(2)")
	}
	if _, set := os.LookupEnv("MODERNC_SQLITE_OFD_LOCK"); set {
		t.Skip("MODERNC_SQLITE_OFD_LOCK is set: the environment decides OFD locking")
	}
	// Opening a database takes the first lock: after it the mode is final.
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	if err := tdb.DB.Exec("CREATE TABLE t (x integer)").Error; err != nil {
		t.Fatal(err)
	}
	if !moderncsqlite.OFDLockingEnabled() {
		t.Error("OFD locking is off: database file locks are POSIX record locks")
	}
}

// TestSQLiteMaxParams reads the engine's limit on bound parameters, in a
// transaction and outside one, and checks that a statement binding that many
// works.
func TestSQLiteMaxParams(t *testing.T) {
	tdb := dbtest.New(t, dbtest.SQLite, dbtest.Empty)
	ctx := context.Background()
	limit, err := database.SQLiteMaxParams(ctx, tdb.DB)
	if err != nil {
		t.Fatal(err)
	}
	if limit != 32766 {
		t.Errorf("SQLiteMaxParams = %d, want 32766 (SQLITE_MAX_VARIABLE_NUMBER)", limit)
	}
	tm := database.NewTransactionManager(tdb.DB)
	err = tm.Transact(ctx, func(ctx context.Context) error {
		inTx, err := database.SQLiteMaxParams(ctx, tdb.DB)
		if err != nil {
			return err
		}
		if inTx != limit {
			t.Errorf("SQLiteMaxParams in a transaction = %d, want %d", inTx, limit)
		}
		args := make([]any, limit)
		sql := make([]byte, 0, 4*limit+64)
		sql = append(sql, "SELECT sum(column1) FROM (VALUES (?)"...)
		for i := range args {
			args[i] = i
			if i > 0 {
				sql = append(sql, ",(?)"...)
			}
		}
		sql = append(sql, ')')
		var sum int64
		if err := database.Conn(ctx, tdb.DB).Raw(string(sql), args...).Scan(&sum).Error; err != nil {
			return err
		}
		if want := int64(limit) * int64(limit-1) / 2; sum != want {
			t.Errorf("sum of %d parameters = %d, want %d", limit, sum, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
