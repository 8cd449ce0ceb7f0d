package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/trendwatch/trendwatch/internal/testsvc"
	"github.com/trendwatch/trendwatch/schema"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	addr := testsvc.ClickHouse(t)
	db := testsvc.Database(t, addr)
	ctx := context.Background()
	s, err := Open(ctx, Options{Addrs: []string{addr}, Database: db}, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	// Two processes migrating a fresh database at once.
	addr := testsvc.ClickHouse(t)
	db := testsvc.Database(t, addr)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(ctx, Options{Addrs: []string{addr}, Database: db}, nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			errs[i] = st.Migrate(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Migrate: %v", err)
	}
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT uniqExact(version) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if int(n) != len(migs) {
		t.Errorf("schema_migrations has %d versions, want %d", n, len(migs))
	}
	if v := s.ServerVersion(); v.Major == 0 {
		t.Errorf("server version not read: %v", v)
	}
}

var t0 = time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)

func TestRedeliveryCountsOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	items := genPosts(1, 500, t0, 3*time.Hour)
	for range 3 {
		if err := s.WriteAnalyzed(ctx, items); err != nil {
			t.Fatal(err)
		}
	}
	// The same posts again in another order and split across batches, as
	// a consumer restarting mid-batch would re-deliver them.
	rev := slices.Clone(items)
	slices.Reverse(rev)
	if err := s.WriteAnalyzed(ctx, rev[:200]); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteAnalyzed(ctx, rev[200:]); err != nil {
		t.Fatal(err)
	}
	n, err := s.CountPosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 500 {
		t.Errorf("CountPosts = %d, want 500", n)
	}
	var final uint64
	if err := s.conn.QueryRow(ctx, qCountPostsUniq).Scan(&final); err != nil {
		t.Fatal(err)
	}
	if final != 500 {
		t.Errorf("uniqExact count = %d, want 500", final)
	}
	checkAggregates(t, s, items)
	// After the server merges the duplicates away the answers are the same.
	for _, tbl := range []string{"posts", "topic_posts", "topic_hour", "matches"} {
		if err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+tbl+" FINAL"); err != nil {
			t.Fatal(err)
		}
	}
	checkAggregates(t, s, items)
}

// checkAggregates compares every aggregate with exact counts computed in Go.
func checkAggregates(t *testing.T, s *Store, items []schema.Analyzed) {
	t.Helper()
	ctx := context.Background()
	from, to := t0, t0.Add(3*time.Hour)
	step := 10 * time.Minute
	for _, topic := range []string{"#t0", "#t1", "#t3", "#nope"} {
		e := expect(items, topic, from, to, step)
		sp, err := s.SpreadWith(ctx, topic, from, to, SpreadOptions{Step: step, Top: 1000, Samples: 3, Facts: 100})
		if err != nil {
			t.Fatal(err)
		}
		if sp.Posts != e.posts || sp.AuthorCount != e.authors || sp.SourceCount != e.sources || sp.DomainCount != e.domains {
			t.Errorf("%s: spread posts/authors/sources/domains = %d/%d/%d/%d, want %d/%d/%d/%d", topic,
				sp.Posts, sp.AuthorCount, sp.SourceCount, sp.DomainCount, e.posts, e.authors, e.sources, e.domains)
		}
		if !sp.FirstSeen.Equal(e.first) || !sp.LastSeen.Equal(e.last) {
			t.Errorf("%s: first/last = %v/%v, want %v/%v", topic, sp.FirstSeen, sp.LastSeen, e.first, e.last)
		}
		checkCounts(t, topic+" authors", sp.Authors, e.byAuthor)
		checkCounts(t, topic+" languages", sp.Languages, e.byLang)
		checkCounts(t, topic+" platforms", sp.Platforms, e.byPlatform)
		if len(sp.Timeline) != len(e.timeline) {
			t.Fatalf("%s: %d timeline buckets, want %d", topic, len(sp.Timeline), len(e.timeline))
		}
		var cum int64
		for i, p := range sp.Timeline {
			cum += e.timeline[i]
			if p.Posts != e.timeline[i] || sp.Cumulative[i].Posts != cum || !p.Time.Equal(from.Add(time.Duration(i)*step)) {
				t.Errorf("%s: bucket %d = %v (cum %d), want %d (cum %d)", topic, i, p, sp.Cumulative[i].Posts, e.timeline[i], cum)
			}
		}
		var facts []string
		for f := range e.facts {
			facts = append(facts, f)
		}
		sort.Strings(facts)
		if !slices.Equal(sp.FactIDs, facts) {
			t.Errorf("%s: facts = %v, want %v", topic, sp.FactIDs, facts)
		}
		if want := min(3, int(e.posts)); len(sp.SamplePosts) != want {
			t.Errorf("%s: %d sample posts, want %d", topic, len(sp.SamplePosts), want)
		} else if want > 0 && !sp.SamplePosts[0].Published.Equal(e.first) {
			t.Errorf("%s: first sample published %v, want the earliest %v", topic, sp.SamplePosts[0].Published, e.first)
		}
	}
	// Trends over the last hour must agree with the same Go counts.
	trends, err := s.Trends(ctx, TrendsQuery{Window: time.Hour, Now: to, Limit: 100, Buckets: 6})
	if err != nil {
		t.Fatal(err)
	}
	if len(trends) == 0 {
		t.Fatal("no trends")
	}
	for _, tr := range trends {
		e := expect(items, tr.Topic, to.Add(-time.Hour), to, 10*time.Minute)
		base := expect(items, tr.Topic, to.Add(-7*time.Hour), to.Add(-time.Hour), time.Hour)
		if tr.Posts != e.posts || tr.Authors != e.authors || tr.Baseline != base.posts {
			t.Errorf("trend %s: posts/authors/baseline = %d/%d/%d, want %d/%d/%d", tr.Topic, tr.Posts, tr.Authors, tr.Baseline, e.posts, e.authors, base.posts)
		}
		series := make([]int64, len(tr.Series))
		for i, v := range tr.Series {
			series[i] = int64(v)
		}
		if !slices.Equal(series, e.timeline) {
			t.Errorf("trend %s: series %v, want %v", tr.Topic, series, e.timeline)
		}
	}
	for i := 1; i < len(trends); i++ {
		if trends[i].Posts > trends[i-1].Posts {
			t.Errorf("trends not ordered by posts: %v before %v", trends[i-1], trends[i])
		}
	}
}

func checkCounts(t *testing.T, what string, got []Count, want map[string]int64) {
	t.Helper()
	// Empty keys are only listed for languages and platforms.
	if len(got) != len(want) && !(len(got) == len(want)-1 && want[""] > 0 && what[len(what)-7:] == "authors") {
		t.Errorf("%s: %d entries, want %d: %v vs %v", what, len(got), len(want), got, want)
	}
	for i, c := range got {
		if want[c.Key] != c.Posts {
			t.Errorf("%s[%q] = %d, want %d", what, c.Key, c.Posts, want[c.Key])
		}
		if i > 0 && (c.Posts > got[i-1].Posts || c.Posts == got[i-1].Posts && c.Key < got[i-1].Key) {
			t.Errorf("%s not ordered: %v", what, got)
		}
	}
}

func TestTrendsFiltersAndBurst(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := t0.Add(10 * time.Hour)
	var items []schema.Analyzed
	add := func(id, topic, lang, platform string, at time.Time) {
		p := schema.Post{ID: id, Lang: lang, Platform: platform, Text: "x", Published: at, Author: id}
		if platform == "rss" { // a feed: one source, no authors
			p.Author, p.Source = "", "feed-a"
		}
		items = append(items, schema.Analyzed{Post: p, Topics: []string{topic}})
	}
	// #steady: 6 posts per hour for 7 hours; #new: 6 posts in the last hour.
	for h := range 7 {
		for k := range 6 {
			add("s"+string(rune('a'+h))+string(rune('a'+k)), "#steady", "vi", "rss", now.Add(-time.Duration(h)*time.Hour-time.Duration(k*10+5)*time.Minute))
		}
	}
	for k := range 6 {
		lang := "fr"
		if k%2 == 0 {
			lang = "vi"
		}
		add("n"+string(rune('a'+k)), "#new", lang, "mastodon", now.Add(-time.Duration(k*10+5)*time.Minute))
	}
	if err := s.WriteAnalyzed(ctx, items); err != nil {
		t.Fatal(err)
	}
	f := func(q TrendsQuery, want ...string) {
		t.Helper()
		q.Now, q.Window = now, time.Hour
		got, err := s.Trends(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var topics []string
		for _, tr := range got {
			topics = append(topics, tr.Topic)
		}
		if !slices.Equal(topics, want) {
			t.Errorf("Trends(%+v) = %v, want %v", q, topics, want)
		}
	}
	f(TrendsQuery{Sort: "burst"}, "#new", "#steady")
	f(TrendsQuery{Lang: "fr"}, "#new")
	f(TrendsQuery{Platform: "rss"}, "#steady")
	f(TrendsQuery{Platform: "rss", Lang: "fr"})
	f(TrendsQuery{MinPosts: 7})
	f(TrendsQuery{Sort: "posts", MinSources: 2}, "#new") // #steady: one feed, no authors
	f(TrendsQuery{Sort: "posts", MinSources: 1}, "#new", "#steady")
	got, err := s.Trends(ctx, TrendsQuery{Now: now, Window: time.Hour, Sort: "score", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	// #new: 6 posts in the hour, none in the 6 hours of history before it
	// (the store's data starts 7 hours back), so its rate is the prior's
	// weighted down by 6 silent hours.
	rate := trendRate(0, 6, DefaultRateTable().Default, 6)
	if len(got) != 2 || got[0].Topic != "#new" || got[0].Baseline != 0 || math.Abs(got[0].BaselineRate-rate) > 1e-12 ||
		math.Abs(got[0].Score-significance(6, rate)) > 1e-9 || got[0].Authors != 6 || got[0].Sources != 0 || got[0].Label != "#new" || got[0].Kind != KindHashtag {
		t.Errorf("score of #new = %+v, want rate %v", got, rate)
	}
	// #steady: 6 posts an hour for 6 hours before, as many now: its own
	// rate has half the weight, and it scores far below #new.
	srate := trendRate(36, 6, DefaultRateTable().Default, 6)
	if st := got[1]; st.Topic != "#steady" || st.Baseline != 36 || math.Abs(st.BaselineRate-srate) > 1e-12 || st.Score > got[0].Score/4 ||
		st.Sources != 1 || st.Authors != 0 {
		t.Errorf("#steady = %+v", st)
	}
	if _, err := s.Trends(ctx, TrendsQuery{Sort: "nope"}); err == nil {
		t.Error("invalid sort accepted")
	}
}

func TestFactsLatestWinsAndDelete(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	f1 := schema.Fact{ID: "f1", Claim: "Vaccine causes X", Lang: "en", Verdict: schema.VerdictFalse, Tags: []string{"health"},
		Translations: map[string]string{"vi": "Vắc-xin gây ra X"}, Updated: t0, Date: t0, Rating: "Pants on fire",
		Appearances: []string{"so the vaccine gives you X now?", "X from vaccines, share before they delete"}}
	f2 := schema.Fact{ID: "f2", Claim: "Tin giả về lũ lụt", Lang: "vi", Verdict: schema.VerdictMisleading, Updated: t0.Add(time.Hour)}
	if err := s.WriteFacts(ctx, []schema.Fact{f1, f2}); err != nil {
		t.Fatal(err)
	}
	f1b := f1
	f1b.Claim, f1b.Verdict, f1b.Updated = "Vaccine causes Y", schema.VerdictMixed, t0.Add(2*time.Hour)
	if err := s.WriteFacts(ctx, []schema.Fact{f1b}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Fact(ctx, "f1")
	if err != nil {
		t.Fatal(err)
	}
	f1b.V = schema.Version
	// Every field comes back: an edit starting from the stored fact must
	// not lose what the form does not show.
	if !reflect.DeepEqual(got, f1b) {
		t.Errorf("Fact(f1) = %+v, want %+v", got, f1b)
	}
	q := func(fq FactQuery, want ...string) {
		t.Helper()
		fs, err := s.Facts(ctx, fq)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("Facts(%+v) = %v, want %v", fq, ids, want)
		}
	}
	q(FactQuery{}, "f1", "f2")
	q(FactQuery{Q: "causes x"})
	q(FactQuery{Q: "CAUSES y"}, "f1")
	q(FactQuery{Q: "TIN GIẢ"}, "f2")
	q(FactQuery{Verdict: schema.VerdictMisleading}, "f2")
	q(FactQuery{Lang: "en"}, "f1")
	q(FactQuery{Limit: 1, Offset: 1}, "f2")
	if err := s.DeleteFact(ctx, "f1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fact(ctx, "f1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fact(deleted) err = %v, want ErrNotFound", err)
	}
	q(FactQuery{}, "f2")
	// Search reads: the live facts' texts, newest first, and facts by id
	// in the order asked, deleted ones left out.
	texts, err := s.FactTexts(ctx, "", "")
	if err != nil || len(texts) != 1 || texts[0].ID != "f2" || texts[0].Claim != f2.Claim {
		t.Errorf("FactTexts = %+v, %v", texts, err)
	}
	if err := s.WriteFacts(ctx, []schema.Fact{{ID: "f3", Claim: "c3", Lang: "fr", Verdict: schema.VerdictFalse, Tags: []string{"t"}, Translations: map[string]string{"en": "tr"}, Updated: t0.Add(3 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	texts, err = s.FactTexts(ctx, "", "")
	if err != nil || len(texts) != 2 || texts[0].ID != "f3" || !slices.Equal(texts[0].Tags, []string{"t"}) || !slices.Equal(texts[0].Translations, []string{"tr"}) {
		t.Errorf("FactTexts = %+v, %v", texts, err)
	}
	if texts, err = s.FactTexts(ctx, schema.VerdictMisleading, "vi"); err != nil || len(texts) != 1 || texts[0].ID != "f2" {
		t.Errorf("FactTexts(misleading, vi) = %+v, %v", texts, err)
	}
	byID, err := s.FactsByID(ctx, []string{"f2", "f1", "f3"})
	if err != nil || len(byID) != 2 || byID[0].ID != "f2" || byID[1].ID != "f3" {
		t.Errorf("FactsByID = %+v, %v", byID, err)
	}
	// Re-adding after a delete revives the fact.
	if err := s.WriteFacts(ctx, []schema.Fact{f1}); err != nil {
		t.Fatal(err)
	}
	q(FactQuery{Q: "causes x"}, "f1")
	if byID, err = s.FactsByID(ctx, []string{"f3", "f1"}); err != nil || len(byID) != 2 || byID[0].ID != "f3" || byID[1].ID != "f1" {
		t.Errorf("FactsByID after revival = %+v, %v", byID, err)
	}
	if err := s.WriteFacts(ctx, []schema.Fact{{ID: "bad"}}); err == nil {
		t.Error("invalid fact accepted")
	}
}

func TestSourcesCasesAlerts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	src := schema.Source{ID: "s1", Kind: "feed", URL: "https://example.org/rss", Name: "Example", Lang: "vi",
		Interval: 5 * time.Minute, Enabled: true, Options: map[string]string{"depth": "2"}, Created: t0}
	if err := s.PutSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	src2 := src
	src2.Enabled, src2.Name = false, "Renamed"
	if err := s.PutSource(ctx, src2); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSource(ctx, schema.Source{ID: "s2", Kind: "crawl", URL: "https://x.example"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSource(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	srcs, err := s.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 1 || srcs[0].Name != "Renamed" || srcs[0].Enabled || srcs[0].Interval != 5*time.Minute ||
		srcs[0].Options["depth"] != "2" || !srcs[0].Created.Equal(t0) {
		t.Errorf("Sources = %+v", srcs)
	}
	for i := range 3 {
		st := schema.SourceStatus{SourceID: "s1", LastAttempt: t0.Add(time.Duration(i) * time.Minute), Failures: i, ItemsPerDay: 1.5, LastError: "boom",
			Health: schema.HealthFailing, ErrorKind: fmt.Sprintf("http_%d", 500+i), Title: "Sở Y tế"}
		if err := s.PutSourceStatus(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	sts, err := s.SourceStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].Failures != 2 || !sts[0].LastAttempt.Equal(t0.Add(2*time.Minute)) || sts[0].ItemsPerDay != 1.5 || !sts[0].LastSuccess.IsZero() ||
		sts[0].Health != schema.HealthFailing || sts[0].ErrorKind != "http_502" || sts[0].Title != "Sở Y tế" {
		t.Errorf("SourceStatuses = %+v", sts)
	}

	for v := uint64(1); v <= 3; v++ {
		c := CaseRow{ID: "c1", FactID: "f1", State: []string{"open", "acknowledged", "resolved"}[v-1], Severity: "high",
			Opened: t0, Updated: t0.Add(time.Duration(v) * time.Minute), Version: v, Body: `{"v":1}`}
		if err := s.PutCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// A stale version arriving late loses.
	if err := s.PutCase(ctx, CaseRow{ID: "c1", FactID: "f1", State: "open", Version: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCase(ctx, CaseRow{ID: "c2", FactID: "f2", State: "open", Updated: t0, Version: 1}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Cases(ctx, CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != "c1" || cs[0].State != "resolved" || cs[0].Version != 3 || cs[0].Body != `{"v":1}` {
		t.Errorf("Cases = %+v", cs)
	}
	if cs, err := s.Cases(ctx, CaseQuery{State: "open"}); err != nil || len(cs) != 1 || cs[0].ID != "c2" {
		t.Errorf("Cases(open) = %+v, %v", cs, err)
	}
	if c, ok, err := s.Case(ctx, "c1"); err != nil || !ok || c.State != "resolved" || c.Version != 3 || c.FactID != "f1" || !c.Updated.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("Case(c1) = %+v, %v, %v; want its version 3", c, ok, err)
	}
	// A batch: the later entry of c3 wins; events land once per id.
	if err := s.PutCases(ctx, []CaseRow{{ID: "c3", FactID: "f3", State: "open"}, {ID: "c3", FactID: "f3", State: "acknowledged"}, {ID: "c4", FactID: "f4", State: "open"}}); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := s.Case(ctx, "c3"); err != nil || !ok || c.State != "acknowledged" {
		t.Errorf("Case(c3) after PutCases = %+v, %v, %v; want acknowledged", c, ok, err)
	}
	batch := []CaseEvent{{CaseID: "c3", Time: t0, Actor: "system", Action: "opened"}, {CaseID: "c3", Time: t0.Add(time.Second), Actor: "ana", Action: "acknowledged"}}
	for range 2 {
		if err := s.AppendCaseEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if evs, err := s.CaseEvents(ctx, "c3"); err != nil || len(evs) != 2 || evs[1].Action != "acknowledged" {
		t.Errorf("CaseEvents(c3) = %+v, %v; want the two events once", evs, err)
	}
	if err := s.PutCases(ctx, []CaseRow{{FactID: "f"}}); err == nil {
		t.Error("PutCases accepted a case without id")
	}
	if c, ok, err := s.Case(ctx, "nope"); err != nil || ok {
		t.Errorf("Case(nope) = %+v, %v, %v; want not found", c, ok, err)
	}
	ev := CaseEvent{CaseID: "c1", ID: "cmd1", Time: t0, Actor: "ana", Action: "acknowledge"}
	for range 3 {
		if err := s.AppendCaseEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendCaseEvent(ctx, CaseEvent{CaseID: "c1", Time: t0.Add(time.Minute), Actor: "bo", Action: "note", Detail: "checked"}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.CaseEvents(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0] != ev || evs[1].Action != "note" || evs[1].ID == "" {
		t.Errorf("CaseEvents = %+v", evs)
	}

	a := schema.Alert{Key: schema.AlertKey("f1", "p1"), FactID: "f1", PostID: "p1", Score: 0.9, Detected: t0}
	cmd := schema.Alert{FactID: "f1", Command: &schema.CaseCommand{ID: "x", Kind: schema.CmdNote}}
	for range 2 {
		if err := s.WriteAlerts(ctx, []schema.Alert{a, cmd}); err != nil {
			t.Fatal(err)
		}
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT uniqExact(key) FROM alerts").Scan(&n); err != nil || n != 1 {
		t.Errorf("alerts stored: %d, %v; want 1", n, err)
	}
}

func TestWriteAnalyzedRejectsMissingID(t *testing.T) {
	s := newStore(t)
	items := genPosts(2, 3, t0, time.Hour)
	items[1].ID = ""
	if err := s.WriteAnalyzed(context.Background(), items); err == nil {
		t.Fatal("post without id accepted")
	}
	if n, err := s.CountPosts(context.Background()); err != nil || n != 0 {
		t.Errorf("CountPosts after refused batch = %d, %v; want 0", n, err)
	}
}

// A re-delivery whose published time moved (an edited item, a feed that
// rewrote its dates) is one post in CountPosts and the samples, and in
// every topic count once per hour it has rows in (migration 009): once
// when it moved within its hour, once in each hour when it moved across.
func TestRedeliveryWithMovedTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		move  time.Duration
		posts int64
	}{
		{"within the hour", 20 * time.Minute, 1},
		{"another month", 34 * 24 * time.Hour, 2}, // another partition of every time-partitioned table
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			a := schema.Analyzed{Post: schema.Post{ID: "moved", Author: "ann", Platform: "rss", Lang: "vi", Text: "x", Published: t0}, Topics: []string{"#m"}}
			b := a
			b.Published = t0.Add(tc.move)
			for _, it := range []schema.Analyzed{a, b, a} {
				if err := s.WriteAnalyzed(ctx, []schema.Analyzed{it}); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.CountPosts(ctx); err != nil || n != 1 {
				t.Errorf("CountPosts = %d, %v; want 1", n, err)
			}
			from, to := t0.Add(-time.Hour), b.Published.Add(time.Hour)
			for _, compacted := range []bool{false, true} {
				if compacted {
					if _, err := s.Compact(ctx, to.Add(2*time.Hour), CompactLimits{}); err != nil {
						t.Fatal(err)
					}
				}
				sp, err := s.SpreadWith(ctx, "#m", from, to, SpreadOptions{Step: 24 * time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				if sp.Posts != tc.posts || sp.AuthorCount != 1 || sp.Cumulative[len(sp.Cumulative)-1].Posts != tc.posts || len(sp.SamplePosts) != 1 {
					t.Errorf("compacted %v: spread of a moved post: posts=%d authors=%d cumulative=%d samples=%d, want %d, 1, %d, 1",
						compacted, sp.Posts, sp.AuthorCount, sp.Cumulative[len(sp.Cumulative)-1].Posts, len(sp.SamplePosts), tc.posts, tc.posts)
				}
				tr, err := s.Trends(ctx, TrendsQuery{Now: to, Window: to.Sub(from)})
				if err != nil {
					t.Fatal(err)
				}
				if len(tr) != 1 || tr[0].Posts != tc.posts || tr[0].Authors != 1 {
					t.Errorf("compacted %v: Trends over both times = %+v, want one topic with %d posts, 1 author", compacted, tr, tc.posts)
				}
			}
		})
	}
}

// TestEditedPostKeepsItsLatestTime: a post re-fetched after its source
// edited the time, within the same minute, must answer with the latest
// delivery's time before and after ClickHouse merges the two rows away.
func TestEditedPostKeepsItsLatestTime(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	clock := t0.Add(time.Hour)
	s.now = func() time.Time { return clock }
	first := schema.Analyzed{Post: schema.Post{ID: "edited", Author: "ann", Platform: "rss", Lang: "vi", Text: "x", Published: t0.Add(10 * time.Second)}, Topics: []string{"#e"}}
	edited := first
	edited.Published = t0.Add(40 * time.Second)
	if err := s.WriteAnalyzed(ctx, []schema.Analyzed{first}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute) // fetched again later
	if err := s.WriteAnalyzed(ctx, []schema.Analyzed{edited}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		sp, err := s.SpreadWith(ctx, "#e", t0, t0.Add(time.Hour), SpreadOptions{Step: time.Hour, Samples: 3})
		if err != nil {
			t.Fatal(err)
		}
		want := edited.Published
		if sp.Posts != 1 || !sp.FirstSeen.Equal(want) || !sp.LastSeen.Equal(want) || len(sp.SamplePosts) != 1 || !sp.SamplePosts[0].Published.Equal(want) {
			var pub time.Time
			if len(sp.SamplePosts) > 0 {
				pub = sp.SamplePosts[0].Published
			}
			t.Errorf("%s: posts %d, first %v, last %v, sample published %v; want 1 post, all at %v", when, sp.Posts, sp.FirstSeen, sp.LastSeen, pub, want)
		}
	}
	check("before merge")
	for _, tbl := range []string{"posts", "topic_posts"} {
		if err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+tbl+" FINAL"); err != nil {
			t.Fatal(err)
		}
	}
	check("after merge")
}

func TestMigrateVersionGate(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	extra, err := loadMigrations(fstest.MapFS{
		"m/900_future.sql": {Data: []byte("-- requires: 999.1\nCREATE TABLE IF NOT EXISTS future_only (a String) ENGINE = Log")},
		"m/901_floor.sql":  {Data: []byte("-- requires: 18.16\nCREATE TABLE IF NOT EXISTS floor_ok (a String) ENGINE = Log")},
	}, "m")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.migrate(ctx, extra); err != nil {
			t.Fatal(err)
		}
	}
	var tables []string
	rows, err := s.conn.Query(ctx, "SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN ('future_only', 'floor_ok')")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if !slices.Equal(tables, []string{"floor_ok"}) {
		t.Errorf("tables after gated migrations = %v, want [floor_ok]", tables)
	}
	var recorded []uint32
	rows, err = s.conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations WHERE version >= 900 ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, v)
	}
	rows.Close()
	// The skipped migration stays unrecorded so it applies after an upgrade.
	if !slices.Equal(recorded, []uint32{901}) {
		t.Errorf("recorded gated migrations = %v, want [901]", recorded)
	}
}

// SpreadWith and Timeline count rows while every post of the range is one
// row in each hour, and count per post and hour otherwise (see
// spreadCheck): both ways must give the same answer. A post re-delivered
// one minute later in the same hour leaves two rows that never merge
// (their keys differ), so the second read takes the per-post way for
// certain; the moved post keeps its first minute, author and facts, so
// nothing Spread reports changes.
func TestSpreadRowAndPostPathsAgree(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	items := genPosts(5, 400, t0, 3*time.Hour)
	if err := s.WriteAnalyzed(ctx, items); err != nil {
		t.Fatal(err)
	}
	const topic = "#t0"
	from, to := t0, t0.Add(3*time.Hour)
	read := func() (Spread, []Point) {
		t.Helper()
		sp, err := s.SpreadWith(ctx, topic, from, to, SpreadOptions{Step: 10 * time.Minute, Top: 1000, Samples: 5, Facts: 100})
		if err != nil {
			t.Fatal(err)
		}
		tl, err := s.Timeline(ctx, topic, from, to, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return sp, tl
	}
	oneRow := func() bool {
		t.Helper()
		p, err := s.freshPlan(ctx, from.Unix(), to.Unix())
		if err != nil {
			t.Fatal(err)
		}
		posts, rows, _, _, err := s.spreadCheck(ctx, topic, p)
		if err != nil {
			t.Fatal(err)
		}
		return posts == rows
	}
	if !oneRow() {
		t.Fatal("fixture: a post of the topic has two rows before any re-delivery")
	}
	bySpread, byTimeline := read()
	if bySpread.Posts < 10 {
		t.Fatalf("fixture: only %d posts under %s", bySpread.Posts, topic)
	}
	var under []schema.Analyzed
	for _, it := range items {
		if slices.Contains(it.Topics, topic) {
			under = append(under, it)
		}
	}
	slices.SortFunc(under, func(a, b schema.Analyzed) int { return a.Published.Compare(b.Published) })
	moved := under[len(under)/2] // neither the first nor the last post
	for i := len(under) / 2; moved.Published.Minute() == 59; i++ {
		moved = under[i] // a minute later must stay in the hour
	}
	moved.Published = moved.Published.Add(time.Minute)
	if err := s.WriteAnalyzed(ctx, []schema.Analyzed{moved}); err != nil {
		t.Fatal(err)
	}
	if oneRow() {
		t.Fatal("the moved post should have two rows")
	}
	perSpread, perTimeline := read()
	if !reflect.DeepEqual(bySpread, perSpread) {
		t.Errorf("spread counted by rows and by posts differ:\n%+v\n%+v", bySpread, perSpread)
	}
	if !slices.Equal(byTimeline, perTimeline) {
		t.Errorf("timeline counted by rows and by posts differ:\n%v\n%v", byTimeline, perTimeline)
	}
}

// A migration interrupted after its DROP COLUMN ran (not yet recorded) must
// run again without failing on the missing column, and the migrated
// topic_posts must have lost post_id.
func TestMigrateDropColumnRunsAgain(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var n uint64
	if err := s.conn.QueryRow(ctx, qColumnExists, s.db, "topic_posts", "post_id").Scan(&n); err != nil || n != 0 {
		t.Fatalf("topic_posts.post_id after Migrate: count %d, err %v; want dropped", n, err)
	}
	migs := []Migration{
		{Version: 901, Name: "t", Statements: []string{"CREATE TABLE drop_again (a UInt8, b String) ENGINE = MergeTree() ORDER BY a"}},
		{Version: 902, Name: "drop", Statements: []string{"ALTER TABLE drop_again DROP COLUMN b"}},
		// The same statement again, as after a crash between running it and
		// recording it.
		{Version: 903, Name: "drop_again", Statements: []string{"alter table drop_again\n  drop column b"}},
		// Likewise an ADD COLUMN already run.
		{Version: 905, Name: "add", Statements: []string{"ALTER TABLE drop_again ADD COLUMN c Array(String)"}},
		{Version: 906, Name: "add_again", Statements: []string{"alter table drop_again add column c Array(String) after a"}},
	}
	if err := s.migrate(ctx, migs); err != nil {
		t.Fatalf("migrate with a repeated DROP COLUMN: %v", err)
	}
	for _, c := range []string{"a", "c"} {
		if err := s.conn.QueryRow(ctx, qColumnExists, s.db, "drop_again", c).Scan(&n); err != nil || n != 1 {
			t.Fatalf("column %s: count %d, err %v; want there", c, n, err)
		}
	}
	// Other failing statements still fail.
	bad := []Migration{{Version: 904, Name: "bad", Statements: []string{"ALTER TABLE drop_again MODIFY COLUMN nope String"}}}
	if err := s.migrate(ctx, bad); err == nil {
		t.Fatal("a failing ALTER was accepted")
	}
}
