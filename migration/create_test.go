package migration_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"socialpredict/migration"
)

func TestCreateScaffoldsNextVersion(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"001_initial.go", "009_add_indexes.go", "registry.go", "010_x_test.go"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("package migrations\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path, err := migration.Create(dir, "add_market_tags")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Base(path), "010_add_market_tags.go"; got != want {
		t.Errorf("created %s, want %s", got, want)
	}
	body, _ := os.ReadFile(path)
	if !strings.Contains(string(body), `migration.FromSQL("010", "add market tags"`) {
		t.Errorf("scaffold:\n%s", body)
	}
	if out, err := exec.Command("gofmt", "-l", path).CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("scaffold is not gofmt-clean: %s %v", out, err)
	}
	if _, err := migration.Create(dir, "Bad Name"); err == nil {
		t.Error("a bad name was accepted")
	}
}

// TestCreateInRealPackageCompiles scaffolds into a copy of the migrations
// package and builds it.
func TestCreateInRealPackageCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	dir := t.TempDir()
	src := "migrations"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		body, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := migration.Create(dir, "scaffold_check"); err != nil {
		t.Fatal(err)
	}
	// Build the copy inside this module so that its imports resolve.
	pkg, err := os.MkdirTemp(".", "scaffoldcheck")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pkg) })
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		body, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		if err := os.WriteFile(filepath.Join(pkg, f.Name()), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("go", "vet", "./"+pkg).CombinedOutput(); err != nil {
		t.Errorf("scaffolded package does not build: %v\n%s", err, out)
	}
}
