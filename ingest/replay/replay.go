// Package replay publishes recorded items on an accelerated clock, for
// demos and offline evaluation: an hour of news at --speed 60 plays in a
// minute, in publish order, through the same Publisher a live collector
// uses. It reads JSON lines in three shapes, detected per line:
//
//   - news items (the vi-news research files):
//     {id, title, link, summary, source, category, published, fetched}
//   - the detect input format: {id, time, text, author, source, url, lang};
//     these keep their id, as `trendwatch detect` does
//   - schema.Post itself (a dump of trendwatch.posts)
//
// Only the standard library is used: the formats are flat JSON.
package replay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

// MaxLineBytes bounds one input line.
const MaxLineBytes = 4 << 20

// line is the union of the accepted shapes.
type line struct {
	V         *int            `json:"v"`
	ID        json.RawMessage `json:"id"` // string or number
	Title     string          `json:"title"`
	Link      string          `json:"link"`
	Summary   string          `json:"summary"`
	Source    string          `json:"source"`
	Category  string          `json:"category"`
	Published string          `json:"published"`
	Fetched   string          `json:"fetched"`
	Time      string          `json:"time"`
	Text      string          `json:"text"`
	Author    string          `json:"author"`
	URL       string          `json:"url"`
	Lang      string          `json:"lang"`
	Platform  string          `json:"platform"`
}

// Defaults fill what a record does not say.
type Defaults struct {
	Lang     string // language when the record has none
	Platform string // platform for news items ("rss") and detect records ("replay") when empty
}

// ParseLine converts one JSON line into a post.
func ParseLine(b []byte, d Defaults) (schema.Post, error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return schema.Post{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if l.V != nil {
		p, err := schema.DecodePost(b)
		if err != nil {
			return schema.Post{}, err
		}
		return p, nil
	}
	id := rawID(l.ID)
	var p schema.Post
	detect := false
	switch {
	case l.Time != "" || (l.Text != "" && l.Link == "" && l.Summary == ""):
		// detect input format
		detect = true
		t, err := parseTime(l.Time)
		if err != nil {
			return schema.Post{}, fmt.Errorf("record %q: time: %w", id, err)
		}
		p = schema.Post{Source: l.Source, Platform: firstNonEmpty(strings.ToLower(l.Platform), d.Platform, "replay"), URL: strings.TrimSpace(l.URL),
			Author: l.Author, Lang: feed.NormalizeLang(l.Lang), Text: feed.HTMLText(l.Text), Title: feed.HTMLText(l.Title), Published: t, Fetched: t}
	default:
		// news item
		t, err := parseTime(l.Published)
		if err != nil {
			return schema.Post{}, fmt.Errorf("record %q: published: %w", id, err)
		}
		fetched := t
		if f, err := parseTime(l.Fetched); err == nil {
			fetched = f
		}
		p = schema.Post{Source: l.Source, Platform: firstNonEmpty(d.Platform, "rss"), URL: strings.TrimSpace(l.Link),
			Author: l.Author, Lang: feed.NormalizeLang(l.Lang), Title: feed.HTMLText(l.Title), Text: feed.HTMLText(l.Summary), Published: t, Fetched: fetched}
	}
	if p.Lang == "" {
		p.Lang = feed.NormalizeLang(d.Lang)
	}
	if c, err := urlcanon.Canonical(p.URL); err == nil {
		p.CanonicalURL = c
	}
	if id == "" {
		id = p.URL
	}
	if id == "" && p.CanonicalURL == "" {
		return schema.Post{}, errors.New("record has neither id nor URL")
	}
	p.ID = schema.PostID(p.CanonicalURL, p.Source, id)
	if detect && id != "" && len(id) <= 128 {
		// Same id as `trendwatch detect` gives the record, so flags from
		// a replayed run map back to the labelled input.
		p.ID = id
	}
	p.Clamp()
	if err := p.Validate(); err != nil {
		return schema.Post{}, fmt.Errorf("record %q: %w", id, err)
	}
	return p, nil
}

func rawID(r json.RawMessage) string {
	var s string
	if json.Unmarshal(r, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(r, &n) == nil {
		return n.String()
	}
	return ""
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse time %q (want RFC 3339)", s)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// LineError is a line that could not be used.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Read parses every line of r, skipping blank ones, and returns the posts
// sorted by publish time (stable: ties keep file order) with the lines it
// could not use.
func Read(r io.Reader, d Defaults) ([]schema.Post, []LineError, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	var posts []schema.Post
	var bad []LineError
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		p, err := ParseLine(b, d)
		if err != nil {
			bad = append(bad, LineError{Line: n, Err: err})
			continue
		}
		posts = append(posts, p)
	}
	if err := sc.Err(); err != nil {
		return nil, bad, fmt.Errorf("cannot read input after line %d: %w", n, err)
	}
	slices.SortStableFunc(posts, func(a, b schema.Post) int { return a.Published.Compare(b.Published) })
	return posts, bad, nil
}

// Options configures Play.
type Options struct {
	// Speed is how many recorded seconds pass per wall-clock second
	// (60: an hour in a minute). 0 or less publishes as fast as possible.
	Speed float64
	// Loop replays forever; each pass after the first gets fresh ids (the
	// pass number joins the id) so it counts as new posts downstream.
	Loop bool
	// Retime sets Published (and Fetched) to the wall-clock time a post is
	// replayed, so live dashboards and detectors see it as current.
	// Without it the recorded times are kept (offline evaluation).
	Retime bool
	// MaxBatch bounds a Publish call (default 500).
	MaxBatch int
	// Sleep waits; tests replace it. It returns ctx.Err() when cancelled.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the wall clock; tests replace it.
	Now func() time.Time
}

// Stats of a replay.
type Stats struct {
	Published int
	Passes    int
}

// Play publishes posts (sorted by Published) on the accelerated clock
// until they are exhausted (or, with Loop, until ctx is cancelled).
func Play(ctx context.Context, pub ingest.Publisher, posts []schema.Post, opts Options, logger *slog.Logger) (Stats, error) {
	var st Stats
	if len(posts) == 0 {
		return st, errors.New("nothing to replay")
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 500
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t0 := posts[0].Published
	span := posts[len(posts)-1].Published.Sub(t0)
	for pass := 0; ; pass++ {
		start := opts.Now()
		for i := 0; i < len(posts); {
			// Everything due by now goes out together.
			due := start
			if opts.Speed > 0 {
				due = start.Add(time.Duration(float64(posts[i].Published.Sub(t0)) / opts.Speed))
				if err := opts.Sleep(ctx, due.Sub(opts.Now())); err != nil {
					return st, nil // cancelled: a clean stop
				}
			}
			now := opts.Now()
			j := i
			var batch []schema.Post
			for j < len(posts) && len(batch) < opts.MaxBatch {
				if opts.Speed > 0 && start.Add(time.Duration(float64(posts[j].Published.Sub(t0))/opts.Speed)).After(now) {
					break
				}
				p := posts[j]
				if pass > 0 {
					p.ID = schema.PostID("", p.Source, fmt.Sprintf("%s#pass%d", p.ID, pass))
				}
				if opts.Retime {
					p.Published, p.Fetched = now.UTC(), now.UTC()
				}
				batch = append(batch, p)
				j++
			}
			if err := pub.Publish(ctx, batch...); err != nil {
				if ctx.Err() != nil {
					return st, nil
				}
				return st, fmt.Errorf("cannot publish replayed posts %d-%d: %w", i, j-1, err)
			}
			st.Published += len(batch)
			i = j
		}
		st.Passes++
		logger.Info("replay pass done", slog.Int("pass", pass+1), slog.Int("published", st.Published), slog.Duration("recorded_span", span))
		if !opts.Loop || ctx.Err() != nil {
			return st, nil
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
