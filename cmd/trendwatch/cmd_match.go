package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/analyze/claims"
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

func (m *matchInputs) load() (*claims.Index, []claims.Query, error) {
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
	facts, err := loadFacts(m.facts, m.format)
	if err != nil {
		return nil, nil, err
	}
	if len(facts) == 0 {
		return nil, nil, fmt.Errorf("no facts in %s", m.facts)
	}
	f, err := os.Open(m.queries)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open queries: %w", err)
	}
	defer f.Close()
	qs, err := claims.ReadQueries(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", m.queries, err)
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
	ix, qs, err := in.load()
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
	f, err := os.Open(*qrelsPath)
	if err != nil {
		return fmt.Errorf("cannot open qrels: %w", err)
	}
	qrels, err := claims.ReadQrels(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", *qrelsPath, err)
	}
	ix, qs, err := in.load()
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

// loadFacts reads the CheckThat! fact files (2020 TSV, 2022 JSONL). Both
// editions are English-only by definition, so Lang is set rather than
// guessed from a short claim.
// TODO(facts): replace with facts.Load once analyze/facts lands; it adds
// ClaimReview, Google Fact Check and generic CSV/TSV.
func loadFacts(path, format string) ([]schema.Fact, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read facts: %w", err)
	}
	if format == "" {
		format = "checkthat2020"
		if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "{") {
			format = "checkthat2022"
		}
	}
	switch format {
	case "checkthat2022":
		return parseCheckThat2022(b, path)
	case "checkthat2020":
		return parseCheckThat2020(b, path)
	}
	return nil, usagef("unknown facts format %q (want checkthat2020 or checkthat2022)", format)
}

func parseCheckThat2022(b []byte, path string) ([]schema.Fact, error) {
	var out []schema.Fact
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r struct {
			Title, Subtitle, Author, Date string
			VclaimID                      string `json:"vclaim_id"`
			Vclaim                        string `json:"vclaim"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		f := schema.Fact{ID: r.VclaimID, Claim: r.Vclaim, Title: r.Title, Summary: r.Subtitle, Publisher: r.Author, Lang: "en"}
		if t, err := time.Parse("2 January 2006", strings.TrimSpace(r.Date)); err == nil {
			f.Date = t
		}
		if f.Validate() == nil {
			out = append(out, f)
		}
	}
	return out, nil
}

func parseCheckThat2020(b []byte, path string) ([]schema.Fact, error) {
	r := csv.NewReader(strings.NewReader(string(b)))
	r.Comma = '\t'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	var out []schema.Fact
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if first && len(rec) > 1 && rec[1] == "vclaim" {
			continue
		}
		if len(rec) < 2 {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("%s line %d: want vclaim_id<TAB>vclaim<TAB>title", path, line)
		}
		f := schema.Fact{ID: strings.TrimSpace(rec[0]), Claim: rec[1], Lang: "en"}
		if len(rec) > 2 {
			f.Title = rec[2]
		}
		if f.Validate() == nil {
			out = append(out, f)
		}
	}
	return out, nil
}
