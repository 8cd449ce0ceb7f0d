package policy

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	f := func(mut func(*Config), want string) {
		t.Helper()
		c := Default()
		mut(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("want error containing %q, got %v", want, err)
		}
	}
	f(func(c *Config) { c.Verdicts = nil }, "no alerting verdicts")
	f(func(c *Config) { c.Thresholds = map[string]float64{"vi": 1.5} }, "threshold vi=1.5")
	f(func(c *Config) { c.DefaultThreshold = math.NaN() }, "threshold default")
	f(func(c *Config) { c.Window = 0 }, "window")
	f(func(c *Config) { c.MinPosts = 0 }, "min_posts")
	f(func(c *Config) { c.MinAuthors = 5; c.MinPosts = 2 }, "min_authors")
	f(func(c *Config) { c.RenotifyFactor = 1 }, "renotify factor")
	f(func(c *Config) { c.Severity = []SeverityRule{{Severity: "urgent"}} }, `unknown severity "urgent"`)
	f(func(c *Config) { c.Cooldown = -time.Second }, "cooldown")
}

func TestThresholdAndQualifies(t *testing.T) {
	c := Default()
	c.Thresholds = map[string]float64{"vi": 0.5, "und": 0.8}
	c.DefaultThreshold = 0.6
	f := func(lang, verdict string, score float64, want bool) {
		t.Helper()
		if got := c.Qualifies(schema.Alert{Lang: lang, Verdict: verdict, Score: score}); got != want {
			t.Fatalf("%s %s %.2f: %v, want %v", lang, verdict, score, got, want)
		}
	}
	f("vi", "false", 0.5, true)
	f("VI", "false", 0.49, false)
	f("fr", "misleading", 0.6, true)
	f("fr", "misleading", 0.59, false)
	f("", "false", 0.79, false)
	f("", "false", 0.8, true)
	f("en", "mixed", 1, false)
	f("en", "false", math.NaN(), false)
}

func TestSeverityAndRenotify(t *testing.T) {
	c := Default()
	f := func(v Velocity, want string) {
		t.Helper()
		if got := c.SeverityOf(v); got != want {
			t.Fatalf("%+v: %s, want %s", v, got, want)
		}
	}
	f(Velocity{Posts: 1, Authors: 1}, SeverityLow)
	f(Velocity{Posts: 10, Authors: 4}, SeverityMedium)
	f(Velocity{Posts: 60, Authors: 10}, SeverityMedium) // many posts, few authors
	f(Velocity{Posts: 50, Authors: 15}, SeverityHigh)
	f(Velocity{Posts: 3, Authors: 3, TotalAuthors: 100}, SeverityHigh) // reach alone
	f(Velocity{Posts: 250, Authors: 80}, SeverityCritical)
	if c.Renotify(4, 7) || !c.Renotify(4, 8) || !c.Renotify(0, 2) {
		t.Fatal("renotify factor 2")
	}
	c.RenotifyFactor = 0
	if c.Renotify(1, 1000) {
		t.Fatal("factor 0 must disable")
	}
}

func TestResolveRoutes(t *testing.T) {
	routes := []Route{
		{Name: "desk", Channels: []string{"webhook", "slack"}, Escalate: []string{"telegram"}, EscalateAfter: time.Hour},
		{Name: "fr", Langs: []string{"fr"}, Channels: []string{"email-fr"}},
		{Name: "editor", MinSeverity: SeverityHigh, Channels: []string{"email", "slack"}, Escalate: []string{"phone"}, EscalateAfter: 10 * time.Minute},
		{Name: "health", Tags: []string{"health"}, Channels: []string{"health-desk"}},
	}
	f := func(sev string, langs, tags []string, want string) {
		t.Helper()
		tg := Resolve(routes, sev, langs, tags, 30*time.Minute)
		got := strings.Join(tg.Channels, ",") + "|" + strings.Join(tg.Escalate, ",") + "|" + tg.EscalateAfter.String()
		if got != want {
			t.Fatalf("%s %v %v: %s, want %s", sev, langs, tags, got, want)
		}
	}
	f(SeverityLow, []string{"vi"}, nil, "webhook,slack|telegram|1h0m0s")
	f(SeverityLow, []string{"vi", "fr"}, nil, "webhook,slack,email-fr|telegram|1h0m0s")
	f(SeverityHigh, nil, []string{"health"}, "webhook,slack,email,health-desk|telegram,phone|10m0s")
	err := ValidateRoutes([]Route{{Name: "x", Channels: []string{"nope"}, MinSeverity: "huge"}}, func(string) bool { return false })
	if err == nil || !strings.Contains(err.Error(), `unknown channel "nope"`) || !strings.Contains(err.Error(), `unknown severity "huge"`) {
		t.Fatalf("ValidateRoutes: %v", err)
	}
}

func TestParseThresholds(t *testing.T) {
	got, err := ParseThresholds(" vi=0.6, FR=0.65 ,en=0.6,und=0.7,")
	if err != nil || len(got) != 4 || got["fr"] != 0.65 || got["und"] != 0.7 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"vi", "vi=", "=0.5", "vi=2", "vi=NaN", "vi=0.5,vi=0.6", "vi=abc"} {
		if _, err := ParseThresholds(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzParseThresholds: the parser never panics and whatever it accepts is
// a valid threshold map that round-trips.
func FuzzParseThresholds(f *testing.F) {
	f.Add("vi=0.6,fr=0.65,en=0.6,und=0.7")
	f.Add("=,==,=1e400")
	f.Add("x=-0,y=1.0000")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseThresholds(s)
		if err != nil {
			return
		}
		c := Default()
		c.Thresholds = m
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted %q but the config is invalid: %v", s, err)
		}
		for k, v := range m {
			if k == "" || k != strings.ToLower(k) || v < 0 || v > 1 {
				t.Fatalf("accepted %q -> %q=%v", s, k, v)
			}
		}
	})
}
