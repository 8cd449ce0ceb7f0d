// Package enrich turns a post into what the analyzer stores and acts on:
// its language, its topic keys with this post's label of each (with
// Options.KeysLabels: Analyzed.Labels, aligned with Topics) and the facts
// it matches. It glues the pure
// libraries (analyze/text, analyze/claims, analyze/trends) together and
// owns the live facts index that the facts topic keeps current.
package enrich

import (
	"maps"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

// Options configure an Enricher.
type Options struct {
	Index *claims.Index
	// Verdicts that alert (default false, misleading).
	Verdicts []string
	// StoreMin is the confidence from which a match is stored for
	// analytics, below the alert threshold so that near misses can be
	// reviewed (default 0.3).
	StoreMin float64
	// TopK is how many facts are considered per post (default 3).
	TopK int
	// Keys derives topic keys; nil uses DefaultKeys.
	Keys func(p schema.Post, doc text.Doc, factIDs []string) []string
	// KeysLabels, when set, derives topic keys and their labels (this
	// post's display form of each, "" for none) in place of Keys, and
	// Enrich fills Analyzed.Labels with them (trends.KeysLabels).
	KeysLabels func(p schema.Post, doc text.Doc, factIDs []string) (keys, labels []string)
}

// DefaultStoreMin is the confidence from which a match is stored.
const DefaultStoreMin = 0.3

// Enricher implements the analyzer's enrichment; safe for concurrent use.
type Enricher struct {
	opts     Options
	verdicts map[string]bool
	// rules, once an admin setting arrived, replaces the index's
	// thresholds and opts.Verdicts. One atomic load per post: a change is
	// swapped in whole, never seen half applied, and the per-post path
	// takes no lock.
	rules atomic.Pointer[rules]
}

// rules decide which matches alert.
type rules struct {
	thresholds map[string]float64
	def        float64
	verdicts   map[string]bool
}

func (r *rules) threshold(lang string) float64 {
	if lang == "" {
		lang = "und"
	}
	if t, ok := r.thresholds[lang]; ok {
		return t
	}
	return r.def
}

// SetAlerting replaces the per-language thresholds (def for a language
// without one) and the verdicts that alert, for every post Alerting sees
// after it returns. Safe for use while posts are enriched.
func (e *Enricher) SetAlerting(thresholds map[string]float64, def float64, verdicts []string) {
	r := &rules{thresholds: maps.Clone(thresholds), def: def, verdicts: map[string]bool{}}
	for _, v := range verdicts {
		r.verdicts[strings.ToLower(strings.TrimSpace(v))] = true
	}
	e.rules.Store(r)
}

// New returns an Enricher over opts.Index.
func New(opts Options) *Enricher {
	if opts.Index == nil {
		opts.Index = claims.NewIndex(claims.Options{})
	}
	if len(opts.Verdicts) == 0 {
		opts.Verdicts = []string{schema.VerdictFalse, schema.VerdictMisleading}
	}
	if opts.StoreMin <= 0 {
		opts.StoreMin = DefaultStoreMin
	}
	if opts.TopK <= 0 {
		opts.TopK = 3
	}
	if opts.Keys == nil {
		opts.Keys = DefaultKeys
	}
	e := &Enricher{opts: opts, verdicts: map[string]bool{}}
	for _, v := range opts.Verdicts {
		e.verdicts[strings.ToLower(strings.TrimSpace(v))] = true
	}
	return e
}

// Index returns the live facts index.
func (e *Enricher) Index() *claims.Index { return e.opts.Index }

// Enrich implements worker.Enricher.
func (e *Enricher) Enrich(p schema.Post) schema.Analyzed {
	body := p.Text
	if p.Title != "" && !strings.HasPrefix(p.Text, p.Title) {
		body = p.Title + "\n" + p.Text
	}
	hint := p.Lang
	if hint == "" && len(body) > langSample {
		// Language identification costs time in proportion to the text; a
		// few hundred bytes decide it as well as a whole article does.
		hint = text.DetectLang(prefix(body, langSample))
	}
	doc := text.Analyze(body, hint)
	p.Lang = doc.Lang
	a := schema.Analyzed{Post: p}
	var factIDs []string
	if e.opts.Index.Len() > 0 {
		for _, r := range e.opts.Index.MatchDoc(doc, e.opts.TopK) {
			if r.Score < e.opts.StoreMin {
				continue
			}
			a.Matches = append(a.Matches, schema.Match{FactID: r.FactID, Score: r.Score, Verdict: r.Verdict})
			factIDs = append(factIDs, r.FactID)
		}
	}
	if e.opts.KeysLabels != nil {
		a.Topics, a.Labels = e.opts.KeysLabels(p, doc, factIDs)
		if len(a.Labels) != len(a.Topics) { // never stored misaligned
			a.Labels = nil
		}
		return a
	}
	a.Topics = e.opts.Keys(p, doc, factIDs)
	return a
}

// langSample is how much of a long text language identification reads.
const langSample = 600

// prefix returns at most n bytes of s, cut at a rune boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Alerting implements worker.Enricher: the matches whose verdict alerts and
// whose confidence reaches the post language's threshold.
func (e *Enricher) Alerting(a *schema.Analyzed) []schema.Match {
	var out []schema.Match
	if len(a.Matches) == 0 {
		return nil
	}
	verdicts := e.verdicts
	var th float64
	if r := e.rules.Load(); r != nil {
		th, verdicts = r.threshold(a.Lang), r.verdicts
	} else {
		th = e.opts.Index.Threshold(a.Lang)
	}
	for _, m := range a.Matches {
		if m.Score >= th && verdicts[m.Verdict] {
			out = append(out, m)
		}
	}
	return out
}

// Fact implements worker.Enricher.
func (e *Enricher) Fact(id string) (schema.Fact, bool) { return e.opts.Index.Get(id) }

// DefaultKeys is the minimal topic-key set: hashtags, matched facts and the
// first few key words.
func DefaultKeys(p schema.Post, doc text.Doc, factIDs []string) []string {
	var keys []string
	seen := map[string]bool{}
	add := func(k string) {
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, h := range doc.Hashtags {
		add(schema.TopicHashtag + strings.ToLower(strings.TrimPrefix(h, "#")))
	}
	for _, id := range factIDs {
		add(schema.TopicFact + id)
	}
	for i, w := range doc.Keywords {
		if i >= 5 {
			break
		}
		add(schema.TopicKeyword + w)
	}
	return keys
}
