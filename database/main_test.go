package database_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when goroutines outlive the tests: a pool left
// open, a transaction never ended.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
