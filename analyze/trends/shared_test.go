package trends

import (
	"path/filepath"
	"testing"

	"github.com/trendwatch/trendwatch/internal/testdata"
)

// TestTwitter16 replays the real cascades and their controls with the
// default configuration and holds the acceptance thresholds.
func TestTwitter16(t *testing.T) {
	if testing.Short() {
		t.Skip("replays 818 cascades")
	}
	dir := filepath.Join(testdata.SharedDir(t), "propagation", "twitter16")
	cs, err := LoadCascades(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 818 {
		t.Fatalf("loaded %d cascades, want 818", len(cs))
	}
	m := Evaluate(cs, DefaultConfig(), 1)
	t.Logf("%+v", m)
	if m.Recall10 < 0.95 {
		t.Errorf("recall at 10%% = %.3f, want >= 0.95", m.Recall10)
	}
	// Not acceptance criteria, but regressions worth knowing about.
	if m.Recall20 < 0.97 || m.MedianFraction > 0.05 || m.Flagged < 0.98 {
		t.Errorf("recall at 20%% %.3f (want >= 0.97), median fraction %.3f (want <= 0.05), flagged %.3f (want >= 0.98)",
			m.Recall20, m.MedianFraction, m.Flagged)
	}
	if m.FalseFlagRate > 0.02 {
		t.Errorf("false-flag rate = %.3f, want <= 0.02", m.FalseFlagRate)
	}
}
