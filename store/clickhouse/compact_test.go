package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

func TestPlanHours(t *testing.T) {
	const h = hourSecs
	fresh := map[int64]uint64{10 * h: 1, 11 * h: 2, 12 * h: 3, 14 * h: 4}
	for _, tc := range []struct {
		name       string
		start, end int64
		cuts       []int64
		pins       []pin
		raw        []span
	}{
		{"aligned", 10 * h, 13 * h, nil, []pin{{10 * h, 1}, {11 * h, 2}, {12 * h, 3}}, nil},
		{"ragged ends", 10*h + 60, 13*h + 60, nil, []pin{{11 * h, 2}, {12 * h, 3}}, []span{{10*h + 60, 11 * h}, {13 * h, 13*h + 60}}},
		{"stale hour inside", 10 * h, 15 * h, nil, []pin{{10 * h, 1}, {11 * h, 2}, {12 * h, 3}, {14 * h, 4}}, []span{{13 * h, 14 * h}}},
		{"cut inside an hour", 10 * h, 13 * h, []int64{11*h + 1800}, []pin{{10 * h, 1}, {12 * h, 3}}, []span{{11 * h, 12 * h}}},
		{"cut on an hour edge", 10 * h, 13 * h, []int64{11 * h}, []pin{{10 * h, 1}, {11 * h, 2}, {12 * h, 3}}, nil},
		{"inside one hour", 10*h + 60, 10*h + 600, nil, nil, []span{{10*h + 60, 10*h + 600}}},
		{"empty", 10 * h, 10 * h, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planHours(tc.start, tc.end, fresh, tc.cuts)
			if !slices.Equal(p.pins, tc.pins) || !slices.Equal(p.raw, tc.raw) {
				t.Errorf("planHours = %+v, want pins %v raw %v", p, tc.pins, tc.raw)
			}
		})
	}
}

func TestPlanAuthors(t *testing.T) {
	const h, d = hourSecs, daySecs
	hours := map[int64]uint64{}
	for x := int64(0); x < 3*d; x += h {
		hours[x] = 1
	}
	days := map[int64]uint64{0: 7, d: 8} // day 2 not compacted
	ap := planAuthors(d-2*h+60, 3*d-h, hours, days)
	if !slices.Equal(ap.days, []pin{{d, 8}}) {
		t.Errorf("days = %v, want day 1", ap.days)
	}
	if n := len(ap.hours.pins); n != 1+23 { // 23:00 of day 0, then day 2 but its last hour
		t.Errorf("%d hours pinned, want 24: %v", n, ap.hours.pins)
	}
	if !slices.Equal(ap.hours.raw, []span{{d - 2*h + 60, d - h}}) {
		t.Errorf("raw = %v, want the ragged start", ap.hours.raw)
	}
}

// FuzzPlanHours: the plan covers the window exactly once, pins only fresh
// whole hours with no cut inside, and lists parts in time order.
func FuzzPlanHours(f *testing.F) {
	f.Add(int64(36000), int64(43200), uint64(0b1011), int64(39600))
	f.Add(int64(36060), int64(200000), uint64(1<<40-1), int64(50000))
	f.Fuzz(func(t *testing.T, start, end int64, mask uint64, cut int64) {
		start, end = (start&0xffffff)/60*60, (end&0xffffff)/60*60
		if start >= end {
			return
		}
		fresh := map[int64]uint64{}
		base := floorTo(start, hourSecs)
		for i := range int64(64) {
			if mask&(1<<i) != 0 {
				fresh[base+i*hourSecs] = uint64(i + 1)
			}
		}
		p := planHours(start, end, fresh, []int64{cut})
		type part struct{ from, to int64 }
		var parts []part
		for _, pn := range p.pins {
			if fresh[pn.start] != pn.version || pn.start%hourSecs != 0 {
				t.Fatalf("pinned %v, not a fresh hour", pn)
			}
			if cut > pn.start && cut < pn.start+hourSecs {
				t.Fatalf("pinned %v across the cut %d", pn, cut)
			}
			parts = append(parts, part{pn.start, pn.start + hourSecs})
		}
		for _, r := range p.raw {
			if r.from >= r.to {
				t.Fatalf("empty raw range %v", r)
			}
			parts = append(parts, part{r.from, r.to})
		}
		slices.SortFunc(parts, func(a, b part) int { return int(a.from - b.from) })
		at := start
		for _, x := range parts {
			if x.from != at {
				t.Fatalf("plan of [%d, %d) has a gap or overlap at %d: %v", start, end, at, p)
			}
			at = x.to
		}
		if at != end {
			t.Fatalf("plan of [%d, %d) ends at %d", start, end, at)
		}
	})
}

// answers is everything the dashboard reads for a set of windows.
type answers struct {
	Trends   map[string][]Trend
	Spreads  map[string]Spread
	Timeline map[string][]Point
}

func readAll(t *testing.T, s *Store, end time.Time, topics []string) answers {
	t.Helper()
	ctx := context.Background()
	a := answers{Trends: map[string][]Trend{}, Spreads: map[string]Spread{}, Timeline: map[string][]Point{}}
	for _, q := range []TrendsQuery{
		{Now: end, Window: 24 * time.Hour, Limit: 1000},
		{Now: end.Add(-37 * time.Minute), Window: 97 * time.Minute, Limit: 1000, Buckets: 7},
		{Now: end.Add(-3 * time.Hour), Window: 50 * time.Hour, Limit: 1000, Buckets: 10, Baseline: 5 * time.Hour},
		{Now: end, Window: 72 * time.Hour, Limit: 5, Sort: "burst", Baseline: 6 * time.Hour},
		{Now: end.Add(-time.Hour), Window: 40 * time.Hour, Limit: 1000, Lang: "vi"},
		{Now: end, Window: 72 * time.Hour, Limit: 1000, Platform: "rss", Lang: "fr"},
	} {
		tr, err := s.Trends(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		a.Trends[fmt.Sprintf("%s/%v/%s/%s/%s", q.Now.Format(time.TimeOnly), q.Window, q.Sort, q.Lang, q.Platform)] = tr
	}
	for _, topic := range topics {
		for _, w := range []struct {
			from, to time.Time
			step     time.Duration
		}{{end.Add(-72 * time.Hour), end, time.Hour}, {end.Add(-30*time.Hour - 13*time.Minute), end.Add(-2 * time.Minute), 47 * time.Minute}} {
			sp, err := s.SpreadWith(ctx, topic, w.from, w.to, SpreadOptions{Step: w.step, Top: 1000})
			if err != nil {
				t.Fatal(err)
			}
			k := fmt.Sprintf("%s/%v/%v", topic, w.from.Format(time.DateTime), w.step)
			a.Spreads[k] = sp
			if a.Timeline[k], err = s.Timeline(ctx, topic, w.from, w.to, w.step); err != nil {
				t.Fatal(err)
			}
		}
	}
	return a
}

// Every answer is the same whether the hours it covers were compacted or
// counted raw: before compaction, after it, after late rows made some
// compacted hours stale, and after compacting those again. Two stores get
// the same writes; only one is compacted. The data has re-deliveries,
// posts moved within and across hours, all languages and platforms, and
// spans three UTC days, so windows mix days, hours, cut hours and raw
// minutes.
func TestCompactedAnswersEqualRaw(t *testing.T) {
	for _, sketches := range []bool{false, true} {
		t.Run(fmt.Sprintf("sketched authors %v", sketches), func(t *testing.T) {
			if sketches {
				// Every topic's authors from the sketches, and Spread's
				// lists compacted for the topics' busier hours (~15 rows
				// an hour for #t0) but not the quiet ones.
				defer func(v int64, k int) { exactAuthorsBelow, keyRowsMin = v, k }(exactAuthorsBelow, keyRowsMin)
				exactAuthorsBelow, keyRowsMin = 0, 8
			}
			testCompactedAnswersEqualRaw(t, sketches)
		})
	}
}

func testCompactedAnswersEqualRaw(t *testing.T, sketches bool) {
	raw, comp := newStore(t), newStore(t)
	ctx := context.Background()
	start := time.Date(2026, 3, 10, 5, 0, 0, 0, time.UTC)
	end := start.Add(72 * time.Hour)
	items := genPosts(11, 3000, start, 70*time.Hour)
	r := rand.New(rand.NewPCG(3, 4))
	var again []schema.Analyzed
	for i, it := range items {
		switch {
		case i%10 == 0:
			again = append(again, it) // re-delivered as is
		case i%37 == 0:
			it.Published = it.Published.Add(time.Hour) // moved to the next hour
			again = append(again, it)
		case i%41 == 0:
			// Moved within its hour (two rows in one hour), under a topic
			// of its own so the other topics become one row per post and
			// hour once merged.
			it.Topics = []string{"#wobble"}
			items[i] = it
			it.Published = it.Published.Truncate(time.Hour).Add(time.Duration(r.IntN(60)) * time.Minute)
			again = append(again, it)
		case i%53 == 0:
			it.Published = it.Published.Add(-26 * time.Hour) // moved a day back
			again = append(again, it)
		}
	}
	write := func(batch []schema.Analyzed) {
		t.Helper()
		for _, s := range []*Store{raw, comp} {
			if err := s.WriteAnalyzed(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(items)
	// The latest delivery of a post wins, by its ingestion second: the
	// re-deliveries must be later than the first deliveries in both stores.
	time.Sleep(1100 * time.Millisecond)
	write(again)
	topics := []string{"#t0", "#t3", "#t7", "#wobble"}
	compare := func(stage string) {
		t.Helper()
		want, got := readAll(t, raw, end, topics), readAll(t, comp, end, topics)
		if len(want.Trends["05:00:00/24h0m0s///"]) == 0 {
			t.Fatalf("%s: fixture has no trends", stage)
		}
		for _, tr := range want.Trends["05:00:00/24h0m0s///"] {
			// Sketches are exact up to 16 authors (and say so).
			if est := sketches && tr.Authors > 16; tr.AuthorsEstimated != est {
				t.Fatalf("%s: %s (%d authors) estimated = %v, want %v", stage, tr.Topic, tr.Authors, tr.AuthorsEstimated, est)
			}
		}
		for k := range want.Trends {
			if !reflect.DeepEqual(want.Trends[k], got.Trends[k]) {
				t.Errorf("%s: trends %s differ:\nraw       %+v\ncompacted %+v", stage, k, want.Trends[k], got.Trends[k])
			}
		}
		for k := range want.Spreads {
			if !reflect.DeepEqual(want.Spreads[k], got.Spreads[k]) {
				t.Errorf("%s: spread %s differs:\nraw       %+v\ncompacted %+v", stage, k, want.Spreads[k], got.Spreads[k])
			}
			if !slices.Equal(want.Timeline[k], got.Timeline[k]) {
				t.Errorf("%s: timeline %s differs:\nraw       %v\ncompacted %v", stage, k, want.Timeline[k], got.Timeline[k])
			}
		}
	}
	compare("before compaction")
	st, err := comp.Compact(ctx, end.Add(time.Hour), CompactLimits{})
	if err != nil {
		t.Fatal(err)
	}
	// Hours with rows: 70 of the span and 26 before it (posts moved a day
	// back), less overlap; days: 03-09 to 03-12, all closed at 03-13 06:00.
	if st.Hours < 80 || st.Days != 4 {
		t.Fatalf("first compaction: %+v, want every hour with rows (~84) and 4 days", st)
	}
	fh, fd, err := comp.fresh(ctx, start.Add(-48*time.Hour).Unix(), end.Unix())
	if err != nil || len(fh) != st.Hours || len(fd) != 4 {
		t.Fatalf("fresh after compaction: %d hours, %d days, %v; want %d and 4", len(fh), len(fd), err, st.Hours)
	}
	compare("compacted")
	if st, err := comp.Compact(ctx, end.Add(time.Hour), CompactLimits{}); err != nil || st != (CompactStats{}) {
		t.Fatalf("compaction with nothing new: %+v, %v; want nothing done", st, err)
	}
	// Duplicates merged, then everything compacted again: now most topics'
	// hours hold one row per post, so Spread counts rows (the compacted
	// lists, topic_hour_keys) where it took the per-post way before.
	for _, s := range []*Store{raw, comp} {
		var parts []string
		rows, err := s.conn.Query(ctx, "SELECT DISTINCT partition FROM system.parts WHERE database = ? AND table = 'topic_posts' AND active", s.db)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				t.Fatal(err)
			}
			parts = append(parts, p)
		}
		rows.Close()
		for _, p := range parts { // 18.16 optimizes one partition at a time
			if err := s.conn.Exec(ctx, "OPTIMIZE TABLE topic_posts PARTITION "+p+" FINAL"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := comp.conn.Exec(ctx, "TRUNCATE TABLE compactions"); err != nil {
		t.Fatal(err)
	}
	if _, err := comp.Compact(ctx, end.Add(time.Hour), CompactLimits{}); err != nil {
		t.Fatal(err)
	}
	clean := 0
	for _, topic := range topics[:3] {
		p, err := comp.freshPlan(ctx, end.Add(-72*time.Hour).Unix(), end.Unix())
		if err != nil {
			t.Fatal(err)
		}
		posts, rows, _, _, err := comp.spreadCheck(ctx, topic, p)
		if err != nil {
			t.Fatal(err)
		}
		if posts == rows {
			clean++
		}
	}
	if clean != 3 {
		t.Fatalf("fixture: %d of #t0, #t3, #t7 are one row per post and hour after OPTIMIZE FINAL, want all: the row path is not exercised", clean)
	}
	compare("merged and compacted")
	// Late rows: a new post and a re-delivery moved into compacted hours
	// (one of them in a whole compacted day).
	late := []schema.Analyzed{items[5], items[6]}
	late[0].ID, late[0].Published = "late-new", start.Add(30*time.Hour+5*time.Minute)
	late[1].Published = start.Add(40*time.Hour + 59*time.Minute)
	late[0].Topics, late[1].Topics = []string{"#t0", "#t3"}, []string{"#t0"}
	write(late)
	compare("late rows")
	// Hours compacted a moment ago wait RecompactAfter before they are
	// compacted again; the answers stay right meanwhile.
	// (03-13 is closed by now, so its day may compact; no hour may.)
	if st, err := comp.Compact(ctx, time.Now(), CompactLimits{RecompactAfter: time.Hour}); err != nil || st.Hours != 0 {
		t.Fatalf("compaction within RecompactAfter: %+v, %v; want no hour compacted", st, err)
	}
	compare("late rows, waiting")
	st, err = comp.Compact(ctx, end.Add(time.Hour), CompactLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Hours != 2 || st.Days != 1 {
		t.Errorf("compaction after late rows in two hours of one day: %+v, want 2 hours and 1 day", st)
	}
	compare("compacted again")
}

// The compactor leaves the open hour alone and stops with its context.
func TestCompactorRun(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	now := t0.Add(90 * time.Minute)
	s.now = func() time.Time { return now }
	items := genPosts(2, 50, t0, 2*time.Hour) // 08:00-10:00; 09:30 is open
	if err := s.WriteAnalyzed(ctx, items); err != nil {
		t.Fatal(err)
	}
	c := NewCompactor(s, CompactorOptions{Interval: 10 * time.Millisecond}, nil)
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fh, _, err := s.fresh(context.Background(), t0.Unix(), t0.Add(3*time.Hour).Unix())
		if err != nil {
			t.Fatal(err)
		}
		if len(fh) > 0 {
			if len(fh) != 1 || fh[t0.Unix()] == 0 {
				t.Fatalf("compacted hours %v, want only 08:00 (09:00 is open at 09:30)", fh)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the compactor compacted nothing within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil on cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
