package youtube

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/fetch"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConnector(t *testing.T) {
	body, err := os.ReadFile("testdata/videos.xml")
	if err != nil {
		t.Fatal(err)
	}
	var hits, notMod atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` {
			notMod.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		w.Write(body)
	}))
	defer srv.Close()
	client, _ := fetch.New(fetch.Options{Allow: []string{"127.0.0.1"}, PerHostRate: 1000, PerHostBurst: 100})
	pub := &ingest.MemoryPublisher{}
	c, err := New(Options{FeedURL: srv.URL + "/feeds/videos.xml?channel_id=UCabcdefghijklmnopqrstuv", Interval: 5 * time.Millisecond, Publisher: pub, Client: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for notMod.Load() < 2 {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	posts := pub.Posts()
	if len(posts) != 2 {
		t.Fatalf("published %d videos, want 2", len(posts))
	}
	p := posts[0]
	if p.Platform != "youtube" || p.URL != "https://www.youtube.com/watch?v=dQw4w9WgXcQ" || p.Author != "Thời Sự 24h" || p.Engagement.Likes != 1543 ||
		p.Text != "Tin đồn lan truyền trên mạng xã hội cho rằng cầu Long Biên sẽ đóng cửa vĩnh viễn.\nChúng tôi đã kiểm chứng với Sở GTVT Hà Nội." ||
		!p.Published.Equal(time.Date(2026, 11, 25, 9, 0, 7, 0, time.UTC)) {
		t.Errorf("video: %+v", p)
	}
	if posts[1].Title != "Bản tin sáng 25/11" || posts[1].Text != "" {
		t.Errorf("title-only video: %+v", posts[1])
	}
}

func TestFeedURL(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, err := FeedURL(in)
		if want == "" {
			if err == nil {
				t.Errorf("FeedURL(%q) = %q, want error", in, got)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("FeedURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	const feed = "https://www.youtube.com/feeds/videos.xml?channel_id=UCabcdefghijklmnopqrstuv"
	f("UCabcdefghijklmnopqrstuv", feed)
	f("https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv/", feed)
	f(feed, feed)
	f("https://www.youtube.com/@somehandle", "")
	f("UCshort", "")
	f("", "")
}
