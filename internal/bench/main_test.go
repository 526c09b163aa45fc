package bench_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: the
// in-process API server, the load generator's connections, the pools.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
