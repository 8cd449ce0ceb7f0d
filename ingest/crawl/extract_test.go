package crawl

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestExtractGolden compares Extract on testdata/x.html with x.html.json
// (go test -run TestExtractGolden -update rewrites them; review the diff).
func TestExtractGolden(t *testing.T) {
	pages := map[string]string{
		"vi-article.html": "https://baovidu.vn/amp/thoi-su/ha-noi-phan-luong-cau-long-bien-4812.html",
		"fr-article.html": "https://m.journal-exemple.fr/societe/2026/11/25/eau-robinet-paris_123.html?xtor=RSS-1",
		"index.html":      "https://news.example/",
	}
	for name, pageURL := range pages {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			a, err := Extract(body, pageURL)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(struct {
				*Article
				Links []string `json:"links"`
			}{a, a.Links}, "", "  ")
			golden := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("missing golden (run with -update): %v", err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("Extract(%s) differs from %s:\n got: %s\nwant: %s", name, golden, got, want)
			}
		})
	}
}

// Spot checks that explain what the golden files pin down.
func TestExtractFields(t *testing.T) {
	body, _ := os.ReadFile("testdata/vi-article.html")
	a, err := Extract(body, "https://baovidu.vn/amp/thoi-su/ha-noi-phan-luong-cau-long-bien-4812.html")
	if err != nil {
		t.Fatal(err)
	}
	if a.CanonicalURL != "https://baovidu.vn/thoi-su/ha-noi-phan-luong-cau-long-bien-4812.html" || !a.IsArticle || a.Lang != "vi" ||
		a.Author != "Nguyễn Văn An, Trần Thị Bình" || a.Published.Format("2006-01-02T15:04Z07:00") != "2026-11-25T08:04Z" {
		t.Errorf("vi article: %+v", a)
	}
	if strings.Contains(a.Text, "not text") || strings.Contains(a.Text, "Trang chủ") || !strings.Contains(a.Text, "cầu Chương Dương") {
		t.Errorf("vi body text: %q", a.Text)
	}
	body, _ = os.ReadFile("testdata/fr-article.html")
	a, _ = Extract(body, "https://m.journal-exemple.fr/x.html")
	if a.CanonicalURL != "https://journal-exemple.fr/societe/2026/11/25/eau-robinet-paris_123.html" || a.Author != "Claire Martin" || a.Lang != "fr" ||
		!strings.Contains(a.Text, "« aucune coupure générale n’est prévue »") || strings.Contains(a.Text, "Partager") {
		t.Errorf("fr article: %+v", a)
	}
	body, _ = os.ReadFile("testdata/index.html")
	a, _ = Extract(body, "https://news.example/")
	if a.IsArticle || !slices.Equal(a.Links, []string{"https://news.example/2026/11/25/bridge-closed.html", "https://news.example/2026/11/25/water-rumour.html"}) {
		t.Errorf("index: article=%v links=%v", a.IsArticle, a.Links)
	}
	if _, err := Extract(body, "/relative"); err == nil {
		t.Error("relative page URL accepted")
	}
}

func TestParseTime(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, ok := parseTime(in)
		if want == "" {
			if ok {
				t.Errorf("parseTime(%q) = %v, want failure", in, got)
			}
			return
		}
		if !ok || got.Format("2006-01-02T15:04:05Z07:00") != want {
			t.Errorf("parseTime(%q) = %v %v, want %s", in, got, ok, want)
		}
	}
	f("2026-11-25T15:04:00+07:00", "2026-11-25T08:04:00Z")
	f("2026-11-25T15:04:00.123Z", "2026-11-25T15:04:00Z")
	f("2026-11-25T15:04:00+0700", "2026-11-25T08:04:00Z")
	f("2026-11-25 15:04:05", "2026-11-25T15:04:05Z")
	f("2026-11-25", "2026-11-25T00:00:00Z")
	f("Wed, 25 Nov 2026 15:04:05 +0700", "2026-11-25T08:04:05Z")
	f("yesterday", "")
	f("0001-01-01T00:00:00Z", "")
	f("", "")
}

func FuzzExtract(f *testing.F) {
	for _, n := range []string{"vi-article.html", "fr-article.html", "index.html"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<script type="application/ld+json">[[[{"@type":"NewsArticle","author":{"name":[1]}}]]]</script>`))
	f.Add([]byte(`<base href="javascript:x"><a href="//evil.example/x">x</a><link rel=canonical href="::">`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := Extract(body, "https://site.example/page")
		if err != nil {
			t.Fatalf("Extract failed on HTML input: %v", err)
		}
		if !utf8.ValidString(a.Title) || !utf8.ValidString(a.Author) {
			t.Fatalf("invalid UTF-8 in %+v", a)
		}
		for _, l := range a.Links {
			if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") || strings.Contains(l, "#") {
				t.Fatalf("link %q not absolute http(s) without fragment", l)
			}
		}
		if a.CanonicalURL != "" && !strings.HasPrefix(a.CanonicalURL, "http") {
			t.Fatalf("canonical %q", a.CanonicalURL)
		}
	})
}

func TestExtractLegacyCharset(t *testing.T) {
	page := []byte("<html lang=fr><head><meta charset=\"windows-1252\"><title>Caf\xe9 cr\xe8me \x96 la v\xe9rit\xe9 sur l\x92eau</title></head><body><p>x</p></body></html>")
	a, err := Extract(page, "https://x.example/")
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Café crème – la vérité sur l’eau" {
		t.Errorf("title %q", a.Title)
	}
	// No declaration at all: Windows-1252 is the web's default.
	a, _ = Extract([]byte("<title>Ni\xf1o</title>"), "https://x.example/")
	if a.Title != "Niño" {
		t.Errorf("undeclared: %q", a.Title)
	}
}
