package settings

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

func TestParseThresholds(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    map[string]float64
		key     string
		mention []string // the message names the bad language and value
	}{
		{in: `{"vi":0.6,"fr":0.55,"und":1}`, want: map[string]float64{"vi": 0.6, "fr": 0.55, "und": 1}},
		{in: `{}`, want: map[string]float64{}},
		{in: `{"vi":1.5}`, key: "settings.err.range", mention: []string{"vi", "1.5", "0..1"}},
		{in: `{"fr":-0.1,"vi":0.5}`, key: "settings.err.range", mention: []string{"fr", "-0.1"}},
		{in: `{"vi":"0.6"}`, key: "settings.err.number", mention: []string{"vi", `"0.6"`}},
		{in: `{"vi":null}`, key: "settings.err.number", mention: []string{"vi", "null"}},
		{in: `{"Tiếng Việt":0.5}`, key: "settings.err.lang", mention: []string{"Tiếng Việt"}},
		{in: `{"en":2,"vi":3}`, key: "settings.err.range", mention: []string{"en", "vi"}},
		{in: `[0.5]`, key: "settings.err.thresholds_json"},
		{in: `null`, key: "settings.err.thresholds_json"},
		{in: `{"vi":0.5`, key: "settings.err.thresholds_json"},
	} {
		got, err := ParseThresholds([]byte(tc.in))
		if tc.key == "" {
			if err != nil || len(got) != len(tc.want) {
				t.Errorf("%s: got %v, %v; want %v", tc.in, got, err, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: %s = %v, want %v", tc.in, k, got[k], v)
				}
			}
			continue
		}
		var se *Error
		if !errors.As(err, &se) || se.Key != tc.key {
			t.Errorf("%s: error %v, want key %s", tc.in, err, tc.key)
			continue
		}
		for _, m := range tc.mention {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: %q does not name %s", tc.in, err, m)
			}
		}
	}
}

func FuzzParseThresholds(f *testing.F) {
	f.Add(`{"vi":0.6}`)
	f.Add(`{"vi":1e400}`)
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThresholds([]byte(s))
		if err != nil {
			return
		}
		for l, v := range th {
			if !langCode.MatchString(l) || !(v >= 0 && v <= 1) {
				t.Fatalf("%q accepted %s=%v", s, l, v)
			}
		}
	})
}

func base() policy.Config {
	p := policy.Default()
	p.Thresholds = map[string]float64{"vi": 0.5, "fr": 0.5, "en": 0.5, "und": 0.6}
	return p
}

func TestParsePolicy(t *testing.T) {
	b := base()
	doc, cfg, err := ParsePolicy([]byte(`{"min_posts": 3, "min_authors": 2, "cooldown": "15m"}`), b)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinPosts != 3 || cfg.Cooldown != 15*time.Minute || cfg.Window != b.Window {
		t.Errorf("policy = %+v", cfg)
	}
	if strings.Contains(string(doc), "thresholds") || strings.Contains(string(PolicyJSON(cfg)), "threshold") {
		t.Errorf("stored doc or PolicyJSON carries thresholds: %s", doc)
	}
	// GET's shape with the thresholds in force added back is accepted too.
	var withTh map[string]any
	_ = json.Unmarshal(PolicyJSON(cfg), &withTh)
	withTh["thresholds"], withTh["default_threshold"] = b.Thresholds, b.DefaultThreshold
	full, _ := json.Marshal(withTh)
	if _, _, err := ParsePolicy(full, b); err != nil {
		t.Errorf("policy repeating the thresholds in force: %v", err)
	}
	// What GET answers goes back unchanged; its thresholds are dropped.
	doc, cfg, err = ParsePolicy(PolicyJSON(cfg), b)
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if cfg.MinPosts != 3 || cfg.Cooldown != 15*time.Minute || strings.Contains(string(doc), "threshold") {
		t.Errorf("round trip: %+v, doc %s", cfg, doc)
	}
	for _, tc := range []struct{ in, key, mention string }{
		{`{"min_posts": "three"}`, "settings.err.policy_type", "min_posts"},
		{`{"min_post": 3}`, "settings.err.policy_field", "min_post"},
		{`{"window": "an hour"}`, "settings.err.policy_duration", "window"},
		{`{"min_posts": 0}`, "settings.err.policy", "min_posts"},
		{`{"severity": [{"severity": "dire", "posts": 1}]}`, "settings.err.policy", "dire"},
		{`{"thresholds": {"vi": 0.9}}`, "settings.err.policy_thresholds", "/api/v1/settings/thresholds"},
		{`{"default_threshold": 0.1}`, "settings.err.policy_thresholds", "default_threshold"},
		{`{"min_posts": 3`, "settings.err.policy_syntax", "byte"},
		{`[1]`, "settings.err.policy_json", "object"},
	} {
		_, _, err := ParsePolicy([]byte(tc.in), b)
		var se *Error
		if !errors.As(err, &se) || se.Key != tc.key || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%s: error %v, want key %s naming %s", tc.in, err, tc.key, tc.mention)
			continue
		}
		if strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "struct") || strings.Contains(err.Error(), "int64") {
			t.Errorf("%s: message shows Go internals: %s", tc.in, err)
		}
	}
}

func rec(name string, rev uint64, value string) schema.Setting {
	return schema.Setting{Name: name, Revision: rev, Value: json.RawMessage(value), Actor: "admin", Time: time.Now()}
}

func TestLive(t *testing.T) {
	l := NewLive(base(), nil)
	var seen []float64
	l.OnChange(func(e *Effective) { seen = append(seen, e.Threshold("vi")) })
	l.Apply(rec(schema.SettingThresholds, 1, `{"vi":0.7}`))
	l.Apply(rec(schema.SettingAlertPolicy, 1, `{"min_posts":4,"min_authors":2}`))
	e := l.Effective()
	if e.Threshold("vi") != 0.7 || e.Threshold("fr") != 0.5 || e.Policy.MinPosts != 4 || e.Revisions[schema.SettingThresholds] != 1 {
		t.Errorf("effective = %+v", e.Policy)
	}
	// A value that no longer applies leaves the setting as it was.
	l.Apply(rec(schema.SettingThresholds, 2, `{"vi":7}`))
	if l.Effective().Threshold("vi") != 0.7 {
		t.Errorf("invalid stored value applied")
	}
	l.Remove(schema.SettingThresholds)
	if l.Effective().Threshold("vi") != 0.5 || l.Effective().Policy.MinPosts != 4 {
		t.Errorf("tombstone: %+v", l.Effective().Policy)
	}
	if want := []float64{0.5, 0.7, 0.7, 0.5}; len(seen) != len(want) {
		t.Errorf("OnChange saw %v, want %v", seen, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	go func() { time.Sleep(20 * time.Millisecond); l.Apply(rec(schema.SettingThresholds, 3, `{"vi":0.4}`)) }()
	if err := l.Wait(ctx, schema.SettingThresholds, 3); err != nil || l.Effective().Threshold("vi") != 0.4 {
		t.Errorf("Wait: %v, vi = %v", err, l.Effective().Threshold("vi"))
	}
}
