package replay

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

func TestParseLine(t *testing.T) {
	d := Defaults{Lang: "vi"}
	news := `{"id": "e49", "title": "Bộ Công an: Không chia sẻ", "link": "https://tuoitre.vn/bo-cong-an-100.htm?utm_source=rss", "summary": "Thiếu tướng &amp; <b>người</b> phát ngôn", "source": "Tuổi Trẻ", "category": "Tổng hợp", "published": "2026-08-17T23:15:19.939274+07:00", "fetched": "2026-08-17T23:16:00+07:00"}`
	p, err := ParseLine([]byte(news), d)
	if err != nil {
		t.Fatal(err)
	}
	if p.Platform != "rss" || p.Source != "Tuổi Trẻ" || p.Lang != "vi" || p.Text != "Thiếu tướng & người phát ngôn" ||
		p.CanonicalURL != "https://tuoitre.vn/bo-cong-an-100.htm" || p.ID != schema.PostID(p.CanonicalURL, "", "") ||
		!p.Published.Equal(time.Date(2026, 8, 17, 16, 15, 19, 939274000, time.UTC)) || p.Fetched.Sub(p.Published) < 40*time.Second {
		t.Errorf("news item: %+v", p)
	}
	det := `{"id": 12345, "time": "2015-03-01T10:00:00Z", "text": "breaking: bridge closed", "author": "u1", "source": "twitter16", "lang": "en"}`
	p, err = ParseLine([]byte(det), d)
	if err != nil {
		t.Fatal(err)
	}
	if p.Platform != "replay" || p.Author != "u1" || p.Lang != "en" || p.ID != "12345" || p.CanonicalURL != "" {
		t.Errorf("detect record: %+v", p)
	}
	post := schema.Post{ID: "abc", Source: "s", Platform: "mastodon", Text: "hi", Published: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, _ := schema.Encode(&post)
	if p, err = ParseLine(b, d); err != nil || p.ID != "abc" || p.Platform != "mastodon" {
		t.Errorf("schema post: %+v %v", p, err)
	}
	for _, bad := range []string{`not json`, `{"id":"1","time":"yesterday","text":"x"}`, `{"id":"1","published":"2026-01-01T00:00:00Z","title":""}`,
		`{"time":"2026-01-01T00:00:00Z","text":"no id no url"}`, `{"v":99,"id":"x","text":"t","published":"2026-01-01T00:00:00Z"}`} {
		if _, err := ParseLine([]byte(bad), d); err == nil {
			t.Errorf("ParseLine(%s) accepted", bad)
		}
	}
}

// TestReadViNews reads all the recorded Vietnamese news: every line is
// usable and the result is in publish order.
func TestReadViNews(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdata.SharedDir(t), "vi-news", "*.jsonl"))
	if len(files) == 0 {
		t.Fatal("no vi-news files")
	}
	total := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		posts, bad, err := Read(fh, Defaults{Lang: "vi"})
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range bad {
			t.Errorf("%s: %v", filepath.Base(f), e)
		}
		for i := 1; i < len(posts); i++ {
			if posts[i].Published.Before(posts[i-1].Published) {
				t.Fatalf("%s: not sorted at %d", f, i)
			}
		}
		total += len(posts)
	}
	if total != 2854 {
		t.Errorf("read %d items, README says 2,854", total)
	}
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }
func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return ctx.Err()
}

func posts(offsets ...time.Duration) []schema.Post {
	t0 := time.Date(2026, 8, 17, 0, 0, 0, 0, time.UTC)
	var out []schema.Post
	for i, o := range offsets {
		out = append(out, schema.Post{ID: schema.PostID("", "s", string(rune('a'+i))), Source: "s", Platform: "rss", Text: "x", Published: t0.Add(o), Fetched: t0.Add(o)})
	}
	return out
}

type timedPublisher struct {
	clk   *clock
	at    []time.Time
	posts []schema.Post
	stop  func()
	limit int
}

func (p *timedPublisher) Publish(_ context.Context, ps ...schema.Post) error {
	for range ps {
		p.at = append(p.at, p.clk.now)
	}
	p.posts = append(p.posts, ps...)
	if p.limit > 0 && len(p.posts) >= p.limit {
		p.stop()
	}
	return nil
}

func TestPlaySpeed(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &clock{now: start}
	pub := &timedPublisher{clk: clk}
	in := posts(0, 0, time.Minute, 2*time.Hour)
	st, err := Play(context.Background(), pub, in, Options{Speed: 60, Now: clk.Now, Sleep: clk.Sleep}, nil)
	if err != nil || st.Published != 4 || st.Passes != 1 {
		t.Fatalf("%+v %v", st, err)
	}
	want := []time.Duration{0, 0, time.Second, 2 * time.Minute}
	for i, w := range want {
		if got := pub.at[i].Sub(start); got != w {
			t.Errorf("post %d published at +%v, want +%v", i, got, w)
		}
		if !pub.posts[i].Published.Equal(in[i].Published) {
			t.Errorf("post %d retimed without Retime", i)
		}
	}
}

func TestPlayLoopRetime(t *testing.T) {
	clk := &clock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := &timedPublisher{clk: clk, stop: cancel, limit: 6}
	in := posts(0, time.Hour, 2*time.Hour)
	st, err := Play(ctx, pub, in, Options{Speed: 3600, Loop: true, Retime: true, Now: clk.Now, Sleep: clk.Sleep}, nil)
	if err != nil || st.Published != 6 {
		t.Fatalf("%+v %v", st, err)
	}
	if pub.posts[3].ID == pub.posts[0].ID || pub.posts[4].ID == pub.posts[1].ID {
		t.Error("second pass reused ids")
	}
	for i, p := range pub.posts {
		if !p.Published.Equal(pub.at[i]) {
			t.Errorf("post %d: published %v, replayed at %v", i, p.Published, pub.at[i])
		}
	}
}

func TestPlayAsFastAsPossible(t *testing.T) {
	pub := &ingest.MemoryPublisher{}
	in := posts(0, time.Hour, 24*time.Hour)
	st, err := Play(context.Background(), pub, in, Options{Speed: 0, MaxBatch: 2}, nil)
	if err != nil || st.Published != 3 || len(pub.Posts()) != 3 {
		t.Fatalf("%+v %v", st, err)
	}
	if _, err := Play(context.Background(), pub, nil, Options{}, nil); err == nil {
		t.Error("empty replay accepted")
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add(`{"id": "e49", "title": "Bộ Công an", "link": "https://tuoitre.vn/x.htm", "summary": "s", "source": "Tuổi Trẻ", "published": "2026-08-17T23:15:19+07:00"}`)
	f.Add(`{"id": 1, "time": "2015-03-01T10:00:00Z", "text": "t", "source": "x"}`)
	f.Add(`{"v":1,"id":"a","text":"t","published":"2026-01-01T00:00:00Z"}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseLine([]byte(s), Defaults{Lang: "vi"})
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted invalid post %+v: %v", p, err)
		}
		if strings.TrimSpace(p.ID) == "" {
			t.Fatal("empty id")
		}
	})
}
