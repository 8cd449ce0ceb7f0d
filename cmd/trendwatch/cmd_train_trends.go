package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/analyze/trends"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// runTrainTrendBackground builds the background rate table Trends uses as
// the prior of a topic's baseline (clickhouse.RateTable): every news item
// of the files goes through trends.AnalyzeKeys as the analyzer would key
// it, and each vocabulary key's distinct posts over the hours the items
// span become its rate. Deterministic: files in name order, the table
// sorted by key, no clock.
func runTrainTrendBackground(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train trend-background", stderr)
	news := fs.String("news", "../shared/data/vi-news/*.jsonl", "comma-separated globs of news JSONL, one file a day (vi-news format: title, summary, link, source, published)")
	minPosts := fs.Int("min-posts", 2, "keep keys seen in at least this many posts (the rest take the default rate)")
	out := fs.String("out", "store/clickhouse/trend_background.tsv.gz", "where to write the table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	paths, err := expandGlobs(*news, "news")
	if err != nil {
		return err
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	counts := map[string]int{}
	items := 0
	for _, p := range paths {
		posts, err := readNewsPosts(p)
		if err != nil {
			return err
		}
		for _, post := range posts {
			items++
			for _, k := range uniqueKeys(trends.AnalyzeKeys(post, nil)) {
				counts[k]++
			}
		}
	}
	if items == 0 {
		return fmt.Errorf("no news items in %s", strings.Join(paths, ", "))
	}
	// A file is a day (as vi-news is): the corpus hours are 24 a file. The
	// items' own time span would count a feed's few stale items (a day
	// file holds some from days before) as hours of silence.
	hours := 24 * float64(len(paths))
	t := clickhouse.BuildRateTable(counts, hours, *minPosts, strings.TrimSpace("trendwatch train trend-background "+strings.Join(args, " ")))
	if err := writeTable(*out, "trend background", t); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d keys from %d items over %.0f hours; default rate %.4g posts/hour\n", *out, t.Len(), items, hours, t.Default)
	return nil
}

func uniqueKeys(ks []string) []string {
	slices.Sort(ks)
	return slices.Compact(ks)
}

// readNewsPosts reads a vi-news JSONL file as posts, the way a feed
// collector would make them (title, summary as text, link, outlet as
// source, published time).
func readNewsPosts(path string) ([]schema.Post, error) {
	var out []schema.Post
	err := readJSONL(path, func(r struct {
		ID, Title, Summary, Link, Source, Lang string
		Published                              time.Time
	}) {
		out = append(out, schema.Post{V: schema.Version, ID: r.ID, Source: r.Source, Platform: "rss", URL: r.Link,
			Lang: r.Lang, Title: r.Title, Text: r.Summary, Published: r.Published.UTC(), Fetched: r.Published.UTC()})
	})
	return out, err
}
