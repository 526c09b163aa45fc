package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/peterldowns/pgtestdb"
)

// templates maps a template key (server, role, schema) to its *pgTemplate.
var templates sync.Map

// pgTemplate is a template database pgtestdb made (or found), and the
// administrator pool that clones it for the rest of the process.
type pgTemplate struct {
	mu sync.Mutex
	// name is the template database; empty until pgtestdb has made it.
	name string
	// admin connects to conf's administrator database while databases
	// cloned through it live (users counts them); it is closed when the
	// last is dropped, so that no pool outlives the tests (goleak).
	admin *sql.DB
	users int
	// strategy is the CREATE DATABASE clause that copies the template's
	// files (PostgreSQL 15 and later) instead of writing every page of it
	// to the WAL, about 4 times cheaper for the server.
	strategy string
}

// clone returns a fresh database cloned from the template of conf and m.
// The first call per template and process goes through pgtestdb, which
// makes the template (once per schema, shared between processes and runs)
// and clones it; later calls clone the same template themselves, over one
// pooled administrator connection instead of two new ones per database,
// with the file-copy strategy. Either way the database is dropped when tb
// ends, unless tb failed (then it is kept, as pgtestdb does, and its URL
// logged).
func clone(tb testing.TB, conf pgtestdb.Config, m migrator) *pgtestdb.Config {
	tb.Helper()
	hash, _ := m.Hash()
	key := strings.Join([]string{conf.Host, conf.Port, conf.User, conf.Database, conf.Options, conf.TestRole.Username, hash}, "\x00")
	v, _ := templates.LoadOrStore(key, &pgTemplate{})
	tpl := v.(*pgTemplate)
	tpl.mu.Lock()
	if tpl.name == "" {
		defer tpl.mu.Unlock()
		inst := pgtestdb.Custom(tb, conf, m)
		name, _, found := strings.Cut(inst.Database, "_inst_")
		if !found {
			tb.Fatalf("dbtest: cannot tell the template of %s", inst.Database)
		}
		var version int
		if err := tpl.acquire(conf).QueryRow("SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
			tpl.release()
			tb.Fatalf("dbtest: server version: %v", err)
		}
		tpl.release()
		if version >= 150000 {
			tpl.strategy = " STRATEGY FILE_COPY"
		}
		tpl.name = name
		return inst
	}
	admin := tpl.acquire(conf)
	tpl.mu.Unlock()
	tb.Cleanup(func() {
		tpl.mu.Lock()
		defer tpl.mu.Unlock()
		tpl.release()
	})

	ctx := context.Background()
	inst := conf
	inst.User, inst.Password = conf.TestRole.Username, conf.TestRole.Password
	inst.Database = tpl.name + "_inst_" + randomID(tb)
	q := fmt.Sprintf(`CREATE DATABASE "%s" WITH TEMPLATE "%s" OWNER "%s"%s`, inst.Database, tpl.name, inst.User, tpl.strategy)
	if _, err := admin.ExecContext(ctx, q); err != nil {
		tb.Fatalf("dbtest: create %s from %s: %v", inst.Database, tpl.name, err)
	}
	tb.Logf("testdbconf: %s", inst.URL())
	tb.Cleanup(func() {
		if tb.Failed() {
			return // kept for investigation
		}
		dropDatabase(tb, admin, inst.Database, conf.ForceTerminateConnections)
	})
	return &inst
}

// dropDatabase drops the test database name. With force (its connections
// went through PgBouncer, which keeps server sessions open after the test's
// pool closed), the sessions still in it are ended first; a session that
// is still going away, or one PgBouncer opened again for a client that was
// late to close, makes DROP DATABASE fail with SQLSTATE 55006 after its
// own wait of 5 s, so the two are tried again for up to 30 s.
func dropDatabase(tb testing.TB, admin *sql.DB, name string, force bool) {
	tb.Helper()
	ctx := context.Background()
	drop := fmt.Sprintf(`DROP DATABASE IF EXISTS "%s"`, name)
	give := time.Now().Add(30 * time.Second)
	for {
		if force {
			if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = $1 AND pid <> pg_backend_pid()`, name); err != nil {
				tb.Errorf("dbtest: end the sessions of %s: %v", name, err)
				return
			}
		}
		_, err := admin.ExecContext(ctx, drop)
		var pgErr *pgconn.PgError
		if err == nil || !force || !errors.As(err, &pgErr) || pgErr.Code != "55006" || time.Now().After(give) {
			if err != nil {
				tb.Errorf("dbtest: drop %s (connections still open?): %v", name, err)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// randomID returns 8 random hex digits, as pgtestdb names its databases.
func randomID(tb testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// acquire returns the administrator pool, opening it for the first user;
// the caller holds tpl.mu.
func (tpl *pgTemplate) acquire(conf pgtestdb.Config) *sql.DB {
	if tpl.admin == nil {
		db, err := sql.Open(conf.DriverName, conf.URL())
		if err != nil {
			panic(err) // the driver is registered by this package's import
		}
		db.SetMaxOpenConns(2) // administrator sessions are few
		tpl.admin = db
	}
	tpl.users++
	return tpl.admin
}

// release closes the administrator pool when its last user is done; the
// caller holds tpl.mu.
func (tpl *pgTemplate) release() {
	tpl.users--
	if tpl.users == 0 {
		tpl.admin.Close()
		tpl.admin = nil
	}
}
