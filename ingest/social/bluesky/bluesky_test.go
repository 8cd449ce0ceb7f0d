package bluesky

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/fetch"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Messages in Jetstream's wire format.
var firstSession = []string{
	`{"did":"did:plc:ident","time_us":1732528800000000,"kind":"identity","identity":{"did":"did:plc:ident","handle":"x.bsky.social","seq":1,"time":"2026-11-25T10:00:00Z"}}`,
	`{"did":"did:plc:aaa","time_us":1732528801000000,"kind":"commit","commit":{"rev":"3l3qo2vuowo2b","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3qo2vutsw2b","record":{"$type":"app.bsky.feed.post","createdAt":"2026-11-25T10:00:01.102Z","langs":["vi"],"text":"Tin đồn cầu Long Biên sập là sai","embed":{"$type":"app.bsky.embed.external","external":{"uri":"https://news.example/cau-long-bien?utm_source=bsky","title":"Cầu Long Biên vẫn hoạt động","description":""}}},"cid":"bafyreia"}}`,
	`{"did":"did:plc:bbb","time_us":1732528802000000,"kind":"commit","commit":{"rev":"x","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3qo2vutsw2c","record":{"$type":"app.bsky.feed.post","createdAt":"2026-11-25T10:00:02Z","langs":["en"],"text":"my cat is asleep"},"cid":"bafyreib"}}`,
	`{"did":"did:plc:aaa","time_us":1732528803000000,"kind":"commit","commit":{"rev":"y","operation":"delete","collection":"app.bsky.feed.post","rkey":"3l3qo2vutsw2b"}}`,
	`not json`,
}

var secondSession = []string{
	// overlap: the first post again (cursor minus 5 s), then a new one
	firstSession[1],
	`{"did":"did:plc:ccc","time_us":1732528810000000,"kind":"commit","commit":{"rev":"z","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3qo2vutsw2d","record":{"$type":"app.bsky.feed.post","createdAt":"2026-11-25T10:00:10Z","langs":["en"],"text":"Ha Noi bridge rumour is false"},"cid":"bafyreic"}}`,
}

func TestConnector(t *testing.T) {
	var sessions atomic.Int32
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.CloseNow()
		msgs := firstSession
		if sessions.Add(1) > 1 {
			msgs = secondSession
		}
		for _, m := range msgs {
			if err := conn.Write(r.Context(), websocket.MessageText, []byte(m)); err != nil {
				return
			}
		}
		if sessions.Load() == 1 {
			conn.Close(websocket.StatusGoingAway, "restart")
			return
		}
		_, _, _ = conn.Read(context.Background()) // until the client goes (hijacked: r.Context() never ends)
	}))
	defer srv.Close()
	client, _ := fetch.New(fetch.Options{Allow: []string{"127.0.0.1"}, PerHostRate: 1000, PerHostBurst: 100})
	pub := &ingest.MemoryPublisher{}
	c, err := New(Options{Endpoint: "ws" + strings.TrimPrefix(srv.URL, "http") + "/subscribe", Keywords: []string{"Hà Nội", "Long Biên"},
		Publisher: pub, Client: client, FlushInterval: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(pub.Posts()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	posts := pub.Posts()
	if len(posts) != 2 {
		t.Fatalf("published %d posts, want 2 (keyword filter, overlap deduplicated): %+v", len(posts), posts)
	}
	p := posts[0]
	if p.URL != "https://bsky.app/profile/did:plc:aaa/post/3l3qo2vutsw2b" || p.Author != "did:plc:aaa" || p.Lang != "vi" || p.Platform != "bluesky" ||
		!strings.Contains(p.Text, "https://news.example/cau-long-bien") || !p.Published.Equal(time.Date(2026, 11, 25, 10, 0, 1, 102000000, time.UTC)) {
		t.Errorf("post 0: %+v", p)
	}
	if posts[1].Author != "did:plc:ccc" {
		t.Errorf("post 1: %+v", posts[1])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(queries) < 2 || !strings.Contains(queries[0], "wantedCollections=app.bsky.feed.post") || strings.Contains(queries[0], "cursor") ||
		!strings.Contains(queries[1], "cursor=1732528798000000") {
		t.Errorf("subscribe queries %v (second must resume from the last event minus 5 s)", queries)
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, m := range append(firstSession, secondSession...) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ev, err := ParseEvent([]byte(s))
		if err != nil {
			return
		}
		p, ok := ev.Post("s", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
		if ok {
			if err := p.Validate(); err != nil {
				t.Fatalf("invalid post %+v: %v", p, err)
			}
			if !strings.HasPrefix(p.URL, "https://bsky.app/profile/") {
				t.Fatalf("url %q", p.URL)
			}
		}
	})
}
