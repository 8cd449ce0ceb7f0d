package trends

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

// BenchmarkDetect measures what `trendwatch detect` does with each post
// once cmd/trendwatch has decoded its JSON line — NewPipeline with the
// default settings, Pipeline.Post for each post, Flush — on the real
// twitter16 replay: 364k posts, reposts of 818 texts, real timing. It
// reports posts/s. The JSON decoding is not included (it is the command's,
// and costs about as much again).
func BenchmarkDetect(b *testing.B) {
	cs, err := LoadCascades(filepath.Join(testdata.SharedDir(b), "propagation", "twitter16"))
	if err != nil {
		b.Fatal(err)
	}
	posts, _ := Posts(cs, false, 1)
	for i := range posts {
		// Decoded posts each have their own strings; shared ones would make
		// the pipeline's memo compare texts by pointer, for free.
		posts[i].Text, posts[i].ID, posts[i].Author = strings.Clone(posts[i].Text), strings.Clone(posts[i].ID), strings.Clone(posts[i].Author)
	}
	benchPosts(b, posts)
}

// BenchmarkDetectDistinct is the worst case for the text analysis: every
// post a different text (synthetic, from a fixed vocabulary), 3,000
// authors, a burst now and then.
func BenchmarkDetectDistinct(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"flood", "Hanoi", "minister", "vaccine", "election", "storm", "price", "fuel", "school", "police",
		"bridge", "market", "football", "river", "airport", "hospital", "tax", "rice", "heat", "power", "#breaking", "#hanoi"}
	posts := make([]schema.Post, 20000)
	for i := range posts {
		txt := ""
		for range 12 + rng.IntN(12) {
			txt += words[rng.IntN(len(words))] + " "
		}
		posts[i] = schema.Post{ID: fmt.Sprint("p", i), Author: fmt.Sprint("u", rng.IntN(3000)), Text: txt + fmt.Sprint(i),
			Published: t0.Add(time.Duration(i) * 200 * time.Millisecond)}
	}
	benchPosts(b, posts)
}

func benchPosts(b *testing.B, posts []schema.Post) {
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		p := NewPipeline(DefaultConfig())
		for _, post := range posts {
			p.Post(post, nil)
		}
		p.Flush()
		n += len(posts)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkDetector is the detector alone, on pre-computed events.
func BenchmarkDetector(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	evs := make([]Event, 1<<20)
	for i := range evs {
		evs[i] = Event{Time: t0.Add(time.Duration(i) * 50 * time.Millisecond), Topic: fmt.Sprint("kw:t", rng.IntN(20000)),
			PostID: fmt.Sprint("p", i), Author: fmt.Sprint("u", rng.IntN(5000))}
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		d := NewDetector(DefaultConfig())
		for _, e := range evs {
			d.Observe(e)
		}
		d.Flush()
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
