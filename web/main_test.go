package web

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves goroutines behind (servers,
// cache computations, the browser's connection).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
