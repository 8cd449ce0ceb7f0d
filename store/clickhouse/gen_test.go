package clickhouse

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// genPosts makes n deterministic analyzed posts spread over span after
// start: skewed topics, repeat authors (some anonymous), several sources,
// domains, platforms and languages, and some fact matches.
func genPosts(seed uint64, n int, start time.Time, span time.Duration) []schema.Analyzed {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	platforms := []string{"rss", "web", "mastodon", "bluesky", "telegram"}
	langs := []string{"vi", "fr", "en", ""}
	domains := []string{"vnexpress.net", "www.lemonde.fr", "tuoitre.vn", "example.org", "news.example.com"}
	out := make([]schema.Analyzed, n)
	for i := range out {
		pub := start.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Second)
		author := ""
		if r.IntN(10) > 0 {
			// Zipf-like: a few amplifiers post a lot.
			author = fmt.Sprintf("user%d", int(r.ExpFloat64()*8))
		}
		dom := domains[r.IntN(len(domains))]
		u := ""
		if r.IntN(5) > 0 {
			u = fmt.Sprintf("https://%s/a/%d", dom, i)
		}
		p := schema.Post{
			V:         schema.Version,
			ID:        fmt.Sprintf("p%06d-%d", i, seed),
			Source:    fmt.Sprintf("src%d", r.IntN(7)),
			Platform:  platforms[r.IntN(len(platforms))],
			URL:       u,
			Author:    author,
			Lang:      langs[r.IntN(len(langs))],
			Title:     fmt.Sprintf("title %d", i),
			Text:      fmt.Sprintf("text of post %d ✓ tiếng Việt", i),
			Published: pub,
			Fetched:   pub.Add(time.Minute),
		}
		var topics []string
		for k := 0; k < 1+r.IntN(3); k++ {
			topics = append(topics, fmt.Sprintf("#t%d", int(r.ExpFloat64()*4)))
		}
		var matches []schema.Match
		if r.IntN(4) == 0 {
			matches = append(matches, schema.Match{FactID: fmt.Sprintf("f%d", r.IntN(5)), Score: r.Float64(), Verdict: schema.VerdictFalse})
		}
		out[i] = schema.Analyzed{Post: p, Topics: topics, Matches: matches}
	}
	return out
}

// expected is what Spread must report, computed independently in Go.
type expected struct {
	posts, authors, sources, domains int64
	first, last                      time.Time
	byAuthor, byLang, byPlatform     map[string]int64
	timeline                         []int64
	facts                            map[string]bool
}

func expect(items []schema.Analyzed, topic string, from, to time.Time, step time.Duration) expected {
	e := expected{byAuthor: map[string]int64{}, byLang: map[string]int64{}, byPlatform: map[string]int64{}, facts: map[string]bool{}}
	e.timeline = make([]int64, int((to.Sub(from)+step-1)/step))
	seen := map[string]bool{}
	authors, sources, domains := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, a := range items {
		has := false
		for _, t := range a.Topics {
			has = has || t == topic
		}
		m := a.Published.UTC().Truncate(time.Minute)
		if !has || m.Before(from) || !m.Before(to) || seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		e.posts++
		if a.Author != "" {
			authors[a.Author] = true
			e.byAuthor[a.Author]++
		}
		if a.Source != "" {
			sources[a.Source] = true
		}
		if d := Domain(&a.Post); d != "" {
			domains[d] = true
		}
		e.byLang[a.Lang]++
		e.byPlatform[a.Platform]++
		if e.first.IsZero() || a.Published.Before(e.first) {
			e.first = a.Published
		}
		if a.Published.After(e.last) {
			e.last = a.Published
		}
		e.timeline[int(m.Sub(from)/step)]++
		for _, mt := range a.Matches {
			e.facts[mt.FactID] = true
		}
	}
	e.authors, e.sources, e.domains = int64(len(authors)), int64(len(sources)), int64(len(domains))
	return e
}
