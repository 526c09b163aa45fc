package arch_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "socialpredict"

// sqlOwners are the packages (and their subpackages) that may import GORM,
// pgx or database/sql: the repositories, the connection and the migrations,
// and the test helpers that build databases for tests.
var sqlOwners = []string{"repository", "database", "migration", "dal/daltest"}

// sqlImports are the imports reserved to sqlOwners.
var sqlImports = []string{"gorm.io/gorm", "github.com/jackc/pgx/v5", "database/sql"}

// mayImport lists, for each layer, the project packages it may import (a
// package may always import its own subpackages). Packages not listed may
// import anything of the project below cmd and internal/cli.
var mayImport = map[string][]string{
	"errs":       {},
	"models":     {},
	"database":   {"errs", "internal/confkit"},
	"migration":  {"database", "errs", "internal/confkit"},
	"repository": {"database", "models", "errs"},
	"dal":        {"repository", "database", "models", "errs", "migration/migrations"},
	"service":    {"dal", "repository", "database", "models", "errs", "internal/confkit"},
	"server":     {"service", "repository", "database", "models", "errs", "internal/confkit", "internal/dbreport"},
	"config":     {"database", "service", "server", "internal/confkit"},
	// The database report of the ops page and db doctor.
	"internal/dbreport": {"database", "migration", "errs", "internal/confkit"},
}

// packages returns every non-test package of the module with its imports,
// keyed by import path relative to the module ("" for the root).
func packages(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files
		}
		rel, _ := filepath.Rel(root, path)
		out[filepath.ToSlash(rel)] = p.Imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d packages under %s", len(out), root)
	}
	return out
}

// within reports whether pkg is base or one of its subpackages.
func within(pkg, base string) bool { return pkg == base || strings.HasPrefix(pkg, base+"/") }

// TestOnlySQLOwnersImportDrivers: no package above the repositories imports
// GORM, pgx or database/sql.
func TestOnlySQLOwnersImportDrivers(t *testing.T) {
	for pkg, imports := range packages(t) {
		if slices.ContainsFunc(sqlOwners, func(o string) bool { return within(pkg, o) }) {
			continue
		}
		for _, imp := range imports {
			if slices.ContainsFunc(sqlImports, func(s string) bool { return within(imp, s) }) {
				t.Errorf("%s imports %s: only %v may", pkg, imp, sqlOwners)
			}
		}
	}
}

// TestLayers: each layer imports only the layers below it.
func TestLayers(t *testing.T) {
	for pkg, imports := range packages(t) {
		for layer, allowed := range mayImport {
			if !within(pkg, layer) {
				continue
			}
			for _, imp := range imports {
				rel, ok := strings.CutPrefix(imp, module+"/")
				if !ok || within(rel, layer) {
					continue
				}
				if !slices.ContainsFunc(allowed, func(a string) bool { return within(rel, a) }) {
					t.Errorf("%s imports %s: layer %s may import only %v", pkg, rel, layer, allowed)
				}
			}
		}
	}
}
