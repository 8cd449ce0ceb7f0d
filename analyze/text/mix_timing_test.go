package text_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/bench"
)

// mixPosts returns n generated posts (Vietnamese, French, English), as the
// pipeline analyses them: title and text, with the post's language hint.
// An external test package, as bench imports this one.
func mixPosts(n int) (bodies, hints []string) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := bench.NewGenerator(bench.GenOptions{Seed: 1, RunID: "x", Facts: 2000}, start)
	for i := range n {
		p := g.Next(start.Add(time.Duration(i) * time.Millisecond)).Post
		body := p.Text
		if p.Title != "" && !strings.HasPrefix(p.Text, p.Title) {
			body = p.Title + "\n" + p.Text
		}
		bodies, hints = append(bodies, body), append(hints, p.Lang)
	}
	return bodies, hints
}

// BenchmarkAnalyzeMix is Analyze over the benchmark generator's mix of
// posts, the load of `trendwatch bench`.
func BenchmarkAnalyzeMix(b *testing.B) {
	bodies, hints := mixPosts(4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j := i % len(bodies)
		text.Analyze(bodies[j], hints[j])
	}
}
