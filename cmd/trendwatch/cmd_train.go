package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/trendwatch/trendwatch/schema"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/text"
)

func init() {
	register("train", "train a learned component (train match: the claim re-ranker)", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(stdout, "Usage: trendwatch train match --facts F1,F2 --queries Q1,Q2 --qrels R1,R2 --out FILE")
			fmt.Fprintln(stdout, "       trendwatch train background --facts F1,F2 --texts GLOB1,GLOB2 --out FILE")
			fmt.Fprintln(stdout, "       trendwatch train trend-background [--news GLOB] [--out FILE]")
			fmt.Fprintln(stdout, "       trendwatch train phrases --facts F1,F2 --texts GLOB1,GLOB2 --out FILE")
			return nil
		}
		switch args[0] {
		case "match":
			return runTrainMatch(ctx, args[1:], stdout, stderr)
		case "background":
			return runTrainBackground(ctx, args[1:], stdout, stderr)
		case "trend-background":
			return runTrainTrendBackground(ctx, args[1:], stdout, stderr)
		case "phrases":
			return runTrainPhrases(ctx, args[1:], stdout, stderr)
		}
		return usagef("unknown training %q (want match, background, phrases or trend-background)", args[0])
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
	knownOut := fs.String("known-out", "", "where to write the facts' known appearances (the labelled posts of the --qrels sets, gzipped TSV); empty writes none")
	excludeF := fs.String("exclude", "", "comma-separated query files held out for evaluation: training posts with the same text are dropped from every set (CheckThat! 2022 train holds the 2020 dev tweets)")
	folds := fs.Int("folds", 5, "cross-validation folds for choosing the L2 penalty and boosting rounds")
	cands := fs.Int("candidates", 40, "first-stage candidates per training post")
	depthsF := fs.String("depths", "40,80,150", "comma-separated first-stage depths cross-validated for serving; the best is the model's default")
	newsF := fs.String("news", "", "comma-separated globs of Vietnamese news JSONL (vi-news format) one file a day: its headline rewrites form one more training set, and each day's per-outlet summary → headline sets more (TRAIN days only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var depths []int
	for _, d := range split(*depthsF) {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 1000 {
			return usagef("--depths: %q is not a depth between 1 and 1000", d)
		}
		depths = append(depths, n)
	}
	fl, ql, rl := split(*factsF), split(*queriesF), split(*qrelsF)
	if len(fl) == 0 || len(fl) != len(ql) || len(fl) != len(rl) {
		return usagef("--facts, --queries and --qrels need the same, non-zero number of files")
	}
	held := map[string]bool{}
	for _, p := range split(*excludeF) {
		qs, err := readQueriesFile(p)
		if err != nil {
			return err
		}
		for _, q := range qs {
			held[schema.FoldText(q.Text)] = true
		}
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
		n := len(qs)
		qs = slices.DeleteFunc(qs, func(q claims.Query) bool { return held[schema.FoldText(q.Text)] })
		if n > len(qs) {
			fmt.Fprintf(stdout, "%s: dropped %d of %d posts held out by --exclude\n", ql[i], n-len(qs), n)
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
	if *knownOut != "" {
		// Real posts only: the news rewrites below are synthetic.
		known := &claims.Known{}
		for _, s := range sets {
			known.Merge(claims.NewKnown(s.Facts, s.Queries, s.Qrels))
		}
		if err := writeTable(*knownOut, "known appearances", known); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: known appearances of %d claims\n", *knownOut, known.Len())
	}
	if *newsF != "" {
		var items []claims.NewsItem
		var days [][]claims.NewsItem // one file a day
		for _, g := range split(*newsF) {
			paths, err := filepath.Glob(g)
			if err != nil || len(paths) == 0 {
				return fmt.Errorf("news %q: no files match", g)
			}
			slices.Sort(paths)
			for _, p := range paths {
				f, err := os.Open(p)
				if err != nil {
					return fmt.Errorf("cannot open news: %w", err)
				}
				its, err := claims.ReadNewsItems(f)
				f.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				items = append(items, its...)
				days = append(days, its)
			}
		}
		facts, qs, qrels, _ := claims.NewsRewrites(items, items, "vi")
		sets = append(sets, claims.TrainSet{Name: "news", Facts: facts, Queries: qs, Qrels: qrels, Synthetic: true})
		// Real paraphrase: each outlet's summaries against its headlines.
		sets = append(sets, claims.NewsOutletTrainSets(days)...)
	}
	m, err := claims.Train(sets, claims.TrainOptions{Folds: *folds, Candidates: *cands, Depths: depths,
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
	fmt.Fprintf(stdout, "wrote %s: %s fit, lambda %g, cross-validated MAP@5 %.4f (BM25F alone %.4f) over %.0f training queries\n",
		*out, m.Objective, m.Lambda, m.CV["map5"], m.CV["bm25f_map5"], m.CV["queries"])
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

// runTrainBackground builds the background document-frequency table the
// claims index mixes with live statistics (see claims.Background).
func runTrainBackground(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train background", stderr)
	factsF := fs.String("facts", "", "comma-separated facts files (any importable format)")
	textsF := fs.String("texts", "", "comma-separated globs of JSONL files whose title/summary/text fields are background text (language detected)")
	minDF := fs.Int("min-df", 2, "drop terms in fewer documents than this in every language")
	out := fs.String("out", "analyze/claims/background.tsv.gz", "where to write the table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	all, texts, err := trainCorpus(*factsF, *textsF)
	if err != nil {
		return err
	}
	bg := claims.BuildBackground(all, texts, *minDF)
	bg.Command = "trendwatch train background " + strings.Join(args, " ")
	if err := writeTable(*out, "background", bg); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d terms; documents en %d, fr %d, vi %d\n", *out, bg.Terms(), bg.Docs[0], bg.Docs[1], bg.Docs[2])
	return nil
}

// runTrainPhrases builds the phrase table topic keys use (see
// text.TrainPhrases): collocations, names, titles and document frequencies
// of the facts' claims and the news texts.
func runTrainPhrases(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train phrases", stderr)
	factsF := fs.String("facts", "", "comma-separated facts files (any importable format); their claims are texts")
	textsF := fs.String("texts", "", "comma-separated globs of JSONL files whose title/summary/text fields are texts (language detected)")
	minCount := fs.Int("min-count", 3, "occurrences a phrase needs")
	minLLR := fs.Float64("min-llr", 10.83, "log-likelihood ratio a merged pair needs")
	out := fs.String("out", "analyze/text/phrases.tsv.gz", "where to write the table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	all, texts, err := trainCorpus(*factsF, *textsF)
	if err != nil {
		return err
	}
	docs := make([]text.TrainDoc, 0, len(all)+len(texts))
	for _, f := range all {
		docs = append(docs, text.TrainDoc{Lang: f.Lang, Text: f.Claim})
	}
	for _, t := range texts {
		docs = append(docs, text.TrainDoc{Lang: t.Lang, Text: t.Text})
	}
	t := text.TrainPhrases(docs, text.PhraseOptions{MinCount: *minCount, MinLLR: *minLLR})
	t.Command = "trendwatch train phrases " + strings.Join(args, " ")
	if err := writeTable(*out, "phrase table", t); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d rows from %d documents\n", *out, t.Len(), t.Docs)
	return nil
}

// trainCorpus reads the --facts and --texts of a training command: the
// facts of a comma-separated list of files and the texts of a list of
// JSON-lines globs; at least one must be given.
func trainCorpus(factsList, textsList string) ([]schema.Fact, []claims.BackgroundText, error) {
	if factsList == "" && textsList == "" {
		return nil, nil, usagef("--facts or --texts is required")
	}
	all, err := loadFactsList(factsList)
	if err != nil {
		return nil, nil, err
	}
	texts, err := readTextsList(textsList)
	return all, texts, err
}

// loadFactsList loads the facts of each file of a comma-separated list.
func loadFactsList(list string) ([]schema.Fact, error) {
	var all []schema.Fact
	for _, p := range split(list) {
		fs, err := loadFacts(p, "")
		if err != nil {
			return nil, err
		}
		all = append(all, fs...)
	}
	return all, nil
}

// expandGlobs returns the files of a comma-separated list of globs, each
// glob's matches in name order; a glob that matches nothing is an error
// naming what the files were for.
func expandGlobs(list, what string) ([]string, error) {
	var out []string
	for _, g := range split(list) {
		paths, err := filepath.Glob(g)
		if err != nil || len(paths) == 0 {
			return nil, fmt.Errorf("%s %q: no files match", what, g)
		}
		slices.Sort(paths)
		out = append(out, paths...)
	}
	return out, nil
}

// readTextsList reads the texts of the JSONL files of a list of globs:
// one text a line, from its title, summary and text fields.
func readTextsList(list string) ([]claims.BackgroundText, error) {
	paths, err := expandGlobs(list, "texts")
	if err != nil {
		return nil, err
	}
	var out []claims.BackgroundText
	for _, p := range paths {
		err := readJSONL(p, func(r struct{ Title, Summary, Text, Lang string }) {
			out = append(out, claims.BackgroundText{Lang: r.Lang, Text: strings.TrimSpace(r.Title + "\n" + r.Summary + "\n" + r.Text)})
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readJSONL decodes each non-blank line of a JSON-lines file as a T; a line
// that does not decode is an error naming it.
func readJSONL[T any](path string, each func(T)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s line %d: %w", path, line, err)
		}
		each(r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("cannot read %s: %w", path, err)
	}
	return nil
}

// writeTable writes a trained table (what names it in errors) to path.
func writeTable(path, what string, t io.WriterTo) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", what, err)
	}
	if _, err := t.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", what, err)
	}
	return nil
}
