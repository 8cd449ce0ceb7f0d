package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/facts"
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

// loadFacts reads a facts file in any format analyze/facts imports
// (detected unless format is set). Bad records are skipped, as the import
// command does, but a file where every record is bad is an error: it is
// almost certainly the wrong file.
func loadFacts(path, format string) ([]schema.Fact, error) {
	fs, bad, err := facts.Load(path, format)
	if err != nil {
		return nil, fmt.Errorf("cannot read facts: %w", err)
	}
	if len(fs) == 0 && len(bad) > 0 {
		return nil, fmt.Errorf("%s: no usable facts; first error: %w", path, bad[0])
	}
	return fs, nil
}
