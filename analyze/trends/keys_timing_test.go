package trends

import (
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/bench"
	"github.com/trendwatch/trendwatch/schema"
)

// BenchmarkKeys is Keys over the benchmark generator's mix of posts
// (Vietnamese, French, English), analysed beforehand.
func BenchmarkKeys(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := bench.NewGenerator(bench.GenOptions{Seed: 1, RunID: "x", Facts: 2000}, start)
	const n = 4096
	posts, docs, matches := make([]schema.Post, n), make([]text.Doc, n), make([][]string, n)
	for i := range n {
		gp := g.Next(start.Add(time.Duration(i) * time.Millisecond))
		p := gp.Post
		body := p.Text
		if p.Title != "" && !strings.HasPrefix(p.Text, p.Title) {
			body = p.Title + "\n" + p.Text
		}
		posts[i], docs[i] = p, text.Analyze(body, p.Lang)
		if gp.FactID != "" {
			matches[i] = []string{gp.FactID}
		}
	}
	Keys(posts[0], docs[0], matches[0]) // loads the phrase table once, outside the timing
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j := i % n
		Keys(posts[j], docs[j], matches[j])
	}
}
