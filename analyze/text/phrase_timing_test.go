package text

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/trendwatch/trendwatch/internal/testdata"
)

func viNewsTexts(tb testing.TB) []string {
	paths, _ := filepath.Glob(filepath.Join(testdata.SharedDir(tb), "vi-news", "*.jsonl"))
	var out []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r struct{ Title, Summary string }
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				out = append(out, Clean(r.Title+"\n"+r.Summary).Text)
			}
		}
		f.Close()
	}
	return out
}

// BenchmarkUnits is the phrase units of the vi-news items (title and
// summary, cleaned), as the topic keys take them.
func BenchmarkUnits(b *testing.B) {
	texts := viNewsTexts(b)
	t := Phrases()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t.Units(texts[i%len(texts)], LangVI)
	}
}

// BenchmarkAnalyzeVINews is text.Analyze on the same texts, for scale.
func BenchmarkAnalyzeVINews(b *testing.B) {
	texts := viNewsTexts(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Analyze(texts[i%len(texts)], LangVI)
	}
}
