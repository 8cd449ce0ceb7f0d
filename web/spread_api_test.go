package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// genPost is a generated post with what the test knows about it by
// construction (its link domain), independent of the store's parsing.
type genPost struct {
	schema.Analyzed
	domain string
}

// delivery is one write of a post: re-deliveries repeat the post, an
// edited re-delivery with its time moved (by at least a minute, so it is a
// separate topic row that never merges with the first).
type delivery struct {
	p    *genPost
	when time.Time // published, else fetched
}

// spreadCorpus is a fixed-seed corpus: several topics, authors (some
// empty), platforms, languages (some empty), sources (some empty), link
// domains with mixed case, ports and www., posts without a published time,
// fact matches, and re-delivered duplicates.
type spreadCorpus struct {
	posts      []*genPost
	deliveries []delivery
	edited     map[string]bool // post ids whose re-delivery moved in time
	// planted edge posts: exactly at from, a second before from, a second
	// before to, exactly at to of the edge window.
	edgeFrom, edgeTo time.Time
}

var spreadT0 = time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)

const spreadStoredFact = "fc-spread-a" // written as a fact; "fc-spread-b" is matched but never stored

func genSpreadCorpus(n int) *spreadCorpus {
	r := rand.New(rand.NewPCG(4, 2026))
	topics := []string{"#alpha", "#beta", "url:news.example/story-1", "ent:hà nội", "#gamma"}
	weights := []float64{0.5, 0.3, 0.2, 0.15, 0.02}
	platforms := []string{"web", "mastodon", "bluesky", "telegram", "reddit"}
	langs := []string{"vi", "vi", "vi", "en", "en", "fr", ""}
	hosts := []struct{ host, domain string }{
		{"news.example", "news.example"}, {"WWW.Bao.Example", "bao.example"}, {"www.tin.example:8443", "tin.example"},
		{"Social.Example", "social.example"}, {"m.blog.example", "m.blog.example"}, {"", ""},
	}
	c := &spreadCorpus{edited: map[string]bool{}}
	for i := range n {
		p := &genPost{}
		src := "src" + strconv.Itoa(r.IntN(12)) + ".example"
		if r.IntN(50) == 0 {
			src = ""
		}
		h := hosts[r.IntN(len(hosts))]
		p.Source, p.Platform, p.Lang = src, platforms[r.IntN(len(platforms))], langs[r.IntN(len(langs))]
		if h.host != "" {
			p.URL = "https://" + h.host + "/p/" + strconv.Itoa(i) + "?utm_source=x"
			p.domain = h.domain
			if r.IntN(4) == 0 { // the canonical URL's host wins over the URL's
				p.CanonicalURL = "https://www.Canon.example/c/" + strconv.Itoa(i)
				p.domain = "canon.example"
			}
		}
		// Zipf-like authors so the top-amplifier lists have a real order,
		// with ties broken by name.
		if r.IntN(10) > 0 {
			p.Author = "@user" + strconv.Itoa(int(r.ExpFloat64()*15))
		}
		at := spreadT0.Add(time.Duration(r.Int64N(int64(6 * time.Hour))))
		if r.IntN(30) == 0 {
			p.Fetched = at // no published time: the fetch time counts
		} else {
			p.Published, p.Fetched = at, at.Add(time.Minute)
		}
		p.Text = "post " + strconv.Itoa(i)
		p.ID = schema.PostID(p.CanonicalURL, src, "g"+strconv.Itoa(i))
		for j, tp := range topics {
			if r.Float64() < weights[j] {
				p.Topics = append(p.Topics, tp)
			}
		}
		if r.IntN(20) == 0 && len(p.Topics) > 0 { // analyzers may repeat a key or emit an empty one
			p.Topics = append(p.Topics, p.Topics[0], "")
		}
		switch r.IntN(25) {
		case 0:
			p.Matches = []schema.Match{{FactID: spreadStoredFact, Score: 0.9, Verdict: "false"}}
		case 1:
			p.Matches = []schema.Match{{FactID: "fc-spread-b", Score: 0.8, Verdict: "false"}, {FactID: "", Score: 0.1}}
		}
		c.posts = append(c.posts, p)
		c.deliveries = append(c.deliveries, delivery{p: p, when: at})
	}
	// The window edges of the edge case: whole minutes inside the corpus.
	c.edgeFrom, c.edgeTo = spreadT0.Add(90*time.Minute), spreadT0.Add(150*time.Minute)
	for i, at := range []time.Time{c.edgeFrom, c.edgeFrom.Add(-time.Second), c.edgeTo.Add(-time.Second), c.edgeTo, c.edgeTo.Add(-time.Minute)} {
		p := &genPost{domain: "edge.example"}
		p.Source, p.Platform, p.Lang, p.Author = "edge.example", "web", "vi", "@edge"+strconv.Itoa(i)
		p.URL = "https://edge.example/" + strconv.Itoa(i)
		p.Published, p.Fetched = at, at
		p.Text = "edge"
		p.ID = schema.PostID("", p.Source, "edge"+strconv.Itoa(i))
		p.Topics = []string{"#edge"}
		c.posts = append(c.posts, p)
		c.deliveries = append(c.deliveries, delivery{p: p, when: at})
	}
	// Re-deliveries: identical copies (one post in ten), and a few edited
	// ones whose time moved later by 1 to 90 minutes.
	for _, p := range c.posts[:n] {
		switch k := r.IntN(100); {
		case k < 10:
			c.deliveries = append(c.deliveries, delivery{p: p, when: postWhen(p)})
		case k < 12:
			c.edited[p.ID] = true
			c.deliveries = append(c.deliveries, delivery{p: p, when: postWhen(p).Add(time.Duration(1+r.IntN(90)) * time.Minute)})
		}
	}
	return c
}

func postWhen(p *genPost) time.Time {
	if !p.Published.IsZero() {
		return p.Published
	}
	return p.Fetched
}

// item is the analyzed post of one delivery.
func (d delivery) item() schema.Analyzed {
	a := d.p.Analyzed
	a.Topics = slices.Clone(a.Topics)
	if !a.Published.IsZero() {
		a.Published = d.when
	} else {
		a.Fetched = d.when
	}
	return a
}

// spreadWant is what the API must answer, computed from the deliveries.
type spreadWant struct {
	posts, authors, sources, domains int64
	first, last                      time.Time // zero when no posts
	timeline                         []int64
	lists                            map[string]map[string]int64 // section -> key -> posts
	minTS                            map[string]time.Time        // post id -> earliest time in the window
	facts                            []string
}

// expectSpread computes the spread of topic in [from, to) (rounded down to
// minutes, as the API documents) with timeline step step, from the
// deliveries alone.
func (c *spreadCorpus) expectSpread(topic string, from, to time.Time, step time.Duration) spreadWant {
	from, to = from.Truncate(time.Minute), to.Truncate(time.Minute)
	w := spreadWant{lists: map[string]map[string]int64{}, minTS: map[string]time.Time{}}
	for _, s := range []string{"author", "source", "domain", "language", "platform"} {
		w.lists[s] = map[string]int64{}
	}
	authors, sources, domains := map[string]bool{}, map[string]bool{}, map[string]bool{}
	// A post counts once per hour it has deliveries in (the store's unit,
	// migration 009): an edited re-delivery moved into the next hour
	// counts again there, at its earliest time in that hour.
	type unit struct {
		id   string
		hour time.Time
	}
	units := map[unit]time.Time{}
	byID := map[string]*genPost{}
	for _, d := range c.deliveries {
		has := false
		for _, tp := range d.p.Topics {
			has = has || tp == topic
		}
		ts := d.when.Truncate(time.Second) // DateTime keeps whole seconds
		if !has || ts.Truncate(time.Minute).Before(from) || !ts.Truncate(time.Minute).Before(to) {
			continue
		}
		if m, ok := w.minTS[d.p.ID]; !ok || ts.Before(m) {
			w.minTS[d.p.ID] = ts
		}
		u := unit{d.p.ID, ts.Truncate(time.Hour)}
		if m, ok := units[u]; !ok || ts.Before(m) {
			units[u] = ts
		}
		byID[d.p.ID] = d.p
		if w.first.IsZero() || ts.Before(w.first) {
			w.first = ts
		}
		if ts.After(w.last) {
			w.last = ts
		}
	}
	nb := int((to.Sub(from) + step - 1) / step)
	w.timeline = make([]int64, nb)
	facts := map[string]bool{}
	for u, ts := range units {
		p := byID[u.id]
		w.posts++
		w.timeline[int(ts.Truncate(time.Minute).Sub(from)/step)]++
		for sec, k := range map[string]string{"author": p.Author, "source": p.Source, "domain": p.domain} {
			if k != "" {
				w.lists[sec][k]++
			}
		}
		w.lists["language"][p.Lang]++ // empty languages and platforms are listed too
		w.lists["platform"][p.Platform]++
		authors[p.Author], sources[p.Source], domains[p.domain] = true, true, true
	}
	for _, p := range byID {
		for _, m := range p.Matches {
			if m.FactID == spreadStoredFact { // the only matched fact that exists
				facts[m.FactID] = true
			}
		}
	}
	delete(authors, "")
	delete(sources, "")
	delete(domains, "")
	w.authors, w.sources, w.domains = int64(len(authors)), int64(len(sources)), int64(len(domains))
	for f := range facts {
		w.facts = append(w.facts, f)
	}
	sort.Strings(w.facts)
	return w
}

// top is the API's list order: most posts first, then by key, n entries.
func top(m map[string]int64, n int) []countJSON {
	out := make([]countJSON, 0, len(m))
	for k, v := range m {
		out = append(out, countJSON{Key: k, Posts: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Posts != out[j].Posts {
			return out[i].Posts > out[j].Posts
		}
		return out[i].Key < out[j].Key
	})
	return out[:min(n, len(out))]
}

type spreadBody struct {
	Topic                            string
	From, To                         time.Time
	Posts, Authors, Sources, Domains int64
	FirstSeen                        *time.Time `json:"first_seen"`
	LastSeen                         *time.Time `json:"last_seen"`
	Timeline, Cumulative             []pointJSON
	TopAuthors                       []countJSON `json:"top_authors"`
	TopSources                       []countJSON `json:"top_sources"`
	TopDomains                       []countJSON `json:"top_domains"`
	Languages, Platforms             []countJSON
	SamplePosts                      []postJSON `json:"sample_posts"`
	Facts                            []schema.Fact
}

func (fx *fixture) getJSON(t *testing.T, path, token string, v any) {
	t.Helper()
	resp := fx.do(t, "GET", path, token, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func rangeQuery(from, to time.Time) string {
	return "from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339))
}

// TestSpreadAPIMatchesExactCounts writes a few thousand generated posts
// through the store and checks every figure of the spread (JSON and CSV)
// and timeline endpoints against counts computed here from the posts.
func TestSpreadAPIMatchesExactCounts(t *testing.T) {
	fx := newFixture(t)
	c := genSpreadCorpus(3000)
	ctx := context.Background()
	if err := fx.st.WriteFacts(ctx, []schema.Fact{{V: 1, ID: spreadStoredFact, Claim: "Tin đồn kiểm thử lan truyền", Lang: "vi",
		Verdict: schema.VerdictFalse, Updated: spreadT0}}); err != nil {
		t.Fatal(err)
	}
	// First deliveries in one batch, re-deliveries (identical or edited) in
	// a later one, as a redelivering consumer would.
	var first, again []schema.Analyzed
	seen := map[string]bool{}
	for _, d := range c.deliveries {
		if seen[d.p.ID] {
			again = append(again, d.item())
		} else {
			first = append(first, d.item())
		}
		seen[d.p.ID] = true
	}
	// Some duplicates also inside the first batch.
	first = append(first, first[:100]...)
	for _, batch := range [][]schema.Analyzed{first, again} {
		if err := fx.st.WriteAnalyzed(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if len(again) < 200 || len(c.edited) < 30 {
		t.Fatalf("corpus has %d re-deliveries (%d edited); the seed no longer exercises duplicates", len(again), len(c.edited))
	}
	tok := fx.tokens[RoleEditor]

	type window struct {
		name     string
		from, to time.Time
	}
	windows := []window{
		{"whole", spreadT0.Add(-time.Hour), spreadT0.Add(8 * time.Hour)},
		{"edges", c.edgeFrom, c.edgeTo},
		{"ragged", spreadT0.Add(37*time.Minute + 20*time.Second), spreadT0.Add(4*time.Hour + 11*time.Minute + 45*time.Second)},
	}
	for _, topic := range []string{"#alpha", "#beta", "url:news.example/story-1", "ent:hà nội", "#gamma", "#edge", "#nothing"} {
		for _, win := range windows {
			t.Run(topic+"/"+win.name, func(t *testing.T) {
				from, to := win.from.Truncate(time.Minute), win.to.Truncate(time.Minute)
				step := max(time.Minute, to.Sub(from)/60).Truncate(time.Minute)
				w := c.expectSpread(topic, from, to, step)
				path := "/api/v1/topics/" + url.PathEscape(topic)
				var sp spreadBody
				fx.getJSON(t, path+"/spread?"+rangeQuery(win.from, win.to), tok, &sp)
				if sp.Topic != topic || !sp.From.Equal(from) || !sp.To.Equal(to) {
					t.Errorf("spread answers for %q %v..%v, want %q %v..%v", sp.Topic, sp.From, sp.To, topic, from, to)
				}
				checkSpreadJSON(t, c, sp, w, from, step)
				checkSpreadCSV(t, fx, path+"/spread.csv?"+rangeQuery(win.from, win.to), tok, sp, w)
				for _, st := range []time.Duration{time.Minute, 90 * time.Second, 7 * time.Minute, time.Hour} {
					checkTimelineAPI(t, fx, c, topic, path, win.from, win.to, st, tok)
				}
			})
		}
	}

	// A range that is empty once rounded to minutes is the caller's error.
	for _, p := range []string{"/spread", "/spread.csv", "", "/timeline.csv"} {
		q := rangeQuery(c.edgeFrom.Add(10*time.Second), c.edgeFrom.Add(50*time.Second))
		if resp := fx.do(t, "GET", "/api/v1/topics/%23edge"+p+"?"+q, tok, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("sub-minute range on %q: %d, want 400", p, resp.StatusCode)
		}
	}

	// The edge window counts the posts at its start and in its last second,
	// not the one at its end or the one a second before it starts.
	w := c.expectSpread("#edge", c.edgeFrom, c.edgeTo, time.Minute)
	if w.posts != 3 || !w.first.Equal(c.edgeFrom) || !w.last.Equal(c.edgeTo.Add(-time.Second)) {
		t.Errorf("edge expectation: %d posts %v..%v; the planted edge posts changed", w.posts, w.first, w.last)
	}
}

func checkSpreadJSON(t *testing.T, c *spreadCorpus, sp spreadBody, w spreadWant, from time.Time, step time.Duration) {
	t.Helper()
	if sp.Posts != w.posts || sp.Authors != w.authors || sp.Sources != w.sources || sp.Domains != w.domains {
		t.Errorf("posts/authors/sources/domains = %d/%d/%d/%d, want %d/%d/%d/%d",
			sp.Posts, sp.Authors, sp.Sources, sp.Domains, w.posts, w.authors, w.sources, w.domains)
	}
	switch {
	case w.posts == 0 && (sp.FirstSeen != nil || sp.LastSeen != nil):
		t.Errorf("first/last seen = %v/%v, want null with no posts", sp.FirstSeen, sp.LastSeen)
	case w.posts > 0 && (sp.FirstSeen == nil || sp.LastSeen == nil || !sp.FirstSeen.Equal(w.first) || !sp.LastSeen.Equal(w.last)):
		t.Errorf("first/last seen = %v/%v, want %v/%v", sp.FirstSeen, sp.LastSeen, w.first, w.last)
	}
	if len(sp.Timeline) != len(w.timeline) || len(sp.Cumulative) != len(w.timeline) {
		t.Fatalf("%d timeline and %d cumulative buckets, want %d", len(sp.Timeline), len(sp.Cumulative), len(w.timeline))
	}
	var cum int64
	for i, p := range sp.Timeline {
		cum += w.timeline[i]
		at := from.Add(time.Duration(i) * step)
		if p.Posts != w.timeline[i] || !p.Time.Equal(at) || sp.Cumulative[i].Posts != cum || !sp.Cumulative[i].Time.Equal(at) {
			t.Errorf("bucket %d = %v %d (cumulative %v), want %v %d (cumulative %d)", i, p.Time, p.Posts, sp.Cumulative[i], at, w.timeline[i], cum)
		}
	}
	if cum != w.posts {
		t.Errorf("timeline sums to %d, want the %d posts", cum, w.posts)
	}
	for _, l := range []struct {
		name string
		got  []countJSON
	}{{"author", sp.TopAuthors}, {"source", sp.TopSources}, {"domain", sp.TopDomains}, {"language", sp.Languages}, {"platform", sp.Platforms}} {
		if want := top(w.lists[l.name], 10); !slices.Equal(l.got, want) {
			t.Errorf("%s list = %v, want %v", l.name, l.got, want)
		}
	}
	// Samples: the earliest posts in the window (ties in any order).
	k := min(5, int(w.posts))
	if len(sp.SamplePosts) != k {
		t.Fatalf("%d sample posts, want %d", len(sp.SamplePosts), k)
	}
	var times []time.Time
	for _, ts := range w.minTS {
		times = append(times, ts)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var got []time.Time
	ids := map[string]bool{}
	for _, p := range sp.SamplePosts {
		ts, ok := w.minTS[p.ID]
		if !ok || ids[p.ID] {
			t.Errorf("sample post %s is not a distinct post of the window", p.ID)
			continue
		}
		ids[p.ID] = true
		got = append(got, ts)
		// published is the post's earliest time; an edited post's later
		// copy may already have replaced the first in the posts table.
		if !c.edited[p.ID] && !p.Published.Equal(ts) {
			t.Errorf("sample %s published %v, want %v", p.ID, p.Published, ts)
		}
	}
	slices.SortFunc(got, func(a, b time.Time) int { return a.Compare(b) })
	if len(got) == k && !slices.Equal(got, times[:k]) {
		t.Errorf("sample times %v, want the earliest %v", got, times[:k])
	}
	var facts []string
	for _, f := range sp.Facts {
		facts = append(facts, f.ID)
	}
	if !slices.Equal(facts, w.facts) {
		t.Errorf("facts = %v, want %v", facts, w.facts)
	}
}

// checkSpreadCSV compares the CSV export with the expectation and with the
// JSON of the same range.
func checkSpreadCSV(t *testing.T, fx *fixture, path, tok string, sp spreadBody, w spreadWant) {
	t.Helper()
	resp := fx.do(t, "GET", path, tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("spread.csv: %v", err)
	}
	got := map[string][]string{}
	for _, r := range rows[1:] {
		if r[0] != sp.Topic {
			t.Errorf("csv row for topic %q, want %q", r[0], sp.Topic)
		}
		got[r[1]] = append(got[r[1]], r[2]+"="+r[3])
	}
	n := strconv.FormatInt
	want := map[string][]string{"total": {"posts=" + n(w.posts, 10), "authors=" + n(w.authors, 10), "sources=" + n(w.sources, 10), "domains=" + n(w.domains, 10)}}
	for i, v := range w.timeline {
		want["timeline"] = append(want["timeline"], sp.Timeline[i].Time.UTC().Format(time.RFC3339)+"="+n(v, 10))
	}
	for _, sec := range []string{"author", "source", "domain", "language", "platform"} {
		for _, c := range top(w.lists[sec], 10) {
			want[sec] = append(want[sec], csvSafe(c.Key)+"="+n(c.Posts, 10))
		}
	}
	for sec, ws := range want {
		if !slices.Equal(got[sec], ws) {
			t.Errorf("spread.csv %s = %v, want %v", sec, got[sec], ws)
		}
	}
	for sec := range got {
		if want[sec] == nil {
			t.Errorf("spread.csv has unexpected section %s: %v", sec, got[sec])
		}
	}
}

// checkTimelineAPI compares GET /api/v1/topics/{key} and its CSV with the
// timeline computed from the deliveries.
func checkTimelineAPI(t *testing.T, fx *fixture, c *spreadCorpus, topic, path string, from, to time.Time, asked time.Duration, tok string) {
	t.Helper()
	// Buckets are whole minutes: a step of 90s is one minute.
	step := max(time.Minute, asked.Truncate(time.Minute))
	w := c.expectSpread(topic, from, to, step)
	var tl struct {
		Topic    string
		From, To time.Time
		Step     string
		Posts    int64
		Points   []pointJSON
	}
	q := rangeQuery(from, to) + "&step=" + asked.String()
	fx.getJSON(t, path+"?"+q, tok, &tl)
	if tl.Topic != topic || tl.Posts != w.posts || len(tl.Points) != len(w.timeline) {
		t.Fatalf("timeline step %s: topic %q posts %d in %d points, want %q %d in %d", asked, tl.Topic, tl.Posts, len(tl.Points), topic, w.posts, len(w.timeline))
	}
	start := from.Truncate(time.Minute)
	// The answer names the range and step its points actually cover.
	if !tl.From.Equal(start) || !tl.To.Equal(to.Truncate(time.Minute)) || tl.Step != step.String() {
		t.Errorf("timeline step %s echoes %v..%v step %s, want %v..%v step %s", asked, tl.From, tl.To, tl.Step, start, to.Truncate(time.Minute), step)
	}
	for i, p := range tl.Points {
		if at := start.Add(time.Duration(i) * step); p.Posts != w.timeline[i] || !p.Time.Equal(at) {
			t.Errorf("timeline step %s point %d = %v %d, want %v %d", step, i, p.Time, p.Posts, at, w.timeline[i])
		}
	}
	resp := fx.do(t, "GET", path+"/timeline.csv?"+q, tok, nil)
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.StatusCode != http.StatusOK || len(rows) != len(w.timeline)+1 {
		t.Fatalf("timeline.csv step %s: %d, %d rows, %v", step, resp.StatusCode, len(rows), err)
	}
	var cum int64
	for i, r := range rows[1:] {
		cum += w.timeline[i]
		want := []string{topic, start.Add(time.Duration(i) * step).Format(time.RFC3339), fmt.Sprint(w.timeline[i]), fmt.Sprint(cum)}
		if !slices.Equal(r, want) {
			t.Errorf("timeline.csv step %s row %d = %v, want %v", step, i, r, want)
		}
	}
}

// TestFlagsAPI: GET /api/v1/flags lists the detector's stored flags in the
// window, newest first, each once (a re-written flag shows its latest
// score), filtered by kind and topic, to any role that reads trends.
func TestFlagsAPI(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	flag := func(topic, kind string, age time.Duration, score float64, ids ...string) schema.Flag {
		return schema.Flag{V: schema.Version, Time: now.Add(-age), Topic: topic, Kind: kind, Score: score, Count: 12, Authors: 7, PostIDs: ids}
	}
	if err := fx.st.WriteFlags(ctx, []schema.Flag{
		flag("#f1", "emerging", 10*time.Minute, 2.5, "p1", "p2"),
		flag("#f1", "burst", 2*time.Hour, 4),
		flag("#f2", "emerging", 30*time.Hour, 3, "p9"), // outside the default day
	}); err != nil {
		t.Fatal(err)
	}
	// The detector re-emits the first flag after a restart with a new score.
	if err := fx.st.WriteFlags(ctx, []schema.Flag{flag("#f1", "emerging", 10*time.Minute, 3.5, "p1", "p2")}); err != nil {
		t.Fatal(err)
	}
	type flagsBody struct {
		From, To time.Time
		Flags    []flagJSON
	}
	get := func(q string) []string {
		t.Helper()
		var b flagsBody
		fx.getJSON(t, "/api/v1/flags"+q, fx.tokens[RoleAnalyst], &b)
		var out []string
		for _, f := range b.Flags {
			if f.PostIDs == nil {
				t.Errorf("flag %s/%s: post_ids null, want an array", f.Topic, f.Kind)
			}
			out = append(out, fmt.Sprintf("%s %s %s %g %d/%d %v", f.Time.Format(time.RFC3339), f.Topic, f.Kind, f.Score, f.Count, f.Authors, f.PostIDs))
		}
		return out
	}
	at := func(age time.Duration) string { return now.Add(-age).Format(time.RFC3339) }
	a, b, c := at(10*time.Minute)+" #f1 emerging 3.5 12/7 [p1 p2]", at(2*time.Hour)+" #f1 burst 4 12/7 []", at(30*time.Hour)+" #f2 emerging 3 12/7 [p9]"
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"", []string{a, b}},
		{"?window=48h", []string{a, b, c}},
		{"?window=1h", []string{a}},
		{"?window=48h&kind=emerging", []string{a, c}},
		{"?window=48h&topic=%23f2", []string{c}},
		{"?window=48h&limit=2", []string{a, b}},
		{"?" + rangeQuery(now.Add(-3*time.Hour), now.Add(-time.Hour)), []string{b}},
		{"?window=1h&topic=%23none", nil},
	} {
		if got := get(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("flags%s = %q, want %q", tc.q, got, tc.want)
		}
	}
	for _, q := range []string{"?window=nope", "?limit=0", "?limit=5000", "?from=yesterday"} {
		if resp := fx.do(t, "GET", "/api/v1/flags"+q, fx.tokens[RoleAnalyst], nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("flags%s: %d, want 400", q, resp.StatusCode)
		}
	}
}
