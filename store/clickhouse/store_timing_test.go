package clickhouse

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/internal/testsvc"
	"github.com/trendwatch/trendwatch/schema"
)

// Benchmarks run against the ClickHouse from internal/testsvc.
//
//	go test -run='^$' -bench=. -benchtime=2s ./store/clickhouse/
//
// The query benchmarks use a database of TRENDWATCH_BENCH_POSTS posts
// (default 1,000,000) over 7 days, ~5 Zipf-distributed topics each (see
// seedSQL), seeded once inside ClickHouse and kept as trendwatch_v2_bench_<n>
// so later runs skip the seeding. For the 10M target:
// TRENDWATCH_BENCH_POSTS=10000000 (seeding takes minutes; drop the database
// afterwards with DROP DATABASE trendwatch_v2_bench_10000000).

const benchBatch = 10000

func benchStore(b *testing.B, db string) *Store { return benchStoreWith(b, db, false) }

func benchStoreWith(b *testing.B, db string, lz4 bool) *Store {
	b.Helper()
	addr := testsvc.ClickHouse(b)
	if db == "" {
		db = testsvc.Database(b, addr)
	}
	s, err := Open(context.Background(), Options{Addrs: []string{addr}, Database: db, Compress: lz4}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchPosts is genPosts with a realistic topic spread: 3 to 7 topics a
// post (5 on average) drawn log-uniformly (Zipf, s = 1) from large
// vocabularies of hashtags, keywords and entities, as seedSQL does.
func benchPosts(seed uint64, n int, start time.Time, span time.Duration) []schema.Analyzed {
	items := genPosts(seed, n, start, span)
	r := rand.New(rand.NewPCG(seed, 7))
	zipf := func(vocab float64) int { return int(math.Exp(r.Float64() * math.Log(vocab))) }
	for i := range items {
		t := append(items[i].Topics[:0], "#t"+strconv.Itoa(zipf(50_000)), "kw:w"+strconv.Itoa(zipf(200_000)),
			"kw:w"+strconv.Itoa(zipf(200_000)), "ent:e"+strconv.Itoa(zipf(20_000)))
		if r.IntN(2) == 0 {
			t = append(t, "#t"+strconv.Itoa(zipf(50_000)))
		}
		if items[i].URL != "" {
			t = append(t, "url:"+items[i].URL)
		}
		items[i].Topics = t
	}
	return items
}

// BenchmarkWriteAnalyzed: posts/s through WriteAnalyzed (posts + topic rows
// + the minute and hour views + matches), 10k-post batches of ~5 topics a
// post, without and with LZ4 on the wire.
func BenchmarkWriteAnalyzed(b *testing.B) {
	for _, lz4 := range []bool{false, true} {
		b.Run(fmt.Sprintf("lz4=%v", lz4), func(b *testing.B) {
			s := benchStoreWith(b, "", lz4)
			items := benchPosts(3, benchBatch, t0, 24*time.Hour)
			var topics int
			for _, it := range items {
				topics += len(it.Topics)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				for j := range items {
					items[j].ID = fmt.Sprintf("b%d-%d", i, j)
				}
				if err := s.WriteAnalyzed(context.Background(), items); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "posts/s")
			b.ReportMetric(float64(topics)/float64(len(items)), "topics/post")
		})
	}
}

// BenchmarkPlainInsert is the ceiling: the same post rows in one batch
// into a plain MergeTree with no topic rows, view or matches.
func BenchmarkPlainInsert(b *testing.B) {
	s := benchStore(b, "")
	ctx := context.Background()
	if err := s.conn.Exec(ctx, `CREATE TABLE plain_posts AS posts ENGINE = MergeTree() PARTITION BY toYYYYMM(published) ORDER BY id`); err != nil {
		b.Fatal(err)
	}
	items := benchPosts(3, benchBatch, t0, 24*time.Hour)
	now := time.Now().UTC()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		batch, err := s.conn.PrepareBatch(ctx, `INSERT INTO plain_posts (id, source, platform, url, canonical_url, author, lang, title, text,
    published, fetched, likes, shares, replies, topics, fact_ids, ingested)`)
		if err != nil {
			b.Fatal(err)
		}
		for j := range items {
			a := &items[j]
			if err := batch.Append(fmt.Sprintf("b%d-%d", i, j), a.Source, a.Platform, a.URL, a.CanonicalURL, a.Author, a.Lang, a.Title, a.Text,
				a.Published, a.Fetched, int64(0), int64(0), int64(0), a.Topics, []string{}, now); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Send(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "posts/s")
}

// seeded returns a store holding n generated posts over 7 days before t0+7d.
func seeded(b *testing.B) (*Store, int) {
	n := 1_000_000
	if v := os.Getenv("TRENDWATCH_BENCH_POSTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("TRENDWATCH_BENCH_POSTS=%q: want a positive integer", v)
		}
	}
	s := benchStore(b, fmt.Sprintf("trendwatch_v2_bench_%d", n))
	ctx := context.Background()
	have, err := s.CountPosts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if have != 0 && int(have) != n {
		b.Fatalf("trendwatch_v2_bench_%d holds %d posts (an interrupted seeding?): drop it and run again", n, have)
	}
	if have == 0 {
		t := time.Now()
		if err := seedSQL(ctx, s, n, t0, b.Logf); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d posts in %v", n, time.Since(t))
	}
	if fs, err := s.Facts(ctx, FactQuery{Limit: 1}); err != nil {
		b.Fatal(err)
	} else if len(fs) == 0 {
		if err := seedSmall(ctx, s, t0); err != nil {
			b.Fatal(err)
		}
	}
	return s, n
}

func reportLatency(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	p := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
	b.ReportMetric(0, "ns/op") // latency percentiles say more than the mean
}

func BenchmarkQueries(b *testing.B) {
	s, n := seeded(b)
	ctx := context.Background()
	end := t0.Add(7 * 24 * time.Hour)
	trends, err := s.Trends(ctx, TrendsQuery{Now: end, Window: time.Hour, Limit: 1})
	if err != nil || len(trends) == 0 {
		b.Fatalf("no trends to benchmark: %v", err)
	}
	top := trends[0].Topic
	// A mid-table topic: what most Spread pages show.
	mids, err := s.Trends(ctx, TrendsQuery{Now: end, Window: 24 * time.Hour, Limit: 200})
	if err != nil || len(mids) == 0 {
		b.Fatalf("no trends to benchmark: %v", err)
	}
	mid := mids[len(mids)-1].Topic
	b.Logf("top topic %s (%d posts in the last hour), mid topic %s (%d in the last day)", top, trends[0].Posts, mid, mids[len(mids)-1].Posts)
	for _, bc := range []struct {
		name string
		run  func() error
	}{
		{"CountPosts/FINAL", func() error { _, err := s.CountPosts(ctx); return err }},
		{"CountPosts/uniqExact", func() error {
			var c uint64
			return s.conn.QueryRow(ctx, qCountPostsUniq).Scan(&c)
		}},
		{"Trends/1h", func() error {
			_, err := s.Trends(ctx, TrendsQuery{Now: end, Window: time.Hour, Limit: 20})
			return err
		}},
		{"Trends/24h-burst-lang", func() error {
			_, err := s.Trends(ctx, TrendsQuery{Now: end, Window: 24 * time.Hour, Limit: 20, Sort: "burst", Lang: "vi"})
			return err
		}},
		{"Spread/top-topic-24h", func() error {
			_, err := s.Spread(ctx, top, end.Add(-24*time.Hour), end)
			return err
		}},
		{"Spread/top-topic-7d", func() error {
			_, err := s.Spread(ctx, top, t0, end)
			return err
		}},
		{"Spread/mid-topic-7d", func() error {
			_, err := s.Spread(ctx, mid, t0, end)
			return err
		}},
		{"Trends/7d", func() error {
			_, err := s.Trends(ctx, TrendsQuery{Now: end, Window: 7 * 24 * time.Hour, Baseline: time.Hour, Limit: 20})
			return err
		}},
		{"Timeline/top-topic-24h-5m", func() error {
			_, err := s.Timeline(ctx, top, end.Add(-24*time.Hour), end, 5*time.Minute)
			return err
		}},
		{"Facts/list", func() error {
			_, err := s.Facts(ctx, FactQuery{})
			return err
		}},
		{"Facts/search", func() error {
			_, err := s.Facts(ctx, FactQuery{Q: "floods", Verdict: schema.VerdictFalse})
			return err
		}},
		{"Fact", func() error {
			_, err := s.Fact(ctx, "f42")
			return err
		}},
		{"Cases", func() error {
			_, err := s.Cases(ctx, CaseQuery{State: "open"})
			return err
		}},
		{"CaseEvents", func() error {
			_, err := s.CaseEvents(ctx, "c7")
			return err
		}},
		{"Sources", func() error {
			_, err := s.Sources(ctx)
			return err
		}},
		{"SourceStatuses", func() error {
			_, err := s.SourceStatuses(ctx)
			return err
		}},
		{"Flags/24h", func() error {
			_, err := s.Flags(ctx, FlagQuery{From: end.Add(-24 * time.Hour), To: end})
			return err
		}},
	} {
		b.Run(fmt.Sprintf("%s/posts=%d", bc.name, n), func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t := time.Now()
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			reportLatency(b, lat)
		})
	}
}
