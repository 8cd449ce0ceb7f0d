package feed

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trendwatch/trendwatch/internal/testdata"
)

// BenchmarkParse reports feed items parsed per second (items/s) on real
// captures: a 730-item podcast feed (1.6 MB), The Guardian, a
// Latin-1 feed that needs transcoding, and an Atom feed.
func BenchmarkParse(b *testing.B) {
	dir := filepath.Join(testdata.SharedDir(b), "feeds", "captured")
	for _, name := range []string{"giantbomb-podcast.rss", "guardian.rss", "encoding.rss", "heise.atom"} {
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			items := 0
			for b.Loop() {
				res, err := Parse(body, Meta{Source: "https://bench.example/", Fetched: fetched})
				if err != nil {
					b.Fatal(err)
				}
				items += len(res.Posts)
			}
			b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
