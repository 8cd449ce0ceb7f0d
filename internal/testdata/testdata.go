// Package testdata locates the shared research data (../shared/data) for
// tests and benchmarks. The data is never copied into the repository.
package testdata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// SharedDir returns the absolute path of the shared data directory, from
// TRENDWATCH_SHARED_DATA or ../shared/data beside the repository. Outside
// CI a missing directory skips the test; in CI (CI=true) it fails it,
// because CI always has the data.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	dir, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("shared data not found (CI must have it): %v", err)
		}
		tb.Skipf("shared data not found, skipping: %v", err)
	}
	return dir
}

// Find returns the shared data directory or an error saying where it looked.
func Find() (string, error) {
	if d := os.Getenv("TRENDWATCH_SHARED_DATA"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", err
		}
		return d, nil
	}
	_, file, _, _ := runtime.Caller(0)
	// file is <repo>/internal/testdata/testdata.go; the data sits beside <repo>.
	repo := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	d := filepath.Join(filepath.Dir(repo), "shared", "data")
	if _, err := os.Stat(d); err != nil {
		return "", err
	}
	return d, nil
}
