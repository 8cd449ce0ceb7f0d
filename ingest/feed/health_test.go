package feed

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/sources"
	"github.com/trendwatch/trendwatch/schema"
)

// rawFeed serves a fixed document.
func rawFeed(status int, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
}

// pollOnce runs a poller over one source until it reported a status, and
// returns that status.
func pollOnce(t *testing.T, url string) schema.SourceStatus {
	t.Helper()
	store, err := sources.NewMemory(schema.Source{Kind: sources.KindFeed, URL: url, Enabled: true, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	_, stop := startPoller(t, Options{Store: store, Publisher: &ingest.MemoryPublisher{}, Client: testClient(t), Status: rec})
	defer stop()
	waitFor(t, "a status", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.statuses) > 0 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.statuses[0]
}

// Items without a date say nothing about a feed's rhythm: a feed of 20
// items of which 3 are dated over two hours publishes about 24 a day, not
// the 228 that counting every item over the dated spread gave.
func TestItemsPerDayCountsDatedItems(t *testing.T) {
	now := time.Now()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Sở Y tế Hà Nội</title>`)
	for i := range 20 {
		date := ""
		if i < 3 {
			date = "<pubDate>" + now.Add(-time.Duration(i)*time.Hour).UTC().Format(time.RFC1123Z) + "</pubDate>"
		}
		fmt.Fprintf(&b, `<item><title>Tin %d</title><link>https://so.example/%d</link>%s</item>`, i, i, date)
	}
	b.WriteString(`</channel></rss>`)
	srv := rawFeed(http.StatusOK, b.String())
	defer srv.Close()
	st := pollOnce(t, srv.URL)
	if st.ItemsPerDay < 20 || st.ItemsPerDay > 30 {
		t.Errorf("items per day = %.1f, want about 24", st.ItemsPerDay)
	}
	if st.Health != schema.HealthHealthy || st.Title != "Sở Y tế Hà Nội" || st.ErrorKind != "" {
		t.Errorf("status = %+v, want healthy with the feed's title", st)
	}
}

func TestStatusSaysWhatFailed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		kind   string
	}{
		{"not a feed", http.StatusOK, "<html><body>hello</body></html>", "parse"},
		{"gone", http.StatusNotFound, "", "http_404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := rawFeed(tc.status, tc.body)
			defer srv.Close()
			st := pollOnce(t, srv.URL)
			if st.Health != schema.HealthFailing || st.ErrorKind != tc.kind || st.LastError == "" || st.Failures != 1 {
				t.Errorf("status = %+v, want failing with kind %s", st, tc.kind)
			}
		})
	}
}

// A source whose newest item is far older than its rhythm is silent, in
// the status as well as in the alarm.
func TestStatusSaysSilent(t *testing.T) {
	old := time.Now().Add(-30 * 24 * time.Hour)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title>`)
	for i := range 5 {
		fmt.Fprintf(&b, `<item><title>Tin %d</title><link>https://quiet.example/%d</link><pubDate>%s</pubDate></item>`,
			i, i, old.Add(-time.Duration(i)*time.Hour).UTC().Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	srv := rawFeed(http.StatusOK, b.String())
	defer srv.Close()
	st := pollOnce(t, srv.URL)
	if st.Health != schema.HealthSilent || !strings.Contains(st.HealthDetail, "no new item") {
		t.Errorf("status = %+v, want silent with a reason", st)
	}
}
