package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDetectGolden runs `trendwatch detect` on a small stream written for
// it (a Vietnamese hashtag taking off with and without accents, a reposted
// story, one account posting a hundred times, a steady topic that later
// bursts) and compares with the reviewed output. Regenerate with
// TRENDWATCH_UPDATE_GOLDEN=1 after checking the difference by hand.
func TestDetectGolden(t *testing.T) {
	dir := filepath.Join("testdata", "detect")
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"detect", "--input", filepath.Join(dir, "posts.jsonl")}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	golden := filepath.Join(dir, "flags.golden")
	if os.Getenv("TRENDWATCH_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("flags differ from golden:\n%s\nwant:\n%s", out.String(), want)
	}
	for _, bad := range []string{`"spam-`, `"weather-000"],"kind":"emerging"`} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("output flags what it must not (%s)", bad)
		}
	}
	// Same input from stdin, in chunks: same output (deterministic).
	in, err := os.ReadFile(filepath.Join(dir, "posts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := detectFrom(t, bytes.NewReader(in), &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), want) {
		t.Errorf("second run differs")
	}
}

func detectFrom(t *testing.T, in *bytes.Reader, out *bytes.Buffer) error {
	t.Helper()
	cfgFlags := newFlagSet("detect", &bytes.Buffer{})
	tf := addTrendFlags(cfgFlags)
	cfg, err := tf.config()
	if err != nil {
		return err
	}
	_, err = detect(context.Background(), in, out, cfg, &bytes.Buffer{})
	return err
}

func TestDetectBadInput(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","time":"2026-01-01T00:00:00Z","text":"ok","author":"x"}`,
		`not json`,
		`{"id":"b","time":"yesterday","text":"bad time"}`,
		`{"id":"","time":"2026-01-01T00:00:01Z","text":"no id"}`,
		``,
		`{"id":"c","time":"2026-01-01T00:00:02Z","text":"ok again","author":"y"}`,
	}, "\n")
	var out, errb bytes.Buffer
	cfg, _ := addTrendFlags(newFlagSet("detect", &errb)).config()
	st, err := detect(context.Background(), strings.NewReader(in), &out, cfg, &errb)
	if err != nil {
		t.Fatal(err)
	}
	if st.posts != 2 || st.skipped != 3 {
		t.Errorf("stats %+v, want 2 posts and 3 skipped", st)
	}
	for _, want := range []string{"line 2 skipped: invalid JSON", "line 3 skipped: invalid time", "line 4 skipped: post has no id"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	var e2 bytes.Buffer
	if code := runMain(context.Background(), []string{"detect", "--emerging", "1m"}, &bytes.Buffer{}, &e2); code != 2 {
		t.Errorf("bad -emerging: exit %d, want 2 (%s)", code, e2.String())
	}
}

func FuzzDetectInput(f *testing.F) {
	f.Add([]byte(`{"id":"a","time":"2026-01-01T00:00:00Z","text":"#x ok https://e.com/?utm_source=1","author":"x","lang":"vi"}`))
	f.Add([]byte("{\"id\":\"\xff\",\"time\":\"2026-01-01T00:00:00+07:00\",\"text\":\"\\u0000\"}\n{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Replicate lines so that some topic can be flagged.
		var in bytes.Buffer
		for range 8 {
			in.Write(b)
			in.WriteByte('\n')
		}
		cfg, _ := addTrendFlags(newFlagSet("detect", &bytes.Buffer{})).config()
		var out bytes.Buffer
		if _, err := detect(context.Background(), bytes.NewReader(in.Bytes()), &out, cfg, &bytes.Buffer{}); err != nil && !strings.Contains(err.Error(), "token too long") {
			t.Fatal(err)
		}
	})
}
