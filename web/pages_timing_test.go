package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/bench"
	"github.com/trendwatch/trendwatch/internal/testsvc"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// benchEnd anchors the generated week so that a seeded database can be
// reused across runs (seeding millions of posts takes minutes).
var benchEnd = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// benchServer serves the dashboard over a database of n generated posts
// (TRENDWATCH_BENCH_POSTS, default 1,000,000) spread over the week before
// benchEnd: Zipf-popular hashtags with hourly bursts in three languages
// (package bench's generator), 2% restating one of 2,000 facts, 500 cases
// and 50 sources, its closed hours compacted as serve's compactor does.
// The database trendwatch_web_bench_<n> is kept; drop it
// to reseed. For 10M: TRENDWATCH_BENCH_POSTS=10000000 (seeding runs at
// the store's insert rate, ~10-20 minutes on two cores).
func benchServer(b *testing.B, noCache bool, now time.Time) (http.Handler, string, int) {
	n := 1_000_000
	if v := os.Getenv("TRENDWATCH_BENCH_POSTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("TRENDWATCH_BENCH_POSTS=%q: want a positive integer", v)
		}
	}
	addr := testsvc.ClickHouse(b)
	ctx := context.Background()
	st, err := clickhouse.Open(ctx, clickhouse.Options{Addrs: []string{addr}, Database: fmt.Sprintf("trendwatch_web_bench_%d", n)},
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	have, err := st.CountPosts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if have != 0 && int(have) != n {
		b.Fatalf("the bench database holds %d posts, not %d (interrupted seeding?): drop it and rerun", have, n)
	}
	if have == 0 {
		t := time.Now()
		seedBench(b, st, n)
		b.Logf("seeded %d posts in %v", n, time.Since(t))
	}
	// As serve's compactor would have done by now (a no-op when it has).
	t := time.Now()
	cs, err := st.Compact(ctx, time.Now(), clickhouse.CompactLimits{})
	if err != nil {
		b.Fatal(err)
	}
	if cs.Hours > 0 {
		b.Logf("compacted %d hours and %d days in %v", cs.Hours, cs.Days, time.Since(t))
	}
	srv, err := New(Options{Store: st, Facts: storeFacts{st}, Now: func() time.Time { return now }, NoCache: noCache,
		Thresholds: func() map[string]float64 { return map[string]float64{"vi": 0.6, "fr": 0.6, "en": 0.6} }}, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := NewToken(ctx, st, "bench", RoleAdmin, "bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler(), secret, n
}

func seedBench(b *testing.B, st *clickhouse.Store, n int) {
	ctx := context.Background()
	start := benchEnd.Add(-7 * 24 * time.Hour)
	g := bench.NewGenerator(bench.GenOptions{Seed: 7, RunID: "web", Facts: 2000, BurstEvery: time.Hour, BurstLen: 10 * time.Minute}, start)
	if err := st.WriteFacts(ctx, g.Facts()); err != nil {
		b.Fatal(err)
	}
	step := 7 * 24 * time.Hour / time.Duration(n)
	batch := make([]schema.Analyzed, 0, 50_000)
	flush := func() {
		if err := st.WriteAnalyzed(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range n {
		gp := g.Next(start.Add(time.Duration(i) * step))
		a := schema.Analyzed{Post: gp.Post, Topics: gp.Hashtags}
		if gp.FactID != "" {
			a.Matches = []schema.Match{{FactID: gp.FactID, Score: 0.9, Verdict: schema.VerdictFalse}}
			a.Topics = append(a.Topics, schema.TopicFact+gp.FactID)
		}
		batch = append(batch, a)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	sev := []string{"critical", "high", "medium", "low"}
	for i := range 500 {
		f := g.Facts()[i%len(g.Facts())]
		body, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("case-%d", i), "fact_id": f.ID, "claim": f.Claim, "verdict": f.Verdict, "posts": i})
		if err := st.PutCase(ctx, clickhouse.CaseRow{ID: fmt.Sprintf("case-%d", i), FactID: f.ID, State: "open", Severity: sev[i%4],
			Opened: benchEnd.Add(-time.Duration(i) * time.Minute), Updated: benchEnd.Add(-time.Duration(i) * time.Minute), Body: string(body)}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 50 {
		src := schema.Source{ID: fmt.Sprintf("src-%d", i), Kind: "feed", URL: fmt.Sprintf("https://s%d.example/rss", i), Enabled: true}
		if err := st.PutSource(ctx, src); err != nil {
			b.Fatal(err)
		}
		if err := st.PutSourceStatus(ctx, schema.SourceStatus{SourceID: src.ID, Failures: i % 5, LastAttempt: benchEnd}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPages reports the server time of every dashboard page (p50 and
// p95 in ms) over the generated data set: "cold" with the result cache off
// (every request queries ClickHouse), "cold-ragged" the same at 11:37
// instead of 12:00 (windows start and end inside hours, which are counted
// raw, as are the hours across sparkline buckets), "warm" with the cache
// on (what a second viewer within the same minute, or a view Warm
// precomputes, costs).
func BenchmarkPages(b *testing.B) {
	for _, mode := range []string{"cold", "cold-ragged", "warm"} {
		now := benchEnd
		if mode == "cold-ragged" {
			now = benchEnd.Add(-23 * time.Minute)
		}
		b.Run(mode, func(b *testing.B) { benchPages(b, mode != "warm", now) })
	}
}

func benchPages(b *testing.B, noCache bool, now time.Time) {
	h, token, n := benchServer(b, noCache, now)
	get := func(path string) int {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = "192.0.2.1:1234"
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	// The hottest topic of the last hour, as an analyst would open it.
	r := httptest.NewRequest("GET", "/api/v1/trends?window=1h&limit=1", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var tr struct{ Topics []struct{ Topic string } }
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil || len(tr.Topics) == 0 {
		b.Fatalf("no trends to open: %v %s", err, w.Body.String())
	}
	top := topicURL(tr.Topics[0].Topic)
	for _, pc := range []struct{ name, path string }{
		{"login", "/login"},
		{"trends-1h", "/trends?window=1h"},
		{"trends-24h-burst-vi", "/trends?window=24h&sort=burst&lang=vi"},
		{"trends-7d", "/trends?window=7d&sort=posts"},
		{"trends-7d-burst-fr-rss", "/trends?window=7d&sort=burst&lang=fr&platform=rss"},
		{"trends-6h", "/trends?window=6h&sort=posts"},
		{"topic-24h", top + "?window=24h"},
		{"topic-7d", top + "?window=7d"},
		{"cases", "/cases"},
		{"facts", "/facts"},
		{"facts-search", "/facts?q=" + url.QueryEscape("vaccin")},
		{"sources", "/sources"},
		{"settings", "/settings"},
		{"api-timeline-csv-7d", "/api/v1" + top + "/timeline.csv?window=7d&step=1h"},
	} {
		b.Run(fmt.Sprintf("%s/posts=%d", pc.name, n), func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t := time.Now()
				if code := get(pc.path); code != 200 {
					b.Fatalf("%s: %d", pc.path, code)
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(p(0.5), "p50-ms")
			b.ReportMetric(p(0.95), "p95-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
