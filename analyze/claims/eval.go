package claims

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/trendwatch/trendwatch/internal/delimited"
)

// Query is one post to match, as read from a queries file.
type Query struct {
	ID   string
	Text string
}

// Qrels maps a query id to its relevant fact ids.
type Qrels map[string]map[string]bool

// ReadQueries reads TSV records "id<TAB>text". A header line (first field
// empty or named id/qid/tweet_id) is skipped; fields may be quoted
// CSV-style ("a ""b"" c", possibly spanning lines). Columns after the text
// are ignored.
func ReadQueries(r io.Reader) ([]Query, error) {
	// RFC 4180 quoting, as every reader of the project: a tweet that opens
	// with a quote is literal text, not the start of a field that would
	// swallow the lines after it.
	dr := delimited.NewReader(r, '\t')
	var out []Query
	for first := true; ; first = false {
		rec, line, _, err := dr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read queries: %w", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("queries line %d: want id<TAB>text, got no tab", line)
		}
		id := strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))
		if first && isHeaderID(id) {
			continue
		}
		if id == "" {
			return nil, fmt.Errorf("queries line %d: empty query id", line)
		}
		out = append(out, Query{ID: id, Text: strings.TrimSpace(rec[1])})
	}
}

func isHeaderID(id string) bool {
	switch strings.ToLower(id) {
	case "", "id", "qid", "query_id", "tweet_id", "iclaim_id":
		return true
	}
	return false
}

// ReadQrels reads TREC qrels "qid 0 docid rel" (tabs or spaces); rel > 0
// marks a relevant fact.
func ReadQrels(r io.Reader) (Qrels, error) {
	sc := bufio.NewScanner(r)
	q := Qrels{}
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("qrels line %d: want 4 fields, got %d", line, len(f))
		}
		rel, err := strconv.Atoi(f[3])
		if err != nil {
			return nil, fmt.Errorf("qrels line %d: bad relevance %q: %w", line, f[3], err)
		}
		if q[f[0]] == nil {
			q[f[0]] = map[string]bool{}
		}
		if rel > 0 {
			q[f[0]][f[2]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read qrels: %w", err)
	}
	return q, nil
}

// Metrics are ranking measures averaged over the queries of the qrels.
type Metrics struct {
	MAP1, MAP3, MAP5, MAP10, MRR float64
	Queries                      int
}

// Evaluate scores run (query id → fact ids, best first) against qrels with
// the trec_eval definition in ../shared/data/README.md: AP@k is the sum of
// precision@i over relevant hits at ranks i ≤ k divided by the number of
// relevant facts; a query absent from the run, or without a hit, scores 0.
// MRR is the mean reciprocal rank of the first relevant fact in the run.
func Evaluate(run map[string][]string, qrels Qrels) Metrics {
	var m Metrics
	for qid, rel := range qrels {
		if len(rel) == 0 {
			continue
		}
		m.Queries++
		ranked := run[qid]
		m.MAP1 += apAt(ranked, rel, 1)
		m.MAP3 += apAt(ranked, rel, 3)
		m.MAP5 += apAt(ranked, rel, 5)
		m.MAP10 += apAt(ranked, rel, 10)
		for i, id := range ranked {
			if rel[id] {
				m.MRR += 1 / float64(i+1)
				break
			}
		}
	}
	if m.Queries > 0 {
		n := float64(m.Queries)
		m.MAP1, m.MAP3, m.MAP5, m.MAP10, m.MRR = m.MAP1/n, m.MAP3/n, m.MAP5/n, m.MAP10/n, m.MRR/n
	}
	return m
}

func apAt(ranked []string, rel map[string]bool, k int) float64 {
	hits, sum := 0, 0.0
	for i, id := range ranked {
		if i >= k {
			break
		}
		if rel[id] {
			hits++
			sum += float64(hits) / float64(i+1)
		}
	}
	return sum / float64(len(rel))
}
