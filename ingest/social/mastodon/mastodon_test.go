package mastodon

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/fetch"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const streamed = `{"id":"113512000000000003","created_at":"2026-11-25T10:03:00.000Z","spoiler_text":"","language":"en","uri":"https://mastodon.example/users/ed/statuses/113512000000000003","url":"https://mastodon.example/@ed/113512000000000003","replies_count":0,"reblogs_count":0,"favourites_count":0,"content":"<p>Live: the <a href=\"https://mastodon.example/tags/hanoi\">#hanoi</a> bridge is open.</p>","reblog":null,"account":{"acct":"ed"}}`

// boost of status ...002 (already backfilled): must not publish twice.
const boost = `{"id":"113512000000000004","created_at":"2026-11-25T10:04:00.000Z","uri":"https://mastodon.example/users/x/statuses/113512000000000004/activity","url":null,"content":"","account":{"acct":"x"},"reblog":{"id":"113512000000000002","created_at":"2026-11-25T10:02:00.000Z","uri":"https://mastodon.example/users/tintuc/statuses/113512000000000002","url":"https://mastodon.example/@tintuc/113512000000000002","content":"<p>Tin đồn</p>","account":{"acct":"tintuc"},"reblogs_count":13}}`

func TestConnector(t *testing.T) {
	timeline, err := os.ReadFile("testdata/timeline.json")
	if err != nil {
		t.Fatal(err)
	}
	var streams atomic.Int32
	var mu sync.Mutex
	var sinceIDs, auths []string
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/timelines/tag/hanoi", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sinceIDs = append(sinceIDs, r.URL.Query().Get("since_id"))
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("since_id") != "" {
			fmt.Fprint(w, "[]")
			return
		}
		w.Write(timeline)
	})
	mux.HandleFunc("/api/v1/streaming/hashtag", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("tag") != "hanoi" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "bad request", 400)
			return
		}
		n := streams.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		fmt.Fprint(w, ":)\n\n:thump\n\n")
		fl.Flush()
		if n == 1 {
			fmt.Fprintf(w, "event: update\ndata: %s\n\n", streamed)
			fmt.Fprint(w, "event: delete\ndata: 113512000000000001\n\n")
			fmt.Fprintf(w, "event: update\ndata: %s\n\n", boost)
			fl.Flush()
			return // server drops the connection: the connector must reconnect
		}
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client, _ := fetch.New(fetch.Options{Allow: []string{"127.0.0.1"}, PerHostRate: 1000, PerHostBurst: 100})
	pub := &ingest.MemoryPublisher{}
	c, err := New(Options{Instance: srv.URL, Tag: "#hanoi", AccessToken: "tok", Publisher: pub, Client: client, MinBackoff: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for streams.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if streams.Load() < 2 {
		t.Fatal("did not reconnect after the stream ended")
	}
	posts := pub.Posts()
	if len(posts) != 3 {
		for _, p := range posts {
			t.Logf("%s %s", p.URL, p.Text)
		}
		t.Fatalf("published %d posts, want 3 (2 backfilled oldest first, 1 live; the boost is a duplicate)", len(posts))
	}
	p := posts[0]
	if p.URL != "https://other.example/@an/99" || p.Author != "an@other.example" || p.Text != "tin chưa kiểm chứng\n\nNghe nói cầu Long Biên sập?\n#hanoi" || p.Lang != "vi" {
		t.Errorf("oldest backfilled: %+v", p)
	}
	p = posts[1]
	if p.Author != "tintuc@"+strings.TrimPrefix(srv.URL, "http://") || p.Engagement.Likes != 40 || p.Engagement.Shares != 12 || p.Engagement.Replies != 3 ||
		p.Text != "Tin đồn #hanoi cầu Long Biên đóng cửa vĩnh viễn là sai." || p.Platform != "mastodon" || p.Source != srv.URL+"/tags/hanoi" {
		t.Errorf("second backfilled: %+v", p)
	}
	if posts[2].Text != "Live: the #hanoi bridge is open." || !posts[2].Published.Equal(time.Date(2026, 11, 25, 10, 3, 0, 0, time.UTC)) {
		t.Errorf("streamed: %+v", posts[2])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sinceIDs) < 2 || sinceIDs[0] != "" || sinceIDs[1] != "113512000000000004" || auths[0] != "Bearer tok" {
		t.Errorf("backfill since_ids %v auth %v", sinceIDs, auths)
	}
}

func TestReadEvents(t *testing.T) {
	in := ": heartbeat\n\nevent: update\ndata: {\"a\":\ndata: 1}\n\ndata: plain\n\nevent: x\n\n"
	var got []Event
	err := ReadEvents(strings.NewReader(in), func(e Event) error { got = append(got, e); return nil })
	if err == nil {
		t.Error("end of stream not reported")
	}
	if len(got) != 2 || got[0] != (Event{"update", "{\"a\":\n1}"}) || got[1] != (Event{"message", "plain"}) {
		t.Errorf("events %+v", got)
	}
}

func TestNewValidation(t *testing.T) {
	client, _ := fetch.New(fetch.Options{})
	for _, inst := range []string{"", "mastodon.social", "ftp://x"} {
		if _, err := New(Options{Instance: inst, Publisher: &ingest.MemoryPublisher{}, Client: client}, nil); err == nil {
			t.Errorf("instance %q accepted", inst)
		}
	}
}

func FuzzReadEvents(f *testing.F) {
	f.Add("event: update\ndata: {}\n\n")
	f.Add(":x\ndata:a\ndata:b\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		_ = ReadEvents(strings.NewReader(s), func(e Event) error {
			if e.Name == "" {
				t.Fatal("event without a name")
			}
			return nil
		})
	})
}
