package manager

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/sources"
	"github.com/trendwatch/trendwatch/schema"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestManagerStartsAndStops(t *testing.T) {
	var redditHits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redditHits.Add(1)
		fmt.Fprint(w, `{"kind":"Listing","data":{"children":[{"kind":"t3","data":{"name":"t3_a","title":"hello","permalink":"/r/x/comments/a/hello/","is_self":true,"created_utc":1764064800}}]}}`)
	}))
	defer srv.Close()
	client, _ := fetch.New(fetch.Options{Allow: []string{"127.0.0.1"}, PerHostRate: 1000, PerHostBurst: 100})
	store, _ := sources.NewMemory(
		schema.Source{Kind: sources.KindReddit, URL: srv.URL + "/r/x", Enabled: true, Interval: 5 * time.Millisecond},
		schema.Source{Kind: sources.KindTelegram, URL: "not a channel!", Enabled: true},
		schema.Source{Kind: sources.KindFeed, URL: "https://feeds.example/rss", Enabled: true})
	pub := &ingest.MemoryPublisher{}
	m, err := New(Options{Store: store, Publisher: pub, Client: client, ReloadInterval: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out: %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait("reddit post", func() bool { return len(pub.Posts()) == 1 })
	// Removing the source stops its connector.
	store.Delete(schema.SourceID(sources.KindReddit, srv.URL+"/r/x"))
	time.Sleep(50 * time.Millisecond)
	before := redditHits.Load()
	time.Sleep(50 * time.Millisecond)
	if after := redditHits.Load(); after != before {
		t.Errorf("connector still polling after its source was removed (%d -> %d)", before, after)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBuild(t *testing.T) {
	client, _ := fetch.New(fetch.Options{})
	m, _ := New(Options{Store: &sources.Memory{}, Publisher: &ingest.MemoryPublisher{}, Client: client}, nil)
	f := func(s schema.Source, ok bool) {
		t.Helper()
		_, err := m.Build(s)
		if (err == nil) != ok {
			t.Errorf("Build(%+v) err=%v, want ok=%v", s, err, ok)
		}
	}
	f(schema.Source{Kind: "mastodon", URL: "https://mastodon.social", Options: map[string]string{"tag": "hanoi"}}, true)
	f(schema.Source{Kind: "mastodon", URL: "mastodon.social"}, false)
	f(schema.Source{Kind: "bluesky", Options: map[string]string{"keywords": "Hà Nội, Long Biên", "langs": "vi"}}, true)
	f(schema.Source{Kind: "bluesky", URL: "https://not-a-websocket"}, false)
	f(schema.Source{Kind: "reddit", URL: "https://www.reddit.com/r/VietNam"}, true)
	f(schema.Source{Kind: "reddit", URL: "https://www.reddit.com/", Options: map[string]string{"query": "tin giả"}}, true)
	f(schema.Source{Kind: "reddit", URL: "https://www.reddit.com/"}, false)
	f(schema.Source{Kind: "telegram", URL: "https://t.me/s/tinnhanhhn"}, true)
	f(schema.Source{Kind: "youtube", URL: "UCabcdefghijklmnopqrstuv"}, true)
	f(schema.Source{Kind: "youtube", URL: "https://www.youtube.com/@handle"}, false)
	f(schema.Source{Kind: "feed", URL: "https://x.example"}, false)
}
