package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/facts"
	"github.com/trendwatch/trendwatch/internal/delimited"
	"github.com/trendwatch/trendwatch/schema"
)

func init() {
	register("match", "rank known fact-checks for each query post (TREC run output)", runMatch)
	evalCommands["match"] = runEvalMatch
}

// matchInputs are the flags shared by match and eval match.
type matchInputs struct {
	facts, queries, format, model string
	top                           int
}

func (m *matchInputs) bind(fs *flag.FlagSet) {
	fs.StringVar(&m.facts, "facts", "", "facts file in any importable format (detected)")
	fs.StringVar(&m.format, "facts-format", "", "facts format; empty detects it")
	fs.StringVar(&m.queries, "queries", "", "queries as TSV id<TAB>text (a header line is skipped)")
	fs.StringVar(&m.model, "model", "", "re-ranker model file (default: the embedded, trained model)")
	fs.IntVar(&m.top, "top", 10, "results per query")
}

func (m *matchInputs) load(stderr io.Writer) (*claims.Index, []claims.Query, error) {
	if m.facts == "" || m.queries == "" {
		return nil, nil, usagef("--facts and --queries are required")
	}
	if m.top <= 0 {
		return nil, nil, usagef("--top must be positive, got %d", m.top)
	}
	var opts claims.Options
	if m.model != "" {
		mod, err := claims.LoadModel(m.model)
		if err != nil {
			return nil, nil, err
		}
		opts.Model = mod
	}
	facts, err := readFactsFile(m.facts, m.format, stderr)
	if err != nil {
		return nil, nil, err
	}
	if len(facts) == 0 {
		return nil, nil, fmt.Errorf("no facts in %s", m.facts)
	}
	qs, err := loadQueries(m.queries, stderr)
	if err != nil {
		return nil, nil, err
	}
	ix := claims.NewIndex(opts)
	for _, fc := range facts {
		ix.Upsert(fc)
	}
	return ix, qs, nil
}

// runAll matches every query, in input order.
func runAll(ctx context.Context, ix *claims.Index, qs []claims.Query, top int, each func(q claims.Query, rs []claims.Result) error) error {
	for _, q := range qs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := each(q, ix.Match(q.Text, "", top)); err != nil {
			return err
		}
	}
	return nil
}

func runMatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("match", stderr)
	var in matchInputs
	in.bind(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ix, qs, err := in.load(stderr)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	err = runAll(ctx, ix, qs, in.top, func(q claims.Query, rs []claims.Result) error {
		for i, r := range rs {
			if _, err := fmt.Fprintf(w, "%s Q0 %s %d %.6f trendwatch\n", q.ID, r.FactID, i+1, r.Score); err != nil {
				return fmt.Errorf("cannot write run: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cannot write run: %w", err)
	}
	return nil
}

func runEvalMatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval match", stderr)
	var in matchInputs
	in.bind(fs)
	qrelsPath := fs.String("qrels", "", "TREC qrels: qid 0 fact_id rel")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *qrelsPath == "" {
		return usagef("--qrels is required")
	}
	qrels, err := loadQrels(*qrelsPath, stderr)
	if err != nil {
		return err
	}
	ix, qs, err := in.load(stderr)
	if err != nil {
		return err
	}
	run := map[string][]string{}
	start := time.Now()
	err = runAll(ctx, ix, qs, max(in.top, 10), func(q claims.Query, rs []claims.Result) error {
		for _, r := range rs {
			run[q.ID] = append(run[q.ID], r.FactID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	el := time.Since(start)
	m := claims.Evaluate(run, qrels)
	fmt.Fprintf(stdout, "queries\t%d\nfacts\t%d\nMAP@1\t%.4f\nMAP@3\t%.4f\nMAP@5\t%.4f\nMAP@10\t%.4f\nMRR\t%.4f\n",
		m.Queries, ix.Len(), m.MAP1, m.MAP3, m.MAP5, m.MAP10, m.MRR)
	if len(qs) > 0 {
		fmt.Fprintf(stderr, "matched %d queries in %v (%v per query)\n", len(qs), el.Round(time.Millisecond), (el / time.Duration(len(qs))).Round(time.Microsecond))
	}
	return nil
}

// loadFacts is readFactsFile warning on the process's stderr.
func loadFacts(path, format string) ([]schema.Fact, error) {
	return readFactsFile(path, format, os.Stderr)
}

// readFactsFile reads a facts file in any format analyze/facts imports
// (detected unless format is set). Bad records are skipped, as the import
// command does, and named on stderr with the counts; a file where every
// record is bad is an error: it is almost certainly the wrong file.
func readFactsFile(path, format string, stderr io.Writer) ([]schema.Fact, error) {
	fs, bad, err := facts.Load(path, format)
	if err != nil {
		return nil, fmt.Errorf("cannot read facts: %w", err)
	}
	if len(fs) == 0 && len(bad) > 0 {
		return nil, fmt.Errorf("%s: no usable facts; first error: %w", path, bad[0])
	}
	if len(bad) > 0 {
		lines := make([]lineError, len(bad))
		for i, b := range bad {
			lines[i] = lineError{b.Record, b.Reason}
		}
		warnSkipped(stderr, path, "facts", len(fs), lines)
	}
	return fs, nil
}

// lineError is a line of an input file that was skipped, and why.
type lineError struct {
	Line   int
	Reason string
}

func (e lineError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// warnSkipped tells the user that an input lost records: how many were
// read, how many skipped, and each skipped line (the first maxShownErrors).
func warnSkipped(w io.Writer, path, what string, read int, bad []lineError) {
	fmt.Fprintf(w, "warning: %s: read %d %s, skipped %d bad records (the results leave them out):\n", path, read, what, len(bad))
	for i, b := range bad {
		if i == maxShownErrors {
			fmt.Fprintf(w, "  … and %d more\n", len(bad)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", b)
	}
}

// loadQueries reads a queries file (readQueries) and warns on stderr when
// any record was skipped; a file with no query at all is an error.
func loadQueries(path string, stderr io.Writer) ([]claims.Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open queries: %w", err)
	}
	defer f.Close()
	qs, bad, err := readQueries(f)
	if err != nil {
		return nil, fmt.Errorf("cannot read queries %s: %w", path, err)
	}
	if len(qs) == 0 {
		if len(bad) > 0 {
			return nil, fmt.Errorf("%s: no usable queries; first error: %s", path, bad[0])
		}
		return nil, fmt.Errorf("%s: no queries", path)
	}
	if len(bad) > 0 {
		warnSkipped(stderr, path, "queries", len(qs), bad)
	}
	return qs, nil
}

// readQueries reads TSV records "id<TAB>text" with internal/delimited's
// quoting (a whole quoted field is quoted, other quotes are text, so a
// tweet that begins with a quotation keeps the lines after it). A first
// record whose id is empty or a column name (id, qid, tweet_id…) is a
// header. Columns after the text are ignored. A record with no text
// column or an empty id is returned as bad and reading goes on, so every
// record is either a query, the header or a bad line.
func readQueries(r io.Reader) ([]claims.Query, []lineError, error) {
	dr := delimited.NewReader(r, '\t')
	var (
		out []claims.Query
		bad []lineError
	)
	for first := true; ; first = false {
		rec, line, _, err := dr.Next()
		if errors.Is(err, io.EOF) {
			return out, bad, nil
		}
		var re *delimited.RecordError
		if errors.As(err, &re) {
			bad = append(bad, lineError{re.Line, re.Reason})
			continue
		}
		if err != nil {
			return out, bad, fmt.Errorf("line %d: %w", line, err)
		}
		id := strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))
		switch {
		case first && isQueryHeader(id):
		case len(rec) < 2:
			bad = append(bad, lineError{line, "want id<TAB>text, got no tab"})
		case id == "":
			bad = append(bad, lineError{line, "empty query id"})
		default:
			out = append(out, claims.Query{ID: id, Text: strings.TrimSpace(rec[1])})
		}
	}
}

func isQueryHeader(id string) bool {
	switch strings.ToLower(id) {
	case "", "id", "qid", "query_id", "tweet_id", "iclaim_id":
		return true
	}
	return false
}

// loadQrels reads TREC qrels (readQrels) and warns on stderr when any
// line was skipped.
func loadQrels(path string, stderr io.Writer) (claims.Qrels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open qrels: %w", err)
	}
	defer f.Close()
	q, n, bad, err := readQrels(f)
	if err != nil {
		return nil, fmt.Errorf("cannot read qrels %s: %w", path, err)
	}
	if n == 0 {
		if len(bad) > 0 {
			return nil, fmt.Errorf("%s: no usable judgements; first error: %s", path, bad[0])
		}
		return nil, fmt.Errorf("%s: no judgements", path)
	}
	if len(bad) > 0 {
		warnSkipped(stderr, path, "judgements", n, bad)
	}
	return q, nil
}

// readQrels reads TREC qrels "qid 0 docid rel" (tabs or spaces); rel > 0
// marks a relevant fact. n counts the judgement lines read; a line with
// the wrong number of fields or a relevance that is not a number is bad.
func readQrels(r io.Reader) (q claims.Qrels, n int, bad []lineError, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), facts.MaxRecordBytes)
	q = claims.Qrels{}
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			bad = append(bad, lineError{line, fmt.Sprintf("want 4 fields (qid 0 fact_id rel), got %d", len(f))})
			continue
		}
		rel, err := strconv.Atoi(f[3])
		if err != nil {
			bad = append(bad, lineError{line, fmt.Sprintf("relevance %q is not a number", clipRunes(f[3], 20))})
			continue
		}
		n++
		if q[f[0]] == nil {
			q[f[0]] = map[string]bool{}
		}
		if rel > 0 {
			q[f[0]][f[2]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, n, bad, fmt.Errorf("line %d: %w", line+1, err)
	}
	return q, n, bad, nil
}

// clipRunes shortens s to n runes for messages.
func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
