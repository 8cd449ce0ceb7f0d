package clickhouse

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// RateTable is the background rate of topic keys: posts per hour each key
// had over a corpus of ordinary days (the shared vi-news days, see
// `trendwatch train trend-background`), and a default rate for keys it
// does not hold. Trends mixes it into a topic's baseline as a prior (see
// trendRate), so a deployment with no history ranks a topic by how
// unusual its count is against that corpus, not against zero: on the
// first hour, "công an" (a few posts every hour of every day) is ordinary
// while a story no corpus day mentions stands out.
//
// Only vocabulary keys are held (phrases, entities, hashtags): story,
// fact and URL keys name one event or page, so their rate on other days
// says nothing about today's; they take the default rate.
type RateTable struct {
	Command string  // the command that built the table
	Hours   float64 // hours the corpus spans
	// Default is the rate of a key the table does not hold: half the rate
	// of a key seen once in the corpus (a key seen once is already rarer
	// than anything the table kept).
	Default float64
	posts   map[string]float64 // posts per key over the corpus
}

// trendBackgroundGz is the committed table, rebuilt by
// `trendwatch train trend-background` (see the README).
//
//go:embed trend_background.tsv.gz
var trendBackgroundGz []byte

// DefaultRateTable is the committed background table.
var DefaultRateTable = sync.OnceValue(func() *RateTable {
	t, err := ReadRateTable(bytes.NewReader(trendBackgroundGz))
	if err != nil {
		// A corrupt embedded table is a build error; an empty table ranks
		// by history alone, which is still correct.
		return &RateTable{Hours: 1, Default: 0.5 / 24, posts: map[string]float64{}}
	}
	return t
})

// BackgroundKey reports whether a topic key belongs in the table
// (vocabulary, not events).
func BackgroundKey(topic string) bool {
	switch KindOf(topic) {
	case KindPhrase, KindEntity, KindHashtag:
		return true
	}
	return false
}

// BuildRateTable makes a table from posts per key over hours of corpus,
// keeping keys seen at least minPosts times (the rest take the default).
func BuildRateTable(counts map[string]int, hours float64, minPosts int, command string) *RateTable {
	t := &RateTable{Command: command, Hours: hours, posts: map[string]float64{}}
	if hours > 0 {
		t.Default = 0.5 / hours
	}
	for k, n := range counts {
		if n >= minPosts && BackgroundKey(k) {
			t.posts[k] = float64(n)
		}
	}
	return t
}

// Len is the number of keys held.
func (t *RateTable) Len() int { return len(t.posts) }

// Rate is the key's background posts per hour.
func (t *RateTable) Rate(topic string) float64 {
	if n, ok := t.posts[topic]; ok && t.Hours > 0 {
		return n / t.Hours
	}
	return t.Default
}

// WriteTo writes the table as gzipped TSV: "#" header lines (command,
// hours, default), then key<TAB>posts sorted by key, so a rebuild from
// the same corpus is byte-identical.
func (t *RateTable) WriteTo(w io.Writer) (int64, error) {
	zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	bw := bufio.NewWriter(zw)
	fmt.Fprintf(bw, "# trend background rates: posts per key over the corpus hours; rebuild with: %s\n", strings.ReplaceAll(t.Command, "\n", " "))
	fmt.Fprintf(bw, "# hours\t%s\n# default\t%s\n", strconv.FormatFloat(t.Hours, 'g', -1, 64), strconv.FormatFloat(t.Default, 'g', -1, 64))
	keys := make([]string, 0, len(t.posts))
	for k := range t.posts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(bw, "%s\t%s\n", k, strconv.FormatFloat(t.posts[k], 'g', -1, 64))
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("cannot write rate table: %w", err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("cannot write rate table: %w", err)
	}
	return 0, nil
}

// ReadRateTable reads what WriteTo wrote.
func ReadRateTable(r io.Reader) (*RateTable, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("cannot read rate table: %w", err)
	}
	defer zr.Close()
	t := &RateTable{posts: map[string]float64{}}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if s == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(s, "# "); ok {
			name, val, _ := strings.Cut(rest, "\t")
			var err error
			switch name {
			case "hours":
				t.Hours, err = strconv.ParseFloat(val, 64)
			case "default":
				t.Default, err = strconv.ParseFloat(val, 64)
			default:
				if c, ok := strings.CutPrefix(rest, "trend background rates: posts per key over the corpus hours; rebuild with: "); ok {
					t.Command = c
				}
			}
			if err != nil {
				return nil, fmt.Errorf("rate table line %d: %w", line, err)
			}
			continue
		}
		k, v, ok := strings.Cut(s, "\t")
		n, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || n < 0 || math.IsInf(n, 0) {
			return nil, fmt.Errorf("rate table line %d: want key<TAB>posts", line)
		}
		t.posts[k] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read rate table: %w", err)
	}
	if t.Hours <= 0 || t.Default <= 0 {
		return nil, fmt.Errorf("rate table lacks its hours or default rate")
	}
	return t, nil
}
