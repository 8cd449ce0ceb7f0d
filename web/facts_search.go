package web

import (
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// Facts search (GET /api/v1/facts?q= and the Facts page) forgives: case
// and diacritics are folded (analyze/text's AppendLowerFold, so "nuoc
// chanh" finds "Nước chanh" and đ finds d), and a query of several words
// finds the facts that contain every word, in any order or place, each
// as a word or the start of one (the rule of searchMatch). The matches are ranked by the claims matcher's
// own scoring of the query against each fact's claim and title — the
// BM25F first stage and the re-ranker the analyzers use — then by recency.
//
// How: the store lists every live fact's text (one aggregation, as a page
// of the facts list already costs), Go folds and filters it, and a small
// claims.Index is built over the matches for the request. SQL on 18.16
// cannot fold diacritics, and a folded column would need a backfill of
// every stored fact; the analyzers' index is in other processes. Indexing
// a fact's claim and title costs about 0.1-0.3 ms, so only maxRanked
// matches are ranked by the matcher: those with most query words in their
// claim or title, newest first (a query with more matches than that is
// browsing; its tail keeps that order). With 14k CheckThat! facts a search
// costs 0.1-0.5 s on a loaded two-core machine, about what a plain page of
// the list costs there.

// maxRanked caps the matches ranked by the matcher per search.
const maxRanked = 300

// searchWords folds q into the words a fact must all contain: case and
// diacritics folded, split at anything that is not a letter or digit.
func searchWords(q string) []string {
	return strings.FieldsFunc(string(text.AppendLowerFold(nil, q)), func(r rune) bool { return !isWordRune(r) })
}

// searchMatch reports whether a fact's folded text has, for every query
// word, a word that begins with it: "palin" finds "Palin's", "vaccin"
// finds "vaccines", but "hai" does not find "thái" (a Vietnamese syllable
// inside another would make most short queries match everything).
func searchMatch(folded string, words []string) bool {
	for _, w := range words {
		if !hasWordPrefix(folded, w) {
			return false
		}
	}
	return len(words) > 0
}

// hasWordPrefix reports whether w occurs in s at the start of a word.
func hasWordPrefix(s, w string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); i == 0 || !isWordRune(r) {
			return true
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		off = i + n
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

// foldFact appends the folded text of every searched field of f to buf;
// head is where the claim and title end (the fields the matcher ranks on).
func foldFact(buf []byte, f *clickhouse.FactText) (folded []byte, head int) {
	buf = text.AppendLowerFold(buf, f.Claim)
	buf = append(buf, '\n')
	buf = text.AppendLowerFold(buf, f.Title)
	head = len(buf)
	buf = append(buf, '\n')
	buf = text.AppendLowerFold(buf, f.Summary)
	for _, s := range f.Tags {
		buf = text.AppendLowerFold(append(buf, '\n'), s)
	}
	for _, s := range f.Translations {
		buf = text.AppendLowerFold(append(buf, '\n'), s)
	}
	return buf, head
}

// filterFacts returns the facts containing every word of q: first those
// with more of the words in their claim or title, then by the store's
// order (newest first).
func filterFacts(q string, fs []clickhouse.FactText) []clickhouse.FactText {
	words := searchWords(q)
	if len(words) == 0 {
		return nil
	}
	var (
		out  []clickhouse.FactText
		head []int
		buf  []byte
	)
	for i := range fs {
		var h int
		buf, h = foldFact(buf[:0], &fs[i])
		if searchMatch(string(buf), words) {
			n := 0
			for _, w := range words {
				if hasWordPrefix(string(buf[:h]), w) {
					n++
				}
			}
			out = append(out, fs[i])
			head = append(head, n)
		}
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return head[b] - head[a] })
	sorted := make([]clickhouse.FactText, len(out))
	for i, j := range order {
		sorted[i] = out[j]
	}
	return sorted
}

// rankFacts returns the ids of cands (in filterFacts' order) ranked by the
// claims matcher's score for q; the first maxRanked are scored, the rest
// and those the matcher does not retrieve follow in their given order.
func rankFacts(q string, cands []clickhouse.FactText) []string {
	n := min(len(cands), maxRanked)
	// No known appearances: search is about the facts' own text, and
	// each would cost an analysis.
	ix := claims.NewIndex(claims.Options{Known: &claims.Known{}, Candidates: n})
	for _, c := range cands[:n] {
		ix.Upsert(schema.Fact{ID: c.ID, Claim: c.Claim, Title: c.Title, Lang: c.Lang})
	}
	ids := make([]string, 0, len(cands))
	seen := make(map[string]bool, n)
	for _, r := range ix.Match(q, "", n) {
		ids = append(ids, r.FactID)
		seen[r.FactID] = true
	}
	for _, c := range cands {
		if !seen[c.ID] {
			ids = append(ids, c.ID)
		}
	}
	// A search is a few words, not the posts the matcher was fitted on:
	// facts whose claim or title holds more of the words come first, and
	// the matcher orders those that hold as many ("Palin endorsement":
	// the claim naming both, before a shorter one naming one).
	words := searchWords(q)
	cover := make(map[string]int, len(cands))
	var buf []byte
	for i := range cands {
		var h int
		buf, h = foldFact(buf[:0], &cands[i])
		for _, w := range words {
			if hasWordPrefix(string(buf[:h]), w) {
				cover[cands[i].ID]++
			}
		}
	}
	slices.SortStableFunc(ids, func(a, b string) int { return cover[b] - cover[a] })
	return ids
}

// searchFacts answers a facts query: with words in q.Q, the matching facts
// ranked as above, a page of q.Limit from q.Offset; without, the store's
// list by recency.
func (s *Server) searchFacts(ctx context.Context, q clickhouse.FactQuery) ([]schema.Fact, error) {
	if len(searchWords(q.Q)) == 0 {
		q.Q = ""
		return s.opts.Store.Facts(ctx, q)
	}
	all, err := s.opts.Store.FactTexts(ctx, q.Verdict, q.Lang)
	if err != nil {
		return nil, err
	}
	ids := rankFacts(q.Q, filterFacts(q.Q, all))
	if q.Limit <= 0 {
		q.Limit = 50
	}
	lo := min(max(q.Offset, 0), len(ids))
	hi := min(lo+q.Limit, len(ids))
	return s.opts.Store.FactsByID(ctx, ids[lo:hi])
}
