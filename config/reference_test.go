package config_test

import (
	"os"
	"strings"
	"testing"

	"socialpredict/config"
)

// TestREADMEReferenceIsCurrent keeps the README's configuration reference in
// step with the code: regenerate it with `socialpredict config reference`.
func TestREADMEReferenceIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- BEGIN CONFIG REFERENCE -->\n", "<!-- END CONFIG REFERENCE -->"
	_, rest, ok1 := strings.Cut(string(readme), begin)
	got, _, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatal("README.md lacks the configuration reference markers")
	}
	var want strings.Builder
	if err := config.Reference(&want); err != nil {
		t.Fatal(err)
	}
	if got != want.String() {
		t.Errorf("README.md configuration reference is stale; replace it with the output of `go run ./cmd/socialpredict config reference`.\ngot:\n%s\nwant:\n%s", got, want.String())
	}
}
