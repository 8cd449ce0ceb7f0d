package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var known = func(c string) bool { return slices.Contains([]string{"webhook", "slack", "telegram", "email"}, c) }

func TestParseRoutesGood(t *testing.T) {
	b, err := os.ReadFile("testdata/routes.good.json")
	if err != nil {
		t.Fatal(err)
	}
	routes, err := ParseRoutes(b, known)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 3 || routes[0].EscalateAfter != 30*time.Minute || routes[1].MinSeverity != SeverityHigh || routes[2].Langs[0] != "vi" {
		t.Fatalf("%+v", routes)
	}
}

// TestParseRoutesBad: each testdata/*.bad.json fails with the error in its
// .bad.json-error file.
func TestParseRoutesBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.json")
	if len(files) == 0 {
		t.Fatal("no bad route files")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		want, err := os.ReadFile(f + "-error")
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseRoutes(b, known)
		if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(string(want))) {
			t.Errorf("%s: got %v, want an error containing %q", f, err, strings.TrimSpace(string(want)))
		}
	}
}

// FuzzParseRoutes: never panics; accepted routes only name known channels
// and valid severities.
func FuzzParseRoutes(f *testing.F) {
	for _, p := range []string{"testdata/routes.good.json", "testdata/unknown_field.bad.json", "testdata/bad_duration.bad.json"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		routes, err := ParseRoutes(b, known)
		if err != nil {
			return
		}
		for _, r := range routes {
			for _, c := range append(slices.Clone(r.Channels), r.Escalate...) {
				if !known(c) {
					t.Fatalf("accepted channel %q", c)
				}
			}
			if r.MinSeverity != "" && SeverityRank(r.MinSeverity) == 0 || r.EscalateAfter < 0 {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}
