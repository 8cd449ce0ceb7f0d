package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/trends"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// TestTrainTrendBackground builds the table from two small day files
// (testdata/trend-background, real vi-news lines) twice: the output is
// byte-identical, every vocabulary key seen in two posts has its posts
// over 48 hours, and story/url keys are left to the default rate.
func TestTrainTrendBackground(t *testing.T) {
	glob := filepath.Join("testdata", "trend-background", "*.jsonl")
	run := func(out string) []byte {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := runMain(context.Background(), []string{"train", "trend-background", "--news", glob, "--out", out}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "bg.tsv.gz")
	a, b := run(out), run(out)
	if !bytes.Equal(a, b) {
		t.Fatal("two builds from the same files differ")
	}
	tb, err := clickhouse.ReadRateTable(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if tb.Hours != 48 || tb.Default != 0.5/48 || !strings.Contains(tb.Command, "--news") {
		t.Errorf("table: %v hours, default %v, command %q", tb.Hours, tb.Default, tb.Command)
	}
	// Recount here, with the analyzer's keys.
	counts := map[string]int{}
	paths, _ := filepath.Glob(glob)
	for _, p := range paths {
		posts, err := readNewsPosts(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, post := range posts {
			for _, k := range uniqueKeys(trends.AnalyzeKeys(post, nil)) {
				counts[k]++
			}
		}
	}
	kept := 0
	for k, n := range counts {
		want := tb.Default
		if n >= 2 && clickhouse.BackgroundKey(k) {
			want, kept = float64(n)/48, kept+1
		}
		if strings.HasPrefix(k, schema.TopicStory) || strings.HasPrefix(k, schema.TopicURL) {
			want = tb.Default
		}
		if got := tb.Rate(k); got != want {
			t.Errorf("rate of %q (%d posts) = %v, want %v", k, n, got, want)
		}
	}
	if kept == 0 || tb.Len() != kept {
		t.Errorf("table holds %d keys, want %d (> 0)", tb.Len(), kept)
	}
}
