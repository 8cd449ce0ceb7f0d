package feed

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/sources"
	"github.com/trendwatch/trendwatch/schema"
)

// itemsServer serves an RSS feed of items given as link → pubDate ("" for
// an item without a date).
type itemsServer struct {
	mu    sync.Mutex
	items [][2]string
}

func (s *itemsServer) add(link, date string) {
	s.mu.Lock()
	s.items = append(s.items, [2]string{link, date})
	s.mu.Unlock()
}

func (s *itemsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><language>en</language>`)
	for _, it := range s.items {
		date := ""
		if it[1] != "" {
			date = "<pubDate>" + it[1] + "</pubDate>"
		}
		fmt.Fprintf(&b, `<item><title>About %s</title><link>%s</link><description>Text about %s</description>%s</item>`, it[0], it[0], it[0], date)
	}
	b.WriteString(`</channel></rss>`)
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprint(w, b.String())
}

// TestBacklogTimes: in a source's first poll (its backlog) an undated item
// gets UndatedBacklog, never the fetch time, so the backlog cannot pile
// up in the current minute; dated items, however old, keep their dates;
// an undated item that appears after the first poll gets its first-seen
// time; a date far ahead of the fetch is clamped to it and counted.
func TestBacklogTimes(t *testing.T) {
	now := time.Now().UTC()
	old := time.Date(2018, 10, 7, 9, 0, 0, 0, time.UTC)
	fs := &itemsServer{}
	fs.add("https://news.example/undated-1", "")
	fs.add("https://news.example/undated-2", "")
	fs.add("https://news.example/old", old.Format(time.RFC1123Z))
	fs.add("https://news.example/recent", now.Add(-10*time.Minute).Format(time.RFC1123Z))
	fs.add("https://news.example/soon", now.Add(30*time.Minute).Format(time.RFC1123Z)) // clock drift: kept
	fs.add("https://news.example/future", now.Add(5*time.Hour).Format(time.RFC1123Z))  // a feed bug: clamped
	fs.add("https://news.example/garbage", "next Tuesday, maybe")                      // unusable: undated
	srv := httptest.NewServer(fs)
	defer srv.Close()
	store, err := sources.NewMemory(schema.Source{Kind: sources.KindFeed, URL: srv.URL + "/rss", Enabled: true, Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	clampedBefore := counterValue(t)
	pub := &ingest.MemoryPublisher{}
	_, stop := startPoller(t, Options{Store: store, Publisher: pub, Client: testClient(t), ReloadInterval: time.Hour, MinInterval: 10 * time.Millisecond})
	defer stop()
	waitFor(t, "backlog", func() bool { return len(pub.Posts()) == 7 })
	byLink := func() map[string]schema.Post {
		m := map[string]schema.Post{}
		for _, p := range pub.Posts() {
			m[strings.TrimPrefix(p.URL, "https://news.example/")] = p
		}
		return m
	}
	got := byLink()
	for _, k := range []string{"undated-1", "undated-2", "garbage"} {
		if p := got[k]; !p.Published.Equal(ingest.UndatedBacklog) {
			t.Errorf("backlog item %s without a date: published %v, want %v", k, p.Published, ingest.UndatedBacklog)
		}
	}
	if p := got["old"]; !p.Published.Equal(old) {
		t.Errorf("old item: published %v, want its own date %v", p.Published, old)
	}
	if p := got["recent"]; !p.Published.Equal(now.Add(-10 * time.Minute).Truncate(time.Second)) {
		t.Errorf("recent item: published %v", p.Published)
	}
	if p := got["soon"]; !p.Published.Equal(now.Add(30 * time.Minute).Truncate(time.Second)) {
		t.Errorf("item 30 min ahead: published %v, want kept", p.Published)
	}
	if p := got["future"]; !p.Published.Equal(p.Fetched) {
		t.Errorf("item 5 h ahead: published %v, want the fetch time %v", p.Published, p.Fetched)
	}
	if d := counterValue(t) - clampedBefore; d < 1 {
		t.Errorf("clamped dates counter moved by %v, want ≥ 1", d)
	}

	// After the first poll an undated item is new: first seen now.
	fs.add("https://news.example/undated-new", "")
	waitFor(t, "new undated item", func() bool { return len(pub.Posts()) == 8 })
	p := byLink()["undated-new"]
	if !p.Published.Equal(p.Fetched) || p.Published.Before(now) {
		t.Errorf("undated item after the first poll: published %v fetched %v, want its first-seen time", p.Published, p.Fetched)
	}
}

func counterValue(t *testing.T) float64 {
	t.Helper()
	var m dto.Metric
	if err := futureDates.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
