package migrations_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"socialpredict/database/dbtest"
)

var update = flag.Bool("update", false, "rewrite migration/schema.sql")

const schemaFile = "../schema.sql"

const schemaHeader = `-- The PostgreSQL schema after every migration, as pg_dump --schema-only prints
-- it (comments and session settings removed; the migration history tables
-- left out). Generated: do not edit. Regenerate with
--   go test ./migration/migrations -run TestSchemaSQLIsCurrent -update
`

// TestSchemaSQLIsCurrent keeps migration/schema.sql, the readable current
// schema, in step with the migrations.
func TestSchemaSQLIsCurrent(t *testing.T) {
	pgDump := findPgDump()
	if pgDump == "" {
		t.Skip("pg_dump not found: cannot check migration/schema.sql")
	}
	tdb := dbtest.New(t, dbtest.Postgres, schema)
	out, err := exec.Command(pgDump, "--schema-only", "--no-owner", "--no-privileges",
		"--exclude-table=schema_migrations*", "--dbname="+tdb.Config.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	got := schemaHeader + normalizeDump(string(out))
	if *update {
		if err := os.WriteFile(schemaFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("migration/schema.sql is stale; regenerate it with -update. Current schema:\n%s", got)
	}
}

var blankRuns = regexp.MustCompile(`\n{3,}`)

// normalizeDump drops what varies between pg_dump runs and versions.
func normalizeDump(dump string) string {
	var keep []string
	for _, line := range strings.Split(dump, "\n") {
		switch {
		case strings.HasPrefix(line, "--"), strings.HasPrefix(line, "SET "),
			strings.HasPrefix(line, "SELECT pg_catalog.set_config"), strings.HasPrefix(line, `\`):
			continue
		}
		keep = append(keep, line)
	}
	return strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(keep, "\n"), "\n\n")) + "\n"
}

// findPgDump returns pg_dump from PATH or the newest PostgreSQL install.
func findPgDump() string {
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	if len(matches) == 0 {
		return ""
	}
	return matches[len(matches)-1]
}
