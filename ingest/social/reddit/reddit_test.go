package reddit

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
	"github.com/trendwatch/trendwatch/schema"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConnector(t *testing.T) {
	listing, err := os.ReadFile("testdata/new.json")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if r.URL.Path != "/r/VietNam/new.json" || r.URL.Query().Get("limit") != "100" || r.URL.Query().Get("raw_json") != "1" {
			t.Errorf("unexpected request %s", r.URL)
		}
		if n == 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(listing)
	}))
	defer srv.Close()
	client, _ := fetch.New(fetch.Options{Allow: []string{"127.0.0.1"}, PerHostRate: 1000, PerHostBurst: 100})
	pub := &ingest.MemoryPublisher{}
	c, err := New(Options{Base: srv.URL, Subreddit: "r/VietNam", Interval: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond, Publisher: pub, Client: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for hits.Load() < 4 {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	posts := pub.Posts()
	if len(posts) != 2 {
		t.Fatalf("published %d, want 2 (polled 4 times, a 429 in between, nothing twice)", len(posts))
	}
	self, link := posts[0], posts[1]
	if self.Title != "Water cut rumour?" || self.Author != "[deleted]" || self.Text != "Is it true that **tap water** will be cut for 3 days?\n\nMy neighbour shared it on Zalo." ||
		!self.Published.Equal(time.Unix(1764061200, 5e8).UTC()) {
		t.Errorf("self post: %+v", self)
	}
	if link.Title != "Long Bien bridge & the closure rumour" || link.Author != "u/hanoi_local" || link.Text != "https://news.example/long-bien?utm_source=reddit" ||
		link.URL != srv.URL+"/r/VietNam/comments/1h0c3/long_bien_bridge_the_closure_rumour/" || link.Engagement != (schema.Engagement{Likes: 152, Replies: 41, Shares: 2}) ||
		link.Platform != "reddit" || link.Source != srv.URL+"/r/VietNam/new" {
		t.Errorf("link post: %+v", link)
	}
}

func TestSearchURL(t *testing.T) {
	client, _ := fetch.New(fetch.Options{})
	c, err := New(Options{Subreddit: "france", Query: "eau coupée", Publisher: &ingest.MemoryPublisher{}, Client: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.listURL != "https://www.reddit.com/r/france/search.json?limit=100&q=eau+coup%C3%A9e&raw_json=1&restrict_sr=1&sort=new" {
		t.Errorf("search URL %s", c.listURL)
	}
	for _, o := range []Options{{}, {Subreddit: "a/b"}} {
		o.Publisher, o.Client = &ingest.MemoryPublisher{}, client
		if _, err := New(o, nil); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func FuzzParseListing(f *testing.F) {
	b, _ := os.ReadFile("testdata/new.json")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		links, err := ParseListing(b)
		if err != nil {
			return
		}
		for _, l := range links {
			if p, ok := l.Post("s", "https://www.reddit.com", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)); ok {
				if err := p.Validate(); err != nil {
					t.Fatalf("invalid %+v: %v", p, err)
				}
			}
		}
	})
}
