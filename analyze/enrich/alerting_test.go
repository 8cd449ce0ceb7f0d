package enrich

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/schema"
)

func analyzed(lang string, score float64, verdict string) *schema.Analyzed {
	return &schema.Analyzed{Post: schema.Post{ID: "p", Lang: lang}, Matches: []schema.Match{{FactID: "f", Score: score, Verdict: verdict}}}
}

func TestSetAlerting(t *testing.T) {
	e := New(Options{Index: claims.NewIndex(claims.Options{})})
	alerts := func(a *schema.Analyzed) bool { return len(e.Alerting(a)) == 1 }
	if !alerts(analyzed("vi", 0.6, schema.VerdictFalse)) {
		t.Fatal("0.6 does not alert at the default 0.5")
	}
	e.SetAlerting(map[string]float64{"vi": 0.7, "und": 0.8}, 0.4, []string{"False"})
	for _, tc := range []struct {
		a    *schema.Analyzed
		want bool
	}{
		{analyzed("vi", 0.6, schema.VerdictFalse), false},      // raised threshold
		{analyzed("vi", 0.7, schema.VerdictFalse), true},       // reaches it
		{analyzed("de", 0.45, schema.VerdictFalse), true},      // default for an unlisted language
		{analyzed("", 0.75, schema.VerdictFalse), false},       // no language: und's
		{analyzed("vi", 0.9, schema.VerdictMisleading), false}, // verdicts replaced too
	} {
		if got := alerts(tc.a); got != tc.want {
			t.Errorf("%s %.2f %s: alerts %v, want %v", tc.a.Lang, tc.a.Matches[0].Score, tc.a.Matches[0].Verdict, got, tc.want)
		}
	}
}

// A change is seen whole: with two rule sets that each refuse a match
// (one by threshold, the other by verdict), a post enriched during the
// swaps never alerts, as it would under a half-applied change.
func TestSetAlertingAtomic(t *testing.T) {
	e := New(Options{Index: claims.NewIndex(claims.Options{})})
	a := analyzed("vi", 0.5, schema.VerdictFalse)
	e.SetAlerting(map[string]float64{"vi": 0.9}, 0.9, []string{schema.VerdictFalse})
	var stop atomic.Bool
	var wrong atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if len(e.Alerting(a)) > 0 {
					wrong.Add(1)
				}
			}
		}()
	}
	for i := range 20000 {
		if i%2 == 0 {
			e.SetAlerting(map[string]float64{"vi": 0.1}, 0.1, []string{schema.VerdictOther})
		} else {
			e.SetAlerting(map[string]float64{"vi": 0.9}, 0.9, []string{schema.VerdictFalse})
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d posts alerted under a half-applied change", n)
	}
}

// BenchmarkAlerting compares the per-post cost with and without an
// admin's override (run both in one process; report the ratio).
func BenchmarkAlerting(b *testing.B) {
	a := analyzed("vi", 0.6, schema.VerdictFalse)
	for _, override := range []bool{false, true} {
		name := "index"
		if override {
			name = "override"
		}
		b.Run(name, func(b *testing.B) {
			e := New(Options{Index: claims.NewIndex(claims.Options{})})
			if override {
				e.SetAlerting(claims.DefaultThresholds, claims.DefaultThreshold, []string{schema.VerdictFalse, schema.VerdictMisleading})
			}
			for b.Loop() {
				if len(e.Alerting(a)) != 1 {
					b.Fatal("no alert")
				}
			}
		})
	}
}
