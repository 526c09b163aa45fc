package server_test

import (
	"errors"
	"strings"
	"testing"

	"socialpredict/internal/confkit"
	"socialpredict/server"
)

// TestConfigListenAddresses: the ops listener must not be the public one;
// port 0 (a free port for each) is two listeners.
func TestConfigListenAddresses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		listen, ops string
		ok          bool
	}{
		{"127.0.0.1:8080", "127.0.0.1:9090", true},
		{"127.0.0.1:8080", "", true},
		{"127.0.0.1:0", "127.0.0.1:0", true},
		{"127.0.0.1:8080", "127.0.0.1:8080", false},
		{"127.0.0.1", "127.0.0.1:9090", false},
		{"127.0.0.1:8080", "localhost", false},
	} {
		cfg := server.DefaultConfig()
		cfg.Listen, cfg.OpsListen = c.listen, c.ops
		err := cfg.Validate()
		if (err == nil) != c.ok || err != nil && !errors.Is(err, confkit.ErrInvalid) {
			t.Errorf("listen %q, ops_listen %q: %v; want valid: %v", c.listen, c.ops, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "server.") {
			t.Errorf("listen %q, ops_listen %q: %v does not name the key", c.listen, c.ops, err)
		}
	}
}
