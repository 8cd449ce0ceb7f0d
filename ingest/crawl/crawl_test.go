package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/sources"
	"github.com/trendwatch/trendwatch/schema"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func article(title, canonical, body string) string {
	return fmt.Sprintf(`<!doctype html><html lang="en"><head><title>%s</title>
<link rel="canonical" href="%s"><meta property="og:type" content="article">
<meta property="article:published_time" content="2026-11-25T10:00:00Z"></head>
<body><article><h1>%s</h1><p>%s</p></article></body></html>`, title, canonical, title, body)
}

var longText = strings.Repeat("Officials said the bridge will reopen next week after repairs. ", 8)

// site is a small news site: an index linking to two articles (one also
// reachable as an AMP copy), a sitemap listing a third, robots.txt
// disallowing /private/, a PDF and an external link.
func site(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var pdfHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\nSitemap: /sitemap.xml\n")
	})
	mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://%s/news/sitemap-only.html</loc><lastmod>2026-11-25T09:00:00Z</lastmod></url>
<url><loc>https://elsewhere.example/x.html</loc></url></urlset>`, r.Host)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<html><head><title>Home</title><meta property="og:type" content="website"></head><body>
<a href="/news/bridge.html">Bridge</a> <a href="/amp/news/bridge.html">Bridge (AMP)</a>
<a href="/news/water.html?utm_source=home">Water</a> <a href="/private/secret.html">Secret</a>
<a href="/files/report.pdf">PDF</a> <a href="https://elsewhere.example/">Elsewhere</a></body></html>`)
	})
	mux.HandleFunc("/news/bridge.html", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, article("Bridge closed tonight for repairs", "https://news.example/news/bridge.html", longText))
	})
	mux.HandleFunc("/amp/news/bridge.html", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, article("Bridge closed tonight for repairs", "https://news.example/news/bridge.html", longText))
	})
	mux.HandleFunc("/news/water.html", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, article("No, the water is not being cut off", "https://news.example/news/water.html", longText))
	})
	mux.HandleFunc("/news/sitemap-only.html", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, article("Found through the sitemap", "https://news.example/news/sitemap-only.html", longText))
	})
	mux.HandleFunc("/private/secret.html", func(w http.ResponseWriter, r *http.Request) {
		t.Error("robots.txt-disallowed page fetched")
	})
	mux.HandleFunc("/files/report.pdf", func(w http.ResponseWriter, r *http.Request) { pdfHits.Add(1) })
	return httptest.NewServer(mux), &pdfHits
}

func testClient(t *testing.T) *fetch.Client {
	t.Helper()
	c, err := fetch.New(fetch.Options{Allow: []string{"127.0.0.1"}, PerHostRate: 1000, PerHostBurst: 100})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCrawlSite(t *testing.T) {
	srv, pdfHits := site(t)
	defer srv.Close()
	pub := &ingest.MemoryPublisher{}
	c, err := New(Options{Publisher: pub, Client: testClient(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src := schema.Source{ID: "s1", Kind: sources.KindCrawl, URL: srv.URL + "/", Lang: "en", Enabled: true}
	stats, err := c.Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pub.Posts() {
		got = append(got, p.CanonicalURL)
		if p.Platform != "web" || p.Source != src.URL || p.Lang != "en" || !p.Published.Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) ||
			p.ID != schema.PostID(p.CanonicalURL, "", "") || !strings.Contains(p.Text, "bridge will reopen") {
			t.Errorf("post %+v", p)
		}
	}
	slices.Sort(got)
	want := []string{"https://news.example/news/bridge.html", "https://news.example/news/sitemap-only.html", "https://news.example/news/water.html"}
	if !slices.Equal(got, want) {
		t.Errorf("published %v, want %v", got, want)
	}
	if stats.Duplicates != 1 || stats.Articles != 3 {
		t.Errorf("stats %+v, want the AMP copy counted as the one duplicate", stats)
	}
	if pdfHits.Load() != 0 {
		t.Error("PDF link fetched")
	}
	// A second pass publishes nothing new.
	if _, err := c.Crawl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if n := len(pub.Posts()); n != 3 {
		t.Errorf("second pass re-published: %d posts", n)
	}
}

func TestCrawlDepthAndOptions(t *testing.T) {
	srv, _ := site(t)
	defer srv.Close()
	pub := &ingest.MemoryPublisher{}
	c, _ := New(Options{Publisher: pub, Client: testClient(t)}, nil)
	defer c.Close()
	// depth 1 and no sitemap: only the start page, which is no article.
	src := schema.Source{Kind: sources.KindCrawl, URL: srv.URL + "/", Options: map[string]string{"depth": "1", "sitemap": "false"}}
	if _, err := c.Crawl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if n := len(pub.Posts()); n != 0 {
		t.Errorf("depth 1 published %d posts", n)
	}
	for _, opts := range []map[string]string{{"depth": "0"}, {"depth": "x"}, {"max_pages": "-1"}, {"sitemap": "maybe"}} {
		if _, err := c.Crawl(context.Background(), schema.Source{Kind: sources.KindCrawl, URL: srv.URL, Options: opts}); err == nil {
			t.Errorf("options %v accepted", opts)
		}
	}
	if _, err := c.Crawl(context.Background(), schema.Source{Kind: sources.KindCrawl, URL: "not a url"}); err == nil {
		t.Error("bad URL accepted")
	}
}

// The SSRF guard holds for the crawler too: without the allow-list the
// loopback site is unreachable and the pass reports the start page error.
func TestCrawlBlockedAddress(t *testing.T) {
	srv, _ := site(t)
	defer srv.Close()
	fc, _ := fetch.New(fetch.Options{})
	c, _ := New(Options{Publisher: &ingest.MemoryPublisher{}, Client: fc}, nil)
	defer c.Close()
	_, err := c.Crawl(context.Background(), schema.Source{Kind: sources.KindCrawl, URL: srv.URL + "/", Options: map[string]string{"sitemap": "false"}})
	if err == nil || !strings.Contains(err.Error(), "not public") {
		t.Errorf("crawl of loopback without allow-list: %v", err)
	}
}

// TestRepostOneID: the same article reached through two feeds (different
// tracking parameters, AMP and www hosts) and through the crawler yields
// one post id, so it is stored once.
func TestRepostOneID(t *testing.T) {
	feedA := `<rss version="2.0"><channel><title>A</title><item><title>Bridge closed</title>
<link>https://www.news.example/news/bridge.html?utm_source=rss&amp;utm_medium=feed</link><guid>a-1</guid></item></channel></rss>`
	feedB := `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><entry><title>Bridge closed tonight</title>
<link href="http://amp.news.example/news/bridge.html#top"/><id>tag:b,2026:1</id><updated>2026-11-25T10:00:00Z</updated></entry></feed>`
	mux := http.NewServeMux()
	mux.HandleFunc("/a.rss", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, feedA) })
	mux.HandleFunc("/b.atom", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, feedB) })
	mux.HandleFunc("/news/bridge.html", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, article("Bridge closed tonight for repairs", "https://news.example/news/bridge.html?utm_campaign=share", longText))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	store, _ := sources.NewMemory(
		schema.Source{Kind: sources.KindFeed, URL: srv.URL + "/a.rss", Enabled: true},
		schema.Source{Kind: sources.KindFeed, URL: srv.URL + "/b.atom", Enabled: true})
	pub := &ingest.MemoryPublisher{}
	client := testClient(t)
	poller, err := feed.New(feed.Options{Store: store, Publisher: pub, Client: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- poller.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(pub.Posts()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	c, _ := New(Options{Publisher: pub, Client: client}, nil)
	defer c.Close()
	if _, err := c.Crawl(context.Background(), schema.Source{Kind: sources.KindCrawl, URL: srv.URL + "/news/bridge.html", Options: map[string]string{"sitemap": "false"}}); err != nil {
		t.Fatal(err)
	}
	posts := pub.Posts()
	if len(posts) != 3 {
		t.Fatalf("want 3 deliveries (two feeds, one crawl), got %d", len(posts))
	}
	ids := map[string]bool{}
	platforms := map[string]bool{}
	for _, p := range posts {
		ids[p.ID] = true
		platforms[p.Platform] = true
	}
	if len(ids) != 1 || !platforms["rss"] || !platforms["web"] {
		t.Errorf("deliveries %d ids %v platforms %v", len(posts), ids, platforms)
		for _, p := range posts {
			t.Logf("%s %s %s", p.Platform, p.ID, p.CanonicalURL)
		}
	}
}

func TestCrawlerRun(t *testing.T) {
	srv, _ := site(t)
	defer srv.Close()
	store, _ := sources.NewMemory(schema.Source{Kind: sources.KindCrawl, URL: srv.URL + "/", Enabled: true})
	pub := &ingest.MemoryPublisher{}
	c, _ := New(Options{Store: store, Publisher: pub, Client: testClient(t), ReloadInterval: 10 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(pub.Posts()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(pub.Posts()); n != 3 {
		t.Errorf("Run published %d posts, want 3", n)
	}
}
