package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/analyze/trends"
	"github.com/trendwatch/trendwatch/schema"
)

func init() {
	register("detect", "flag rising topics in posts read as JSON lines (simulated clock from post times)", runDetect)
	evalCommands["trends"] = runEvalTrends
}

// trendFlags are the detector settings shared by detect and eval trends.
type trendFlags struct {
	cfg      trends.Config
	emerging string
}

func addTrendFlags(fs *flag.FlagSet) *trendFlags {
	tf := &trendFlags{cfg: trends.DefaultConfig()}
	c := &tf.cfg
	fs.DurationVar(&c.Lateness, "lateness", c.Lateness, "how late (event time) a post may arrive and still count")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "age before a topic's baseline is trusted (only the emerging rules apply before)")
	fs.DurationVar(&c.Cooldown, "cooldown", c.Cooldown, "silence after a flag, per topic")
	fs.DurationVar(&c.HalfLife, "half-life", c.HalfLife, "half-life of the per-topic baseline")
	fs.DurationVar(&c.BurstWindow, "burst-window", c.BurstWindow, "window of the burst rule")
	fs.Float64Var(&c.BurstZ, "burst-z", c.BurstZ, "standard deviations above baseline for a burst")
	fs.IntVar(&c.BurstMin, "burst-min", c.BurstMin, "distinct authors a burst needs at least")
	fs.DurationVar(&c.AuthorWindow, "author-window", c.AuthorWindow, "an author counts once per topic within this window")
	var rules []string
	for _, w := range c.Emerging {
		rules = append(rules, fmt.Sprintf("%v:%d", w.Span, w.Min))
	}
	fs.StringVar(&tf.emerging, "emerging", strings.Join(rules, ","), "emerging rules span:authors,… (any one flags a young topic)")
	return tf
}

// config parses the emerging rules and validates the result.
func (tf *trendFlags) config() (trends.Config, error) {
	c := tf.cfg
	c.Emerging = nil
	for _, r := range strings.Split(tf.emerging, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		span, n, ok := strings.Cut(r, ":")
		d, err1 := time.ParseDuration(span)
		k, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil {
			return c, usagef("invalid -emerging rule %q (want span:authors, e.g. 1m:5)", r)
		}
		c.Emerging = append(c.Emerging, trends.Window{Span: d, Min: k})
	}
	if err := c.Validate(); err != nil {
		return c, usagef("invalid detector settings: %w", err)
	}
	return c, nil
}

// detectInput is one input line of `trendwatch detect`.
type detectInput struct {
	ID     string `json:"id"`
	Time   string `json:"time"`
	Text   string `json:"text"`
	Author string `json:"author"`
	Source string `json:"source"`
	URL    string `json:"url"`
	Lang   string `json:"lang"`
}

// detectOutput is one output line: the contract, nothing more.
type detectOutput struct {
	Time    string   `json:"time"`
	Topic   string   `json:"topic"`
	Kind    string   `json:"kind"`
	Score   float64  `json:"score"`
	Count   int      `json:"count"`
	PostIDs []string `json:"post_ids"`
}

func runDetect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("detect", stderr)
	input := fs.String("input", "-", "JSON-lines file of posts in time order (- for stdin)")
	tf := addTrendFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	cfg, err := tf.config()
	if err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	if *input != "-" && *input != "" {
		f, err := os.Open(*input)
		if err != nil {
			return fmt.Errorf("cannot open input: %w", err)
		}
		defer f.Close()
		in = f
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	stats, err := detect(ctx, in, out, cfg, stderr)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("cannot write flags: %w", ferr)
	}
	if stats.skipped > 0 || stats.late > 0 {
		fmt.Fprintf(stderr, "trendwatch detect: %d posts, %d skipped (invalid), %d topic events dropped as too late, %d flags\n",
			stats.posts, stats.skipped, stats.late, stats.flags)
	}
	return err
}

type detectStats struct{ posts, skipped, flags, late int64 }

// detect runs the trend pipeline over JSON-lines posts and writes flags.
// Invalid lines are skipped and counted (the first few reported), so that
// one bad record does not lose a day of input.
func detect(ctx context.Context, in io.Reader, out io.Writer, cfg trends.Config, stderr io.Writer) (detectStats, error) {
	var st detectStats
	p := trends.NewPipeline(cfg)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	write := func(flags []trends.Flag) error {
		for _, f := range flags {
			ids := f.PostIDs
			if ids == nil {
				ids = []string{}
			}
			o := detectOutput{Time: f.Time.UTC().Format(time.RFC3339), Topic: f.Topic, Kind: f.Kind,
				Score: math.Round(f.Score*1000) / 1000, Count: f.Count, PostIDs: ids}
			if err := enc.Encode(o); err != nil {
				return fmt.Errorf("cannot write flags: %w", err)
			}
			st.flags++
		}
		return nil
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 256<<10), 4*schema.MaxTextBytes+64<<10)
	for line := 1; sc.Scan(); line++ {
		if line%4096 == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		post, err := parsePost(b)
		if err != nil {
			st.skipped++
			if st.skipped <= 5 {
				fmt.Fprintf(stderr, "trendwatch detect: line %d skipped: %v\n", line, err)
			}
			continue
		}
		st.posts++
		if err := write(p.Post(post, nil)); err != nil {
			return st, err
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("cannot read posts: %w", err)
	}
	err := write(p.Flush())
	st.late = p.Detector().Stats().Late
	return st, err
}

func parsePost(b []byte) (schema.Post, error) {
	var in detectInput
	if err := json.Unmarshal(b, &in); err != nil {
		return schema.Post{}, fmt.Errorf("invalid JSON: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, in.Time)
	if err != nil {
		return schema.Post{}, fmt.Errorf("invalid time %q: %w", in.Time, err)
	}
	p := schema.Post{ID: in.ID, Source: in.Source, URL: in.URL, Author: in.Author, Lang: in.Lang, Text: in.Text, Published: t}
	if err := p.Validate(); err != nil {
		return schema.Post{}, err
	}
	p.Clamp()
	return p, nil
}

func runEvalTrends(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval trends", stderr)
	dir := fs.String("cascades", "", "propagation directory (label.txt, source_tweets.txt, tree/)")
	seed := fs.Uint64("seed", 1, "seed of the replay's post ids and control timings")
	tf := addTrendFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("-cascades is required")
	}
	cfg, err := tf.config()
	if err != nil {
		return err
	}
	cs, err := trends.LoadCascades(*dir)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	m := trends.Evaluate(cs, cfg, *seed)
	fmt.Fprintf(stdout, "cascades (final size >= %d): %d\n", trends.MinSize, m.Cascades)
	fmt.Fprintf(stdout, "early-warning recall at  5%% of final size: %.4f\n", m.Recall5)
	fmt.Fprintf(stdout, "early-warning recall at 10%% of final size: %.4f\n", m.Recall10)
	fmt.Fprintf(stdout, "early-warning recall at 20%% of final size: %.4f\n", m.Recall20)
	fmt.Fprintf(stdout, "flagged at all: %.4f\n", m.Flagged)
	fmt.Fprintf(stdout, "median fraction of final size at the flag: %.4f (median %.2f min after the source)\n", m.MedianFraction, m.MedianMinutes)
	fmt.Fprintf(stdout, "false-flag rate on %d controls (72 h uniform): %.4f\n", m.Controls, m.FalseFlagRate)
	fmt.Fprintf(stdout, "flags of all topics: %d real run, %d control run\n", m.Flags, m.ControlFlags)
	return nil
}
