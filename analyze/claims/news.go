package claims

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

// NewsItem is a news item: its headline stands for a checked claim and
// rewrites of it and of its summary for the posts restating it.
type NewsItem struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
	Source  string `json:"source"` // the outlet ("VnExpress - Thế Giới")
}

// ReadNewsItems reads JSONL news items (the vi-news format).
func ReadNewsItems(r io.Reader) ([]NewsItem, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 4<<20)
	var out []NewsItem
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it NewsItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, fmt.Errorf("news line %d: %w", line, err)
		}
		out = append(out, it)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read news: %w", err)
	}
	return out, nil
}

// Rewrite styles of NewsRewrites, in rotation.
const (
	RewriteLede             = iota // first sentence of the summary
	RewriteLedeUnaccented          // the same without diacritics
	RewriteHeadlineFolded          // headline, lower-case, no diacritics, first word dropped, social frame
	RewriteHeadlineAccented        // headline, last word dropped, social frame
	NumRewrites
)

// socialFrames wrap a restated headline as posts do.
var socialFrames = [][2]string{{"nghe noi ", ", that khong?"}, {"Tin nóng: ", " #chiase"}, {"mn oi ", " !!"}}

// NewsRewrites turns news items into a Vietnamese matching task that
// stands in for the real one — a post, often without diacritics,
// restating a checked claim: facts are the unique headlines of factItems
// (language lang), posts one rewrite per item of postItems (styles in
// rotation, see the Rewrite constants), relevant the item's own headline.
// style[qid] gives each post's rewrite style. Post items whose headline
// is not among the facts are skipped.
func NewsRewrites(factItems, postItems []NewsItem, lang string) (facts []schema.Fact, queries []Query, qrels Qrels, style map[string]int) {
	seen := map[string]string{} // normalised headline → fact id
	for _, it := range factItems {
		if it.Title == "" || it.ID == "" {
			continue
		}
		key := text.Normalize(it.Title)
		if _, dup := seen[key]; !dup {
			seen[key] = it.ID
			facts = append(facts, schema.Fact{ID: it.ID, Claim: it.Title, Lang: lang})
		}
	}
	qrels, style = Qrels{}, map[string]int{}
	for _, it := range postItems {
		id, ok := seen[text.Normalize(it.Title)]
		if !ok || strings.TrimSpace(it.Summary) == "" || len(strings.Fields(it.Title)) == 0 {
			continue
		}
		n := len(queries)
		st := n % NumRewrites
		fr := socialFrames[n/NumRewrites%len(socialFrames)]
		var s string
		switch st {
		case RewriteLede, RewriteLedeUnaccented:
			s = lede(it.Summary)
			if st == RewriteLedeUnaccented {
				s = text.FoldDiacritics(s)
			}
		case RewriteHeadlineFolded:
			w := strings.Fields(strings.ToLower(text.FoldDiacritics(it.Title)))
			s = text.FoldDiacritics(fr[0]) + strings.Join(w[min(1, len(w)-1):], " ") + fr[1]
		case RewriteHeadlineAccented:
			w := strings.Fields(it.Title)
			s = fr[0] + strings.Join(w[:max(1, len(w)-1)], " ") + fr[1]
		}
		qid := fmt.Sprintf("%s-%d", it.ID, n)
		queries = append(queries, Query{ID: qid, Text: s})
		qrels[qid] = map[string]bool{id: true}
		style[qid] = st
	}
	return facts, queries, qrels, style
}

// lede returns the first sentence of a news summary (at least eight
// words, so an initial abbreviation does not cut it short).
func lede(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if (s[i] == '.' || s[i] == '?' || s[i] == '!') && i+1 < len(s) && s[i+1] == ' ' &&
			len(strings.Fields(s[:i])) >= 8 {
			return s[:i+1]
		}
	}
	return s
}

// OutletSet is one outlet's summary → headline task (see NewsOutletSets).
type OutletSet struct {
	Outlet  string
	Facts   []schema.Fact
	Queries []Query
	Qrels   Qrels
}

// Outlet names the outlet of a vi-news source: its name before " - ",
// folded, lower-case and without spaces ("VnExpress - Thế Giới" → "vnexpress",
// "Tuổi Trẻ" → "tuoitre").
func Outlet(source string) string {
	head, _, _ := strings.Cut(source, " - ")
	return strings.ReplaceAll(strings.ToLower(text.FoldDiacritics(strings.TrimSpace(head))), " ", "")
}

// NewsOutletSets builds the summary → headline task of the shared
// vi-news/outlet-bench, one set per outlet: facts are the outlet's unique
// headlines of factItems, posts the outlet's summaries of postItems
// (each summary and headline once), every second one with its diacritics
// stripped and ASCII double quotes written as “, relevant the summary's
// own headline. A summary restates a report in other words, as a post
// does, so this is real paraphrase, not a rewrite the matcher's own code
// made. Pools are per outlet because outlets headline the same story on
// the same day. Sets come in outlet order.
func NewsOutletSets(factItems, postItems []NewsItem) []OutletSet {
	byOutlet := map[string]*OutletSet{}
	var order []string
	get := func(src string) *OutletSet {
		o := Outlet(src)
		s := byOutlet[o]
		if s == nil {
			s = &OutletSet{Outlet: o, Qrels: Qrels{}}
			byOutlet[o] = s
			order = append(order, o)
		}
		return s
	}
	ids := map[string]string{} // outlet + normalised headline → fact id
	for _, it := range factItems {
		if strings.TrimSpace(it.Title) == "" || it.ID == "" {
			continue
		}
		s := get(it.Source)
		key := s.Outlet + "\x00" + text.Normalize(it.Title)
		if _, dup := ids[key]; !dup {
			ids[key] = it.ID
			s.Facts = append(s.Facts, schema.Fact{ID: it.ID, Claim: strings.TrimSpace(it.Title), Lang: text.LangVI})
		}
	}
	seenSum := map[string]bool{}
	usedFact := map[string]bool{}
	for _, it := range postItems {
		s := get(it.Source)
		id, ok := ids[s.Outlet+"\x00"+text.Normalize(it.Title)]
		sum := strings.TrimSpace(it.Summary)
		ks := s.Outlet + "\x00" + text.Normalize(sum)
		if !ok || sum == "" || seenSum[ks] || usedFact[id] || text.Normalize(sum) == text.Normalize(it.Title) {
			continue
		}
		seenSum[ks], usedFact[id] = true, true
		sum = strings.ReplaceAll(sum, `"`, "“")
		if len(s.Queries)%2 == 1 {
			sum = text.FoldDiacritics(sum)
		}
		qid := fmt.Sprintf("%s%d", s.Outlet, len(s.Queries))
		s.Queries = append(s.Queries, Query{ID: qid, Text: sum})
		s.Qrels[qid] = map[string]bool{id: true}
	}
	slices.Sort(order)
	out := make([]OutletSet, 0, len(order))
	for _, o := range order {
		if s := byOutlet[o]; len(s.Queries) > 0 {
			out = append(out, *s)
		}
	}
	return out
}

// NewsOutletTrainSets builds outlet-bench-style training sets from
// consecutive days of vi-news (days[i] is one day's items, in date
// order), one set per day and outlet: day i's summaries against the
// outlet's headlines of day i and the next (the last day: of the day
// before and itself), as the dev set pairs 2026-08-20's summaries with the
// headlines of the 20th and 21st. Real paraphrase, so the re-ranker learns
// what a restatement in other words looks like, not only rewrites made by
// this code. A fact has one post, so posts are no fact's known appearance
// (Synthetic).
func NewsOutletTrainSets(days [][]NewsItem) []TrainSet {
	var out []TrainSet
	for i, day := range days {
		lo := i
		if i == len(days)-1 && i > 0 {
			lo = i - 1
		}
		var facts []NewsItem
		for j := lo; j <= min(lo+1, len(days)-1); j++ {
			facts = append(facts, days[j]...)
		}
		for _, s := range NewsOutletSets(facts, day) {
			out = append(out, TrainSet{Name: fmt.Sprintf("news-outlet-%d-%s", i, s.Outlet), Facts: s.Facts,
				Queries: s.Queries, Qrels: s.Qrels, Synthetic: true})
		}
	}
	return out
}
