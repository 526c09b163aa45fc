package config_test

import (
	"errors"
	"os"
	"testing"

	"socialpredict/config"
	"socialpredict/internal/confkit"
)

// FuzzParse checks that no configuration text makes Parse panic, and that
// every failure is reported as invalid configuration.
func FuzzParse(f *testing.F) {
	plan, err := os.ReadFile("testdata/plan-example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(plan),
		"",
		"database:\n  port: 70000\n",
		"database:\n  password: ${X:-y}${\n",
		"database: [1, 2]\n",
		"log:\n  level: debug\n  format: json\n",
		"database:\n  url: postgres://u:p@h:99999/db\n",
		"a: &x {b: *x}\n",
	} {
		f.Add([]byte(seed))
	}
	env := envMap("POSTGRES_PASSWORD", "pw", "X", "")
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := config.Parse("fuzz.yaml", data, env)
		if err != nil {
			if !errors.Is(err, confkit.ErrInvalid) {
				t.Fatalf("error %v does not match confkit.ErrInvalid", err)
			}
			return
		}
		if l.Database.Driver == "" {
			t.Fatal("a valid configuration must have a resolved driver")
		}
	})
}
