package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestComposeMatchesFlags keeps compose.yaml honest without a Docker
// engine: every TRENDWATCH_* variable it sets names a real flag (_FILE only
// for secrets), every trendwatch service runs a real command, and every
// file it mounts or reads exists in the repository.
func TestComposeMatchesFlags(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	compose := string(b)
	fs := flag.NewFlagSet("compose", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bindConfig(fs)

	keys := regexp.MustCompile(`(?m)^\s+(TRENDWATCH_[A-Z0-9_]+):`).FindAllStringSubmatch(compose, -1)
	if len(keys) < 5 {
		t.Fatalf("found %d TRENDWATCH_ settings in compose.yaml; the pattern no longer matches the file", len(keys))
	}
	for _, k := range keys {
		name := strings.TrimPrefix(k[1], "TRENDWATCH_")
		file := strings.HasSuffix(name, "_FILE")
		name = strings.ToLower(strings.ReplaceAll(strings.TrimSuffix(name, "_FILE"), "_", "-"))
		if fs.Lookup(name) == nil {
			t.Errorf("compose.yaml sets %s, but there is no --%s flag", k[1], name)
			continue
		}
		if file && !secretFlags[name] {
			t.Errorf("compose.yaml sets %s, but --%s is not a secret read from a file", k[1], name)
		}
	}

	// Commands of the services built from this repository (those merging
	// the x-trendwatch anchor); the others are third-party images.
	services := regexp.MustCompile(`(?m)^  ([a-z-]+):\n((?:    .*\n|\s*\n)*)`).FindAllStringSubmatch(compose, -1)
	ours := 0
	for _, s := range services {
		if !strings.Contains(s[2], "<<: *trendwatch") {
			continue
		}
		m := regexp.MustCompile(`command: \["([a-z-]+)"`).FindStringSubmatch(s[2])
		if m == nil {
			t.Errorf("service %s: no command", s[1])
			continue
		}
		ours++
		if _, ok := commands[m[1]]; !ok {
			t.Errorf("service %s runs %q, not a trendwatch command", s[1], m[1])
		}
	}
	if ours < 4 {
		t.Errorf("found %d trendwatch services in compose.yaml, want the migrate, ingest, analyze, alert and serve stages", ours)
	}

	for _, m := range regexp.MustCompile(`(?m)(?:file: |- )(\./[^\s:]+)`).FindAllStringSubmatch(compose, -1) {
		if _, err := os.Stat(filepath.Join("..", "..", m[1])); err != nil {
			t.Errorf("compose.yaml refers to %s: %v", m[1], err)
		}
	}
}
