package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"socialpredict/config"
	"socialpredict/internal/confkit"
)

// TestReplicasList: database.replicas is a list: a YAML sequence (each
// item expanded), or a comma-separated value in the file or the
// environment; config show masks each password; invalid URLs, sqlite and a
// read-your-writes window shorter than the lag limit are refused.
func TestReplicasList(t *testing.T) {
	want := []string{"postgres://app:s3cret-pw@r1:5432/app", "postgres://app:s3cret-pw@r2:5432/app"}
	for name, tc := range map[string]struct {
		yaml string
		env  []string
	}{
		"sequence": {yaml: "database:\n  host: db\n  replicas:\n    - postgres://app:${PW}@r1:5432/app\n    - \"postgres://app:${PW}@r2:5432/app\"\n", env: envMap("PW", "s3cret-pw")},
		"comma":    {yaml: "database:\n  host: db\n  replicas: postgres://app:s3cret-pw@r1:5432/app, postgres://app:s3cret-pw@r2:5432/app\n"},
		"env":      {yaml: "database:\n  host: db\n", env: envMap("SOCIALPREDICT_DATABASE_REPLICAS", strings.Join(want, ","))},
	} {
		t.Run(name, func(t *testing.T) {
			l, err := config.Parse("c.yaml", []byte(tc.yaml), tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(l.Database.Replicas, want) {
				t.Errorf("replicas = %q, want %q", l.Database.Replicas, want)
			}
			var out strings.Builder
			if err := l.Show(&out); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "s3cret-pw") || !strings.Contains(out.String(), "[postgres://app:xxxxx@r1:5432/app, postgres://app:xxxxx@r2:5432/app]") {
				t.Errorf("config show:\n%s", out.String())
			}
		})
	}
	for name, tc := range map[string]struct {
		yaml, key string
	}{
		"bad url":       {"database:\n  host: db\n  replicas: [\"mysql://r1/app\"]\n", "database.replicas"},
		"sqlite":        {"database:\n  driver: sqlite\n  replicas: [\"postgres://r1/app\"]\n", "database.replicas"},
		"short window":  {"database:\n  host: db\n  max_replica_lag: 10s\n  read_your_writes: 2s\n", "database.read_your_writes"},
		"not a list":    {"database:\n  host: db\n  replicas:\n    a: b\n", "database.replicas"},
		"lag too small": {"database:\n  host: db\n  max_replica_lag: 1ms\n", "database.max_replica_lag"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Parse("c.yaml", []byte(tc.yaml), nil)
			if !errors.Is(err, confkit.ErrInvalid) || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("err = %v, want a problem with %s", err, tc.key)
			}
		})
	}
	l, err := config.Parse("", nil, nil)
	if err != nil || l.Database.Replicas != nil || l.Database.MaxReplicaLag != 5*time.Second || l.Database.ReadYourWrites != 10*time.Second {
		t.Errorf("defaults: %+v, %v", l.Database, err)
	}
}
