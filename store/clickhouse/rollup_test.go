package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

func TestCoveringHours(t *testing.T) {
	h := int64(3600)
	for _, tc := range []struct{ start, end, hs, he int64 }{
		{10 * h, 12 * h, 10 * h, 12 * h},         // aligned
		{10*h + 60, 12*h + 120, 10 * h, 13 * h},  // ragged both ends
		{10*h + 60, 10*h + 600, 10 * h, 11 * h},  // inside one hour
		{10 * h, 10*h + 60, 10 * h, 11 * h},      // first minute of an hour
		{10*h + 3540, 11*h + 60, 10 * h, 12 * h}, // across an hour boundary
		{-h - 60, -h + 60, -2 * h, 0},            // before 1970 still floors
	} {
		if hs, he := coveringHours(tc.start, tc.end); hs != tc.hs || he != tc.he {
			t.Errorf("coveringHours(%d, %d) = %d, %d, want %d, %d", tc.start, tc.end, hs, he, tc.hs, tc.he)
		}
	}
}

func TestBeats(t *testing.T) {
	f := func(posts int64, topic string, bound uint64, last string, want bool) {
		t.Helper()
		if got := beats(Trend{Topic: topic, Posts: posts}, bound, last); got != want {
			t.Errorf("beats(%d %s, bound %d %s) = %v, want %v", posts, topic, bound, last, got, want)
		}
	}
	f(5, "#z", 4, "#a", true)  // more posts than any left-out bound
	f(4, "#b", 4, "#c", true)  // tie: left-out topics sort after #c, so after #b
	f(4, "#d", 4, "#c", false) // tie: a left-out #c1 with 4 posts would precede #d
	f(3, "#a", 4, "#z", false) // a left-out topic may have 4 posts
}

// FuzzCoveringHours: the hours are whole, cover the window, and reach
// less than an hour beyond each end.
func FuzzCoveringHours(f *testing.F) {
	f.Add(int64(36000), int64(43200))
	f.Add(int64(36060), int64(36600))
	f.Add(int64(0), int64(60))
	f.Fuzz(func(t *testing.T, start, end int64) {
		// Windows are whole minutes within DateTime's range.
		start, end = (start&0xffffffff)/60*60, (end&0xffffffff)/60*60
		if start >= end {
			return
		}
		hs, he := coveringHours(start, end)
		if hs%3600 != 0 || he%3600 != 0 {
			t.Fatalf("coveringHours(%d, %d) = [%d, %d): not whole hours", start, end, hs, he)
		}
		if hs > start || he < end || start-hs >= 3600 || he-end >= 3600 {
			t.Fatalf("coveringHours(%d, %d) = [%d, %d): not the smallest cover", start, end, hs, he)
		}
	})
}

// Trends over windows that start and end inside hours (ranked by their
// covering hours' deliveries) count exactly what Go counts, re-deliveries
// included, and list every topic of the window, whether the hours are
// compacted or not.
func TestTrendsUnalignedWindows(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	items := genPosts(5, 800, t0, 5*time.Hour)
	for range 2 {
		if err := s.WriteAnalyzed(ctx, items); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		now            time.Time
		window, before time.Duration
	}{
		{t0.Add(4*time.Hour + 37*time.Minute), 97 * time.Minute, 113 * time.Minute},
		{t0.Add(3 * time.Hour), 2 * time.Hour, time.Hour},
		{t0.Add(2*time.Hour + 10*time.Minute), 20 * time.Minute, 2*time.Hour + 50*time.Minute},
		{t0.Add(5 * time.Hour), 5 * time.Hour, time.Hour},
	}
	// Raw, then with every hour compacted (migration 009).
	cases = append(cases, cases...)
	for i, tc := range cases {
		if i == len(cases)/2 {
			if st, err := s.Compact(ctx, t0.Add(6*time.Hour), CompactLimits{}); err != nil || st.Hours != 5 {
				t.Fatalf("Compact = %+v, %v; want 5 hours", st, err)
			}
		}
		trends, err := s.Trends(ctx, TrendsQuery{Now: tc.now, Window: tc.window, Baseline: tc.before, Limit: 1000, Buckets: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(trends) == 0 {
			t.Fatalf("no trends at %v", tc.now)
		}
		seen := 0
		for _, tr := range trends {
			start := tc.now.Add(-tc.window)
			e := expect(items, tr.Topic, start, tc.now, tc.window)
			base := expect(items, tr.Topic, start.Add(-tc.before), start, tc.before)
			if tr.Posts != e.posts || tr.Authors != e.authors || tr.Baseline != base.posts {
				t.Errorf("window %v..%v, %s: posts/authors/baseline = %d/%d/%d, want %d/%d/%d", start, tc.now, tr.Topic,
					tr.Posts, tr.Authors, tr.Baseline, e.posts, e.authors, base.posts)
			}
			seen++
		}
		// Every topic with a post in the window is listed.
		topics := map[string]bool{}
		for _, it := range items {
			for _, topic := range it.Topics {
				topics[topic] = true
			}
		}
		want := 0
		for topic := range topics {
			if expect(items, topic, tc.now.Add(-tc.window), tc.now, tc.window).posts > 0 {
				want++
			}
		}
		if seen != want {
			t.Errorf("window ending %v: %d topics, want %d", tc.now, seen, want)
		}
	}
}

// idHash must be the server's cityHash64: posts and topic rows are keyed
// by it, and the views hash authors with the server's function.
func TestIDHashMatchesServer(t *testing.T) {
	s := newStore(t)
	for _, id := range []string{"", "p1", "s1234567", "0123456789abcdef0123456789abcdef", "tiếng Việt ✓", string(make([]byte, 300))} {
		var want uint64
		if err := s.conn.QueryRow(context.Background(), "SELECT cityHash64(?)", id).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := idHash(id); got != want {
			t.Errorf("idHash(%q) = %d, server cityHash64 = %d", id, got, want)
		}
	}
}

// Re-deliveries inflate the deliveries bound Trends ranks by; the exact
// top must still win, through trendsTop's retry with more candidates.
func TestTrendsTopUnderHeavyRedelivery(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := t0.Add(time.Hour)
	var noisy, real []schema.Analyzed
	for i := range 60 { // 60 topics of one post each, delivered 6 times
		noisy = append(noisy, schema.Analyzed{Post: schema.Post{ID: fmt.Sprintf("d%d", i), Text: "x", Published: t0.Add(time.Duration(i) * time.Second)},
			Topics: []string{fmt.Sprintf("#d%02d", i)}})
	}
	for i := range 5 { // one topic of 5 posts, delivered once
		real = append(real, schema.Analyzed{Post: schema.Post{ID: fmt.Sprintf("r%d", i), Text: "x", Published: t0.Add(time.Duration(i) * time.Minute)},
			Topics: []string{"#real"}})
	}
	for range 6 {
		if err := s.WriteAnalyzed(ctx, noisy); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteAnalyzed(ctx, real); err != nil {
		t.Fatal(err)
	}
	got, err := s.Trends(ctx, TrendsQuery{Now: now, Window: time.Hour, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := []Trend{{Topic: "#real", Posts: 5}, {Topic: "#d00", Posts: 1}, {Topic: "#d01", Posts: 1}}
	if len(got) != len(want) {
		t.Fatalf("Trends = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Topic != want[i].Topic || got[i].Posts != want[i].Posts {
			t.Errorf("Trends[%d] = %s %d, want %s %d", i, got[i].Topic, got[i].Posts, want[i].Topic, want[i].Posts)
		}
	}
	// MinPosts above every noisy topic's count but below its bound.
	got, err = s.Trends(ctx, TrendsQuery{Now: now, Window: time.Hour, MinPosts: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Topic != "#real" {
		t.Errorf("Trends with MinPosts 2 = %+v, want only #real", got)
	}
}

// Week-scale sparklines have their bucket edges on whole hours and the
// baseline of hours ends at the window's first hour (see Trends); both
// count exactly what Go counts over those edges, raw or compacted.
func TestTrendsHourEdges(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	items := genPosts(9, 2000, t0, 80*time.Hour)
	for range 2 {
		if err := s.WriteAnalyzed(ctx, items); err != nil {
			t.Fatal(err)
		}
	}
	for _, now := range []time.Time{t0.Add(79*time.Hour + 37*time.Minute), t0.Add(79*time.Hour + 12*time.Minute)} {
		for _, compacted := range []bool{false, true} {
			if compacted {
				if _, err := s.Compact(ctx, t0.Add(90*time.Hour), CompactLimits{}); err != nil {
					t.Fatal(err)
				}
			}
			q := TrendsQuery{Now: now, Window: 72 * time.Hour, Baseline: 5*time.Hour + 10*time.Minute, Limit: 1000}
			trends, err := s.Trends(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			start := now.Add(-q.Window)
			origin := start.Add(30 * time.Minute).Truncate(time.Hour) // the nearest hour
			step := 6 * time.Hour
			baseEnd := start.Truncate(time.Hour)
			for _, tr := range trends {
				want := make([]int64, 12)
				for k := range want {
					from, to := origin.Add(time.Duration(k)*step), origin.Add(time.Duration(k+1)*step)
					if k == 0 {
						from = start
					}
					if k == len(want)-1 {
						to = now
					}
					want[k] = expect(items, tr.Topic, from, to, to.Sub(from)).posts
				}
				got := make([]int64, len(tr.Series))
				for i, v := range tr.Series {
					got[i] = int64(v)
				}
				if !slices.Equal(got, want) {
					t.Errorf("now %v, compacted %v, %s: series %v, want %v", now, compacted, tr.Topic, got, want)
				}
				if b := expect(items, tr.Topic, baseEnd.Add(-6*time.Hour), baseEnd, time.Hour).posts; tr.Baseline != b {
					t.Errorf("now %v, compacted %v, %s: baseline %d, want %d over the 6 whole hours before %v", now, compacted, tr.Topic, tr.Baseline, b, baseEnd)
				}
			}
		}
	}
}
