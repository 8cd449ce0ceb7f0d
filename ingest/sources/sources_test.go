package sources

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

func TestImportOPML(t *testing.T) {
	f, err := os.Open("testdata/subscriptions.opml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	srcs, err := ImportOPML(f)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ url, name, lang, cat string }
	want := []row{
		{"https://vnexpress.net/rss/tin-moi-nhat.rss", "VnExpress – Tin mới nhất", "vi", "Tin tức"},
		{"https://tuoitre.vn/rss/tin-moi-nhat.rss", "Tuổi Trẻ", "", "Tin tức"},
		{"https://www.theguardian.com/world/rss", "The Guardian & friends", "", "World"},
		{"https://www.lemonde.fr/rss/une.xml", "Le Monde", "fr", "World"},
		{"https://factuel.afp.com/rss.xml", "AFP Factuel", "", ""},
	}
	if len(srcs) != len(want) {
		t.Fatalf("got %d sources, want %d: %+v", len(srcs), len(want), srcs)
	}
	for i, w := range want {
		s := srcs[i]
		if s.URL != w.url || s.Name != w.name || s.Lang != w.lang || s.Options["category"] != w.cat || s.Kind != KindFeed || !s.Enabled || s.ID != schema.SourceID(KindFeed, w.url) {
			t.Errorf("source %d = %+v, want %+v", i, s, w)
		}
	}

	// Export and re-import keeps everything, folders included.
	var buf bytes.Buffer
	if err := ExportOPML(&buf, "trendwatch", srcs); err != nil {
		t.Fatal(err)
	}
	again, err := ImportOPML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(srcs) {
		t.Fatalf("round trip: %d sources, want %d", len(again), len(srcs))
	}
	for i := range srcs {
		a, b := srcs[i], again[i]
		if a.ID != b.ID || a.Name != b.Name || a.Lang != b.Lang || a.Options["category"] != b.Options["category"] {
			t.Errorf("round trip %d: %+v != %+v", i, b, a)
		}
	}
}

func TestImportOPMLErrors(t *testing.T) {
	for _, in := range []string{"", "not xml", "<opml><body><outline xmlUrl=\"ftp://x\"/></body></opml>"} {
		if _, err := ImportOPML(strings.NewReader(in)); err == nil {
			t.Errorf("ImportOPML(%q) accepted", in)
		}
	}
}

func TestNormalize(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := func(s schema.Source, wantErr bool) {
		t.Helper()
		n, err := Normalize(s, now)
		if (err != nil) != wantErr {
			t.Errorf("Normalize(%+v) err=%v, wantErr %v", s, err, wantErr)
		}
		if err == nil && (n.ID == "" || n.Created.IsZero()) {
			t.Errorf("Normalize(%+v) did not fill id/created: %+v", s, n)
		}
	}
	f(schema.Source{Kind: "feed", URL: "https://example.com/rss"}, false)
	f(schema.Source{Kind: " FEED ", URL: "https://example.com/rss"}, false)
	f(schema.Source{Kind: "mastodon", URL: "mastodon.social#osint"}, false)
	f(schema.Source{Kind: "feed", URL: "example.com/rss"}, true)
	f(schema.Source{Kind: "gopher", URL: "https://example.com"}, true)
	f(schema.Source{Kind: "feed", URL: ""}, true)
	f(schema.Source{Kind: "feed", URL: "https://e.com", Interval: -1}, true)
}

func TestFileStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sources.json")
	fs := NewFile(path)
	ctx := context.Background()
	if got, err := fs.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("missing file: %v %v", got, err)
	}
	a := schema.Source{Kind: KindFeed, URL: "https://a.example/rss", Enabled: true}
	b := schema.Source{Kind: KindCrawl, URL: "https://b.example/", Enabled: true, Options: map[string]string{"depth": "2"}}
	if err := fs.Put(a, b); err != nil {
		t.Fatal(err)
	}
	// A second store on the same file sees the change (another process).
	other := NewFile(path)
	got, err := other.List(ctx)
	if err != nil || len(got) != 2 || got[1].Options["depth"] != "2" {
		t.Fatalf("other reader: %+v %v", got, err)
	}
	if err := fs.Delete(schema.SourceID(KindFeed, a.URL)); err != nil {
		t.Fatal(err)
	}
	// Same size could hide a change from a stat-only check on coarse
	// clocks; Delete shrinks the file so this checks the common path.
	got, err = other.List(ctx)
	if err != nil || len(got) != 1 || got[0].Kind != KindCrawl {
		t.Fatalf("after delete: %+v %v", got, err)
	}
	if err := os.WriteFile(path, []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFile(path).List(ctx); err == nil {
		t.Error("broken file accepted")
	}
}

func TestMemoryStore(t *testing.T) {
	m, err := NewMemory(schema.Source{Kind: KindFeed, URL: "https://a.example/rss"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Put(schema.Source{Kind: "nope", URL: "x"}); err == nil {
		t.Error("bad source accepted")
	}
	got, _ := m.List(context.Background())
	if len(got) != 1 {
		t.Fatalf("%+v", got)
	}
	m.Delete(got[0].ID)
	if got, _ := m.List(context.Background()); len(got) != 0 {
		t.Errorf("after delete: %+v", got)
	}
}

func FuzzImportOPML(f *testing.F) {
	b, err := os.ReadFile("testdata/subscriptions.opml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`<opml><body><outline><outline><outline xmlUrl="https://x.example/"/></outline></outline></body></opml>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		srcs, err := ImportOPML(bytes.NewReader(in))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, s := range srcs {
			if s.Kind != KindFeed || s.ID == "" || seen[s.ID] {
				t.Fatalf("invalid or duplicate source %+v", s)
			}
			seen[s.ID] = true
		}
		var buf bytes.Buffer
		if err := ExportOPML(&buf, "t", srcs); err != nil {
			t.Fatal(err)
		}
		again, err := ImportOPML(&buf)
		if err != nil || len(again) != len(srcs) {
			t.Fatalf("round trip lost sources: %d -> %d (%v)", len(srcs), len(again), err)
		}
	})
}
