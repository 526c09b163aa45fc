package migration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

var (
	migrationFile = regexp.MustCompile(`^(\d+)_[a-z0-9_]+\.go$`)
	migrationName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Create writes the scaffold of the next numbered migration, NNN_name.go,
// into dir (the folder of package migrations) and returns its path. The
// version is one more than the highest in dir, zero-padded to at least three
// digits. name must be lower-case letters, digits and underscores; an
// existing file is never overwritten.
func Create(dir, name string) (string, error) {
	if !migrationName.MatchString(name) {
		return "", fmt.Errorf("migration name %q: use lower-case letters, digits and underscores, starting with a letter", name)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read migrations folder: %w", err)
	}
	var highest uint64
	width := 3
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		n, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			continue
		}
		highest = max(highest, n)
		width = max(width, len(m[1]))
	}
	version := fmt.Sprintf("%0*d", width, highest+1)
	path := filepath.Join(dir, version+"_"+name+".go")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	_, werr := fmt.Fprintf(f, scaffold, version, strings.ReplaceAll(name, "_", " "))
	if err := errors.Join(werr, f.Close()); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// scaffold is the text of a new migration file: version, description.
const scaffold = `package migrations

import "socialpredict/migration"

// %[1]s: TODO say what this migration changes, and for each index the query
// it serves. Never import package models here: write the DDL out, so this
// migration keeps its meaning when the models change. Use migration.SQL
// instead of migration.Same where the engines need different statements, and
// set NoTransaction (on the value FromSQL returns) for CREATE INDEX
// CONCURRENTLY.
func init() {
	register(migration.FromSQL("%[1]s", "%[2]s",
		migration.Same(
		// TODO: the statements that apply the change.
		),
		migration.Same(
		// TODO: the statements that revert exactly what Up does.
		)))
}
`
