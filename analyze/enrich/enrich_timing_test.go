package enrich_test

import (
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/enrich"
	"github.com/trendwatch/trendwatch/analyze/trends"
	"github.com/trendwatch/trendwatch/bench"
	"github.com/trendwatch/trendwatch/schema"
)

// BenchmarkEnrich is the enrich-only measurement of `trendwatch bench` on
// one core: the generator's posts (vi, fr, en) against its 15,000 facts,
// with the analyzer's topic keys and labels.
func BenchmarkEnrich(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := bench.NewGenerator(bench.GenOptions{Seed: 1, RunID: "x"}, start)
	ix := claims.NewIndex(claims.Options{})
	for _, f := range g.Facts() {
		ix.Upsert(f)
	}
	en := enrich.New(enrich.Options{Index: ix, KeysLabels: trends.KeysLabels})
	posts := make([]schema.Post, 4096)
	for i := range posts {
		posts[i] = g.Next(start.Add(time.Duration(i) * time.Millisecond)).Post
	}
	en.Enrich(posts[0]) // loads the embedded tables once, outside the timing
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		en.Enrich(posts[i%len(posts)])
	}
}
