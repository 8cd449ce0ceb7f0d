package telegram

import (
	"context"
	"errors"
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
	page, err := os.ReadFile("testdata/channel.html")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/s/tinnhanhhn":
			hits.Add(1)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
		default:
			http.Error(w, "unexpected "+r.URL.Path, 404)
		}
	}))
	defer srv.Close()
	client, _ := fetch.New(fetch.Options{Allow: []string{"127.0.0.1"}, PerHostRate: 1000, PerHostBurst: 100})
	pub := &ingest.MemoryPublisher{}
	c, err := New(Options{Base: srv.URL, Channel: "@tinnhanhhn", Lang: "vi", Interval: 5 * time.Millisecond, Publisher: pub, Client: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for hits.Load() < 3 {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	posts := pub.Posts()
	if len(posts) != 2 {
		t.Fatalf("published %d, want 2 (the photo-only message has no text; re-polls add nothing)", len(posts))
	}
	p := posts[0]
	if p.URL != "https://t.me/tinnhanhhn/1041" || p.Author != "Tin Nhanh Hà Nội" || p.Lang != "vi" || p.Platform != "telegram" ||
		p.Text != "Forwarded from Nguồn Tin:\n⚡️ NÓNG: Cầu Long Biên sẽ đóng cửa vĩnh viễn từ ngày mai!\n\nChia sẻ ngay cho mọi người @tinnhanhhn" ||
		!p.Published.Equal(time.Date(2026, 11, 25, 9, 12, 45, 0, time.UTC)) || p.Source != "https://t.me/s/tinnhanhhn" {
		t.Errorf("first message: %+v", p)
	}
}

func TestParsePage(t *testing.T) {
	page, _ := os.ReadFile("testdata/channel.html")
	msgs, err := ParsePage(page)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	if msgs[0].Views != 12400 || msgs[2].Views != 980 || len(msgs[2].Links) != 1 || msgs[2].Links[0] != "https://news.example/cau-long-bien?utm_source=telegram" {
		t.Errorf("messages %+v", msgs)
	}
	if _, err := ParsePage([]byte("<html><body>Join channel</body></html>")); !errors.Is(err, ErrNotChannelPage) {
		t.Errorf("landing page: %v", err)
	}
	f := func(in string, want int64) {
		t.Helper()
		if got := parseCount(in); got != want {
			t.Errorf("parseCount(%q) = %d, want %d", in, got, want)
		}
	}
	f("980", 980)
	f("12.4K", 12400)
	f("1.2M", 1200000)
	f("", 0)
	f("-5", 0)
	for _, ch := range []string{"", "a", "bad channel", "x/y"} {
		if _, err := New(Options{Channel: ch, Publisher: &ingest.MemoryPublisher{}, Client: &fetch.Client{}}, nil); err == nil {
			t.Errorf("channel %q accepted", ch)
		}
	}
}

func FuzzParsePage(f *testing.F) {
	page, _ := os.ReadFile("testdata/channel.html")
	f.Add(page)
	f.Add([]byte(`<div class="tgme_widget_message" data-post="abcd/1/../x"><div class="tgme_widget_message_text">x</div></div>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := ParsePage(b)
		if err != nil {
			return
		}
		for _, m := range msgs {
			if p, ok := m.Post("s", "vi", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)); ok {
				if err := p.Validate(); err != nil {
					t.Fatalf("invalid %+v: %v", p, err)
				}
			}
		}
	})
}
