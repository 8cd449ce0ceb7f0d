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

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy([]byte(`{"window": "30m", "min_posts": 5, "min_authors": 3, "cooldown": "90s", "escalate_after": "20m", "watchlist": ["fact-42"]}`), Default())
	if err != nil {
		t.Fatal(err)
	}
	if p.Window != 30*time.Minute || p.Cooldown != 90*time.Second || p.EscalateAfter != 20*time.Minute || p.MinPosts != 5 || p.MinAuthors != 3 || len(p.Watchlist) != 1 {
		t.Errorf("parsed %+v", p)
	}
	// What the file leaves out keeps the defaults.
	if d := Default(); p.RenotifyFactor != d.RenotifyFactor || len(p.Verdicts) != len(d.Verdicts) || len(p.Severity) != len(d.Severity) {
		t.Errorf("defaults not kept: %+v", p)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"window": 3600000000000}`, "window"},
		{`{"window": "soon"}`, "window"},
		{`{"cooldwn": "1m"}`, "unknown field"},
		{`{"min_posts": 0}`, "min_posts"},
		{`{} {}`, "trailing data"},
		{`[`, "cannot parse policy"},
	} {
		if _, err := ParsePolicy([]byte(tc.in), Default()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want error containing %q, got %v", tc.in, tc.want, err)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(`{"window": "30m", "min_posts": 5, "cooldown": "90s", "thresholds": {"vi": 0.6}}`))
	f.Add([]byte(`{"severity": [{"severity": "high", "posts": 10}], "escalate_after": "-1s"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b, Default())
		if err == nil {
			// Whatever is accepted is a valid policy.
			if verr := p.Validate(); verr != nil {
				t.Fatalf("accepted an invalid policy: %v", verr)
			}
		}
	})
}
