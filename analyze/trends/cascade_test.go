package trends

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadAndEvaluateCascades(t *testing.T) {
	cs, err := LoadCascades(filepath.Join("testdata", "cascades"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d cascades", len(cs))
	}
	fast, slow := cs[1], cs[0] // sorted by id
	if fast.ID != "656955120626880512" || fast.Size() != 121 || fast.Author != "100" || fast.Label != "false" {
		t.Fatalf("fast cascade %+v", fast)
	}
	if want := time.Date(2015, 10, 21, 20, 30, 0, 0, time.UTC); fast.Start.Truncate(time.Hour*24) != want.Truncate(24*time.Hour) {
		t.Errorf("snowflake time %v, want on %v", fast.Start, want)
	}
	if slow.Shares[99].Delay != time.Duration(99*43.2*float64(time.Minute)) {
		t.Errorf("delay %v", slow.Shares[99].Delay)
	}
	// Control replay: same volume, spread over 72 h, deterministic.
	p1, owner := Posts(cs, true, 7)
	p2, _ := Posts(cs, true, 7)
	if len(p1) != 222 || len(owner) != 222 || p1[5].ID != p2[5].ID || !p1[5].Published.Equal(p2[5].Published) {
		t.Fatalf("control replay not deterministic or wrong size: %d", len(p1))
	}
	for _, p := range p1 {
		c := cs[owner[p.ID]]
		if p.Published.Before(c.Start) || p.Published.After(c.Start.Add(ControlSpan)) || p.Text != c.Text {
			t.Fatalf("control post %+v outside its cascade", p)
		}
	}
	m := Evaluate(cs, DefaultConfig(), 1)
	// The fast cascade is flagged at its 5th distinct author (1 minute
	// rule), 5/121 of its final size; the slow one (101 posts over three
	// days) never, and neither control.
	if m.Cascades != 2 || m.Recall5 != 0.5 || m.Flagged != 0.5 || m.MedianFraction != 5.0/121 || m.FalseFlagRate != 0 || m.Controls != 2 {
		t.Errorf("measures %+v", m)
	}
}

func TestLoadCascadesErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadCascades(dir); err == nil || !strings.Contains(err.Error(), "source_tweets.txt") {
		t.Errorf("missing files: %v", err)
	}
	write := func(name, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("source_tweets.txt", "1\thello\n")
	write("label.txt", "false:1\n")
	write("tree/1.txt", "['ROOT', 'ROOT', '0.0']->['9', '1', '0.0']\n['9', '1', '0.0']->['8', '1', 'soon']\n")
	if _, err := LoadCascades(dir); err == nil || !strings.Contains(err.Error(), "1.txt:2") {
		t.Errorf("bad delay: %v", err)
	}
	write("label.txt", "false:x\n")
	if _, err := LoadCascades(dir); err == nil || !strings.Contains(err.Error(), "label.txt:1") {
		t.Errorf("bad id: %v", err)
	}
}

func TestParseEdge(t *testing.T) {
	f := func(line, uid string, delay time.Duration, root, ok bool) {
		t.Helper()
		u, d, r, err := parseEdge(line)
		if (err == nil) != ok || u != uid || d != delay || r != root {
			t.Errorf("parseEdge(%q) = %q, %v, %v, %v", line, u, d, r, err)
		}
	}
	f("['ROOT', 'ROOT', '0.0']->['24165761', '498430783699554305', '0.0']", "24165761", 0, true, true)
	f("['24165761', '498430783699554305', '0.0']->['33164207', '498430783699554305', '0.3']", "33164207", 18*time.Second, false, true)
	f("['1', '2', '0.0']->['3', '2', '-1.5']", "3", -90*time.Second, false, true)
	f("['1', '2', '0.0']->['3', '2', 'NaN']", "", 0, false, false)
	f("['1', '2', '0.0']->['3', '2', '1e300']", "", 0, false, false)
	f("['1', '2', '0.0']['3', '2', '1']", "", 0, false, false)
	f("['1', '2', '0.0']->['', '2', '1']", "", 0, false, false)
	f("['1', '2', '0.0']->['3', '1']", "", 0, false, false)
}

func FuzzParseEdge(f *testing.F) {
	f.Add("['ROOT', 'ROOT', '0.0']->['24165761', '498430783699554305', '0.0']")
	f.Add("['24165761', '498430783699554305', '0.0']->['33164207', '498430783699554305', '0.3']")
	f.Add("->[,,]")
	f.Fuzz(func(t *testing.T, line string) {
		uid, d, root, err := parseEdge(line)
		if err != nil {
			return
		}
		if uid == "" || strings.Contains(uid, ",") {
			t.Fatalf("uid %q from %q", uid, line)
		}
		if root && d != 0 {
			t.Fatalf("root with delay %v", d)
		}
		if d > 10*365*24*time.Hour || d < -10*365*24*time.Hour {
			t.Fatalf("delay %v out of range", d)
		}
	})
}
