package feed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// feedServer serves an RSS feed whose items the test can change; it
// honours If-None-Match like a real server.
type feedServer struct {
	mu       sync.Mutex
	items    []string // links
	pubTimes []time.Time
	status   int
	hits     atomic.Int32
	notMod   atomic.Int32
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != 0 {
		w.WriteHeader(f.status)
		return
	}
	etag := fmt.Sprintf(`"%d"`, len(f.items))
	if r.Header.Get("If-None-Match") == etag {
		f.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Test</title><language>en</language>`)
	for i, link := range f.items {
		pub := time.Now().Add(-time.Duration(i) * time.Hour)
		if i < len(f.pubTimes) {
			pub = f.pubTimes[i]
		}
		fmt.Fprintf(&b, `<item><title>Item %d</title><link>%s</link><description>Text of item %d</description><pubDate>%s</pubDate></item>`,
			i, link, i, pub.UTC().Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	fmt.Fprint(w, b.String())
}

func (f *feedServer) set(items ...string) {
	f.mu.Lock()
	f.items = items
	f.mu.Unlock()
}

type recorder struct {
	mu       sync.Mutex
	alarms   []Alarm
	statuses []schema.SourceStatus
}

func (r *recorder) SourceUnhealthy(_ context.Context, a Alarm) {
	r.mu.Lock()
	r.alarms = append(r.alarms, a)
	r.mu.Unlock()
}

func (r *recorder) ReportStatus(_ context.Context, st schema.SourceStatus) error {
	r.mu.Lock()
	r.statuses = append(r.statuses, st)
	r.mu.Unlock()
	return nil
}

func (r *recorder) alarmsFor(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.alarms {
		if a.Reason == reason {
			n++
		}
	}
	return n
}

func testClient(t *testing.T) *fetch.Client {
	t.Helper()
	c, err := fetch.New(fetch.Options{Allow: []string{"127.0.0.1"}, PerHostRate: 1000, PerHostBurst: 100, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startPoller(t *testing.T, opts Options) (*Poller, func()) {
	t.Helper()
	p, err := New(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return p, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPollerPublishesOnlyNewItems(t *testing.T) {
	fs := &feedServer{}
	fs.set("https://news.example/a", "https://news.example/b")
	srv := httptest.NewServer(fs)
	defer srv.Close()
	store, err := sources.NewMemory(schema.Source{Kind: sources.KindFeed, URL: srv.URL + "/rss", Enabled: true, Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pub := &ingest.MemoryPublisher{}
	rec := &recorder{}
	_, stop := startPoller(t, Options{Store: store, Publisher: pub, Client: testClient(t), Status: rec, ReloadInterval: 20 * time.Millisecond})
	defer stop()

	waitFor(t, "first items", func() bool { return len(pub.Posts()) == 2 })
	waitFor(t, "a conditional re-poll", func() bool { return fs.notMod.Load() >= 2 })
	if n := len(pub.Posts()); n != 2 {
		t.Fatalf("unchanged feed re-published: %d posts", n)
	}
	// A new item plus the old ones: only the new one is published.
	fs.set("https://news.example/c", "https://news.example/a", "https://news.example/b")
	waitFor(t, "the new item", func() bool { return len(pub.Posts()) >= 3 })
	time.Sleep(100 * time.Millisecond)
	posts := pub.Posts()
	if len(posts) != 3 || posts[2].URL != "https://news.example/c" {
		t.Fatalf("after update: %d posts, last %+v", len(posts), posts[len(posts)-1])
	}
	for _, p := range posts {
		if p.Platform != "rss" || p.Source != srv.URL+"/rss" || p.Lang != "en" || p.ID != schema.PostID(p.CanonicalURL, "", "") {
			t.Errorf("post fields: %+v", p)
		}
	}
	rec.mu.Lock()
	last := rec.statuses[len(rec.statuses)-1]
	rec.mu.Unlock()
	if last.LastSuccess.IsZero() || last.Failures != 0 || last.ItemsPerDay < 20 || last.ItemsPerDay > 30 {
		t.Errorf("status %+v (want ~24 items/day for hourly items)", last)
	}
}

func TestPollerPicksUpNewSource(t *testing.T) {
	fs1, fs2 := &feedServer{}, &feedServer{}
	fs1.set("https://one.example/1")
	fs2.set("https://two.example/1", "https://two.example/2")
	s1, s2 := httptest.NewServer(fs1), httptest.NewServer(fs2)
	defer s1.Close()
	defer s2.Close()
	store, _ := sources.NewMemory(schema.Source{Kind: sources.KindFeed, URL: s1.URL, Enabled: true})
	pub := &ingest.MemoryPublisher{}
	_, stop := startPoller(t, Options{Store: store, Publisher: pub, Client: testClient(t), ReloadInterval: 50 * time.Millisecond})
	defer stop()
	waitFor(t, "first source", func() bool { return len(pub.Posts()) == 1 })
	added := time.Now()
	if err := store.Put(schema.Source{Kind: sources.KindFeed, URL: s2.URL, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	// Disabled and other-kind sources are ignored.
	_ = store.Put(schema.Source{Kind: sources.KindFeed, URL: s2.URL + "/off", Enabled: false})
	_ = store.Put(schema.Source{Kind: sources.KindCrawl, URL: s2.URL + "/crawl", Enabled: true})
	waitFor(t, "added source", func() bool { return len(pub.Posts()) == 3 })
	if d := time.Since(added); d > 2*time.Second {
		t.Errorf("new source picked up after %s", d)
	}
	if n := fs2.hits.Load(); n != 1 {
		t.Errorf("second server hit %d times, want 1 (disabled/crawl sources polled?)", n)
	}
}

func TestPollerFailingAlarm(t *testing.T) {
	fs := &feedServer{status: http.StatusInternalServerError}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	store, _ := sources.NewMemory(schema.Source{Kind: sources.KindFeed, URL: srv.URL, Enabled: true, Interval: 5 * time.Millisecond})
	rec := &recorder{}
	p, stop := startPoller(t, Options{Store: store, Publisher: &ingest.MemoryPublisher{}, Client: testClient(t), Status: rec, Notifier: rec,
		FailureThreshold: 3, MaxBackoff: 20 * time.Millisecond})
	waitFor(t, "failing alarm", func() bool { return rec.alarmsFor(AlarmFailing) == 1 })
	waitFor(t, "more failures", func() bool { return fs.hits.Load() >= 5 })
	if n := rec.alarmsFor(AlarmFailing); n != 1 {
		t.Errorf("failing alarm fired %d times, want once per episode", n)
	}
	st := p.Status()[0]
	if st.Failures < 3 || !strings.Contains(st.LastError, "HTTP 500") || st.LastErrorAt.IsZero() {
		t.Errorf("status %+v", st)
	}
	// Recovery clears the episode.
	fs.mu.Lock()
	fs.status = 0
	fs.items = []string{"https://x.example/1"}
	fs.mu.Unlock()
	waitFor(t, "recovery", func() bool { return p.Status()[0].Failures == 0 })
	stop()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if a := rec.alarms[0]; a.Source.URL != srv.URL || a.Status.Failures < 3 {
		t.Errorf("alarm %+v", a)
	}
}

func TestPollerSilentAlarm(t *testing.T) {
	fs := &feedServer{}
	// Hourly items, the newest three days old: far beyond 10 × 1h.
	base := time.Now().Add(-72 * time.Hour)
	fs.pubTimes = []time.Time{base, base.Add(-time.Hour), base.Add(-2 * time.Hour), base.Add(-3 * time.Hour)}
	fs.set("https://q.example/1", "https://q.example/2", "https://q.example/3", "https://q.example/4")
	srv := httptest.NewServer(fs)
	defer srv.Close()
	store, _ := sources.NewMemory(schema.Source{Kind: sources.KindFeed, URL: srv.URL, Enabled: true, Interval: 10 * time.Millisecond})
	rec := &recorder{}
	_, stop := startPoller(t, Options{Store: store, Publisher: &ingest.MemoryPublisher{}, Client: testClient(t), Notifier: rec, MinSilence: time.Hour})
	defer stop()
	waitFor(t, "silent alarm", func() bool { return rec.alarmsFor(AlarmSilent) == 1 })
	waitFor(t, "a few more polls", func() bool { return fs.hits.Load() >= 4 })
	if n := rec.alarmsFor(AlarmSilent); n != 1 {
		t.Errorf("silent alarm fired %d times", n)
	}
	rec.mu.Lock()
	if !strings.Contains(rec.alarms[0].Detail, "usually publishes every 1h0m0s") {
		t.Errorf("detail %q", rec.alarms[0].Detail)
	}
	rec.mu.Unlock()
}

type failingPublisher struct{ calls atomic.Int32 }

func (f *failingPublisher) Publish(context.Context, ...schema.Post) error {
	f.calls.Add(1)
	return errors.New("kafka unavailable")
}

// A failed publish must not advance the seen set or validators: the next
// poll fetches in full and tries again.
func TestPollerRetriesAfterPublishFailure(t *testing.T) {
	fs := &feedServer{}
	fs.set("https://r.example/1")
	srv := httptest.NewServer(fs)
	defer srv.Close()
	store, _ := sources.NewMemory(schema.Source{Kind: sources.KindFeed, URL: srv.URL, Enabled: true, Interval: 5 * time.Millisecond})
	pub := &failingPublisher{}
	p, stop := startPoller(t, Options{Store: store, Publisher: pub, Client: testClient(t), MaxBackoff: 10 * time.Millisecond})
	defer stop()
	waitFor(t, "retries", func() bool { return pub.calls.Load() >= 3 })
	if fs.notMod.Load() != 0 {
		t.Error("conditional GET used although nothing was published")
	}
	if st := p.Status(); st[0].Failures == 0 || !strings.Contains(st[0].LastError, "kafka unavailable") {
		t.Errorf("status %+v", st)
	}
}

func TestIntervalAndBackoff(t *testing.T) {
	p, err := New(Options{Store: &sources.Memory{}, Publisher: &ingest.MemoryPublisher{}, Client: &fetch.Client{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := func(perDay float64, want time.Duration) {
		t.Helper()
		if got := p.interval(&state{perDay: perDay}, schema.Source{}); got != want {
			t.Errorf("interval(%v/day) = %v, want %v", perDay, got, want)
		}
	}
	f(0, 15*time.Minute)    // unknown rhythm
	f(24, 30*time.Minute)   // hourly → every 30 min
	f(10000, 2*time.Minute) // busy → min
	f(1, 2*time.Hour)       // daily → max
	f(0.01, 2*time.Hour)    // nearly dead → max
	if got := p.interval(&state{perDay: 24}, schema.Source{Interval: time.Minute}); got != time.Minute {
		t.Errorf("explicit interval ignored: %v", got)
	}
	within := func(got, want time.Duration) bool { return got >= want*9/10 && got <= want*11/10 }
	if got := p.backoff(time.Minute, 1, errors.New("x")); !within(got, time.Minute) {
		t.Errorf("backoff 1: %v", got)
	}
	if got := p.backoff(time.Minute, 4, errors.New("x")); !within(got, 8*time.Minute) {
		t.Errorf("backoff 4: %v", got)
	}
	if got := p.backoff(time.Minute, 40, errors.New("x")); got > 6*time.Hour*11/10 {
		t.Errorf("backoff unbounded: %v", got)
	}
	if got := p.backoff(time.Minute, 1, &fetch.StatusError{StatusCode: 429, RetryAfter: time.Hour}); !within(got, time.Hour) {
		t.Errorf("Retry-After ignored: %v", got)
	}
	if _, err := New(Options{}, nil); err == nil {
		t.Error("New without store accepted")
	}
}

func TestSeenSet(t *testing.T) {
	s := newSeenSet(2)
	s.add("a")
	s.add("b")
	s.add("a")
	s.add("c")
	if s.has("a") || !s.has("b") || !s.has("c") {
		t.Errorf("eviction order wrong: %v", s.order)
	}
	s.grow(10)
	for i := range 10 {
		s.add(fmt.Sprint(i))
	}
	if len(s.ids) != 10 || len(s.order) != 10 {
		t.Errorf("size %d/%d", len(s.ids), len(s.order))
	}
}

// Many sources and few workers: Run must still return promptly when
// cancelled (workers never block on the scheduler).
func TestPollerShutdownUnderLoad(t *testing.T) {
	fs := &feedServer{}
	fs.set("https://l.example/1")
	srv := httptest.NewServer(fs)
	defer srv.Close()
	store, _ := sources.NewMemory()
	for i := range 30 {
		_ = store.Put(schema.Source{Kind: sources.KindFeed, URL: fmt.Sprintf("%s/feed/%d", srv.URL, i), Enabled: true, Interval: time.Millisecond})
	}
	p, err := New(Options{Store: store, Publisher: &ingest.MemoryPublisher{}, Client: testClient(t), Workers: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, "polls", func() bool { return fs.hits.Load() > 100 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
