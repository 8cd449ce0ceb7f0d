package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/trendwatch/trendwatch/analyze/claims"
)

func init() {
	register("train", "train a learned component (train match: the claim re-ranker)", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(stdout, "Usage: trendwatch train match --facts F1,F2 --queries Q1,Q2 --qrels R1,R2 --out FILE")
			return nil
		}
		if args[0] != "match" {
			return usagef("unknown training %q (want match)", args[0])
		}
		return runTrainMatch(ctx, args[1:], stdout, stderr)
	})
}

// runTrainMatch fits the re-ranker on training splits only. Each
// comma-separated position of --facts, --queries and --qrels is one set.
func runTrainMatch(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train match", stderr)
	factsF := fs.String("facts", "", "comma-separated facts files, one per set")
	queriesF := fs.String("queries", "", "comma-separated query files, one per set")
	qrelsF := fs.String("qrels", "", "comma-separated TRAIN qrels, one per set")
	out := fs.String("out", "analyze/claims/model.json", "where to write the model")
	folds := fs.Int("folds", 5, "cross-validation folds for choosing the L2 penalty and boosting rounds")
	cands := fs.Int("candidates", 40, "first-stage candidates re-ranked per post")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fl, ql, rl := split(*factsF), split(*queriesF), split(*qrelsF)
	if len(fl) == 0 || len(fl) != len(ql) || len(fl) != len(rl) {
		return usagef("--facts, --queries and --qrels need the same, non-zero number of files")
	}
	var sets []claims.TrainSet
	for i := range fl {
		facts, err := loadFacts(fl[i], "")
		if err != nil {
			return err
		}
		qs, err := readQueriesFile(ql[i])
		if err != nil {
			return err
		}
		f, err := os.Open(rl[i])
		if err != nil {
			return fmt.Errorf("cannot open qrels: %w", err)
		}
		qrels, err := claims.ReadQrels(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", rl[i], err)
		}
		sets = append(sets, claims.TrainSet{Name: fl[i], Facts: facts, Queries: qs, Qrels: qrels})
	}
	m, err := claims.Train(sets, claims.TrainOptions{Folds: *folds, Candidates: *cands,
		Command: "trendwatch train match " + strings.Join(args, " ")})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode model: %w", err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("cannot write model: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: lambda %g, cross-validated MAP@5 %.4f (BM25F alone %.4f) over %.0f training queries\n",
		*out, m.Lambda, m.CV["map5"], m.CV["bm25f_map5"], m.CV["queries"])
	return nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func readQueriesFile(path string) ([]claims.Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open queries: %w", err)
	}
	defer f.Close()
	qs, err := claims.ReadQueries(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return qs, nil
}
