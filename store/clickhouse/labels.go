package clickhouse

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

// Topic kinds, as the API and pages name them.
const (
	KindStory   = "story"
	KindFact    = "fact"
	KindPhrase  = "phrase"
	KindEntity  = "entity"
	KindHashtag = "hashtag"
	KindURL     = "url"
)

// KindOf names the kind of a topic key from its prefix.
func KindOf(topic string) string {
	switch {
	case strings.HasPrefix(topic, schema.TopicStory):
		return KindStory
	case strings.HasPrefix(topic, schema.TopicFact):
		return KindFact
	case strings.HasPrefix(topic, schema.TopicEntity):
		return KindEntity
	case strings.HasPrefix(topic, schema.TopicHashtag):
		return KindHashtag
	case strings.HasPrefix(topic, schema.TopicURL):
		return KindURL
	}
	return KindPhrase
}

// Label is how a topic is shown: its display text and kind, and for a
// fact its verdict. Text is "" only when nothing readable is known (a
// story or fact whose posts carried no label and no fact in the mirror).
type Label struct {
	Text    string
	Kind    string
	Verdict string // facts only
}

// TopicLabels returns the label of each topic (see chooseLabel): the
// spellings the analyzer stored (migration 011) and, for facts, the facts
// mirror's claim and verdict.
func (s *Store) TopicLabels(ctx context.Context, topics []string) (map[string]Label, error) {
	out := make(map[string]Label, len(topics))
	if len(topics) == 0 {
		return out, nil
	}
	keys := make([]any, 0, len(topics))
	var facts []any
	for _, t := range topics {
		keys = append(keys, t)
		if id, ok := strings.CutPrefix(t, schema.TopicFact); ok {
			facts = append(facts, id)
		}
	}
	cands := map[string][]labelCount{}
	var claims map[string][2]string
	err := runAll([]func() error{
		func() error {
			rows, err := s.conn.Query(ctx, qTopicLabels, ch.GroupSet{Value: keys})
			if err != nil {
				return fmt.Errorf("cannot query topic labels: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var t string
				var c labelCount
				if err := rows.Scan(&t, &c.label, &c.n); err != nil {
					return fmt.Errorf("cannot read topic labels: %w", err)
				}
				cands[t] = append(cands[t], c)
			}
			return rows.Err()
		},
		func() error {
			if len(facts) == 0 {
				return nil
			}
			rows, err := s.conn.Query(ctx, qFactLabels, ch.GroupSet{Value: facts})
			if err != nil {
				return fmt.Errorf("cannot query fact labels: %w", err)
			}
			defer rows.Close()
			claims = map[string][2]string{}
			for rows.Next() {
				var id, claim, title, verdict string
				if err := rows.Scan(&id, &claim, &title, &verdict); err != nil {
					return fmt.Errorf("cannot read fact labels: %w", err)
				}
				claims[id] = [2]string{firstNonEmpty(claim, title), verdict}
			}
			return rows.Err()
		},
	})
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		l := chooseLabel(t, cands[t])
		if id, ok := strings.CutPrefix(t, schema.TopicFact); ok {
			if c, ok := claims[id]; ok {
				l.Text, l.Verdict = c[0], c[1]
			}
		}
		out[t] = l
	}
	return out, nil
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

type labelCount struct {
	label string
	n     uint64
}

// chooseLabel picks a topic's label from its stored spellings (any
// order):
//   - a phrase, entity or hashtag: the most frequent spelling with
//     diacritics, else the most frequent (its identity is the folded key,
//     so every spelling is a twin of the others, and an unaccented one is
//     only a lost accent: "bão Yagi" over "bao Yagi" even when the latter
//     is more frequent); without spellings, the key itself;
//   - a story: its most central headline, the one sharing the most words
//     (folded) with the story's other distinct headlines, ties by
//     frequency: the wording most outlets agree on, not one outlet's
//     angle (counts only break ties, so a re-delivered post changes
//     nothing);
//   - a URL: the most frequent page title, else the domain;
//   - a fact: "" here; TopicLabels fills in the claim.
func chooseLabel(topic string, cands []labelCount) Label {
	kind := KindOf(topic)
	l := Label{Kind: kind}
	switch kind {
	case KindStory:
		l.Text = centralHeadline(cands)
	case KindFact:
	case KindURL:
		l.Text = mostFrequent(cands, false)
		if l.Text == "" {
			host, _, _ := strings.Cut(strings.TrimPrefix(topic, schema.TopicURL), "/")
			l.Text = host
		}
	default:
		l.Text = mostFrequent(cands, true)
		if l.Text == "" {
			l.Text = strings.TrimPrefix(strings.TrimPrefix(topic, schema.TopicKeyword), schema.TopicEntity)
		}
		if kind == KindHashtag && !strings.HasPrefix(l.Text, "#") {
			l.Text = "#" + l.Text
		}
	}
	return l
}

// mostFrequent is the most frequent label, preferring spellings with
// diacritics when accented is set; ties by the label, so the choice is
// deterministic.
func mostFrequent(cands []labelCount, accented bool) string {
	best, bestAcc, bestN := "", false, uint64(0)
	for _, c := range cands {
		acc := accented && hasDiacritics(c.label)
		switch {
		case best == "",
			acc && !bestAcc,
			acc == bestAcc && (c.n > bestN || c.n == bestN && c.label < best):
			best, bestAcc, bestN = c.label, acc, c.n
		}
	}
	return best
}

func hasDiacritics(s string) bool { return text.FoldDiacritics(s) != s }

// centralHeadline is the headline sharing the most words with the
// others (see chooseLabel).
func centralHeadline(cands []labelCount) string {
	if len(cands) == 0 {
		return ""
	}
	words := make([]map[string]bool, len(cands))
	for i, c := range cands {
		words[i] = map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(text.FoldDiacritics(c.label)), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			words[i][w] = true
		}
	}
	type scored struct {
		i      int
		shared uint64
	}
	sc := make([]scored, len(cands))
	for i := range cands {
		sc[i].i = i
		for j := range cands {
			if i == j {
				continue
			}
			k := uint64(0)
			for w := range words[i] {
				if words[j][w] {
					k++
				}
			}
			sc[i].shared += k
		}
	}
	sort.Slice(sc, func(a, b int) bool {
		x, y := sc[a], sc[b]
		if x.shared != y.shared {
			return x.shared > y.shared
		}
		if cands[x.i].n != cands[y.i].n {
			return cands[x.i].n > cands[y.i].n
		}
		return cands[x.i].label < cands[y.i].label
	})
	return cands[sc[0].i].label
}
