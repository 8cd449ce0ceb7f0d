package trends

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

// BenchmarkEnrichKeysVINews is what the analyzer's enrichment does per
// post apart from claim matching: text.Analyze of title and summary, then
// the topic keys and labels, over the vi-news items.
func BenchmarkEnrichKeysVINews(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join(testdata.SharedDir(b), "vi-news", "*.jsonl"))
	var posts []schema.Post
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r struct{ Title, Summary, Link string }
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				posts = append(posts, schema.Post{Title: r.Title, Text: r.Summary, URL: r.Link})
			}
		}
		f.Close()
	}
	KeysLabels(posts[0], text.Analyze(posts[0].Title+"\n"+posts[0].Text, ""), nil) // loads the phrase table outside the timing
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := posts[i%len(posts)]
		body := p.Title + "\n" + p.Text
		doc := text.Analyze(body, "")
		KeysLabels(p, doc, nil)
	}
}
