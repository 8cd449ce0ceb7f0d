package crawl

import (
	"bytes"
	"compress/gzip"
	"testing"
)

func TestParseSitemap(t *testing.T) {
	urlset := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc> https://news.example/a.html </loc><lastmod>2026-11-24</lastmod>
 <news:news><news:publication_date>2026-11-25T08:00:00+07:00</news:publication_date></news:news></url>
<url><loc>https://news.example/b.html</loc></url>
<url><loc></loc></url>
</urlset>`)
	es, kids, err := ParseSitemap(urlset, 1<<20)
	if err != nil || len(es) != 2 || len(kids) != 0 {
		t.Fatalf("urlset: %v %v %v", es, kids, err)
	}
	if es[0].Loc != "https://news.example/a.html" || es[0].LastMod.Format("2006-01-02T15") != "2026-11-25T01" || !es[1].LastMod.IsZero() {
		t.Errorf("entries %+v", es)
	}
	index := []byte(`<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://news.example/s1.xml</loc></sitemap></sitemapindex>`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(index)
	zw.Close()
	es, kids, err = ParseSitemap(gz.Bytes(), 1<<20)
	if err != nil || len(es) != 0 || len(kids) != 1 || kids[0] != "https://news.example/s1.xml" {
		t.Errorf("gzip index: %v %v %v", es, kids, err)
	}
	var bomb bytes.Buffer
	zw = gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 4<<20))
	zw.Close()
	if _, _, err := ParseSitemap(bomb.Bytes(), 1<<20); err == nil {
		t.Error("gzip bomb accepted")
	}
	for _, bad := range []string{"", "<html><body>404</body></html>", "not xml"} {
		if _, _, err := ParseSitemap([]byte(bad), 1<<20); err == nil {
			t.Errorf("ParseSitemap(%q) accepted", bad)
		}
	}
}

func FuzzParseSitemap(f *testing.F) {
	f.Add([]byte(`<urlset><url><loc>https://a.example/</loc><lastmod>2026-01-01</lastmod></url></urlset>`))
	f.Add([]byte(`<sitemapindex><sitemap><loc>https://a.example/s.xml</loc></sitemap></sitemapindex>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, kids, err := ParseSitemap(b, 1<<20)
		if err != nil {
			return
		}
		for _, e := range es {
			if e.Loc == "" {
				t.Fatal("empty loc")
			}
		}
		for _, k := range kids {
			if k == "" {
				t.Fatal("empty child")
			}
		}
	})
}
