package trends

import (
	"bufio"
	"cmp"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// Cascade is one real spread cascade (propagation/ data): a source post and
// the shares that followed it.
type Cascade struct {
	ID     string // source tweet id
	Label  string
	Text   string
	Author string
	Start  time.Time
	Shares []Share
}

// Share is one repost, Delay after the source.
type Share struct {
	Author string
	Delay  time.Duration
}

// Size is the final number of posts of the cascade, the source included.
func (c *Cascade) Size() int { return 1 + len(c.Shares) }

// snowflakeEpoch is Twitter's epoch in Unix milliseconds.
const snowflakeEpoch = 1288834974657

// LoadCascades reads a propagation directory (label.txt, source_tweets.txt,
// tree/<id>.txt) as described in the shared data README.
func LoadCascades(dir string) ([]Cascade, error) {
	texts := map[string]string{}
	if err := eachLine(filepath.Join(dir, "source_tweets.txt"), func(line string) error {
		id, txt, ok := strings.Cut(line, "\t")
		if !ok {
			return fmt.Errorf("want id<TAB>text, got %q", truncateUTF8(line, 60))
		}
		texts[strings.TrimSpace(id)] = txt
		return nil
	}); err != nil {
		return nil, err
	}
	var out []Cascade
	if err := eachLine(filepath.Join(dir, "label.txt"), func(line string) error {
		label, id, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("want label:id, got %q", truncateUTF8(line, 60))
		}
		id = strings.TrimSpace(id)
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return fmt.Errorf("tweet id %q: %w", id, err)
		}
		c := Cascade{ID: id, Label: label, Text: texts[id], Start: time.UnixMilli(int64(n>>22) + snowflakeEpoch).UTC()}
		if err := c.readTree(filepath.Join(dir, "tree", id+".txt")); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Cascade) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// readTree parses edges "['puid', 'ptweet', 'pdelay']->['uid', 'tweet', 'delay']".
func (c *Cascade) readTree(path string) error {
	return eachLine(path, func(line string) error {
		uid, delay, root, err := parseEdge(line)
		if err != nil {
			return err
		}
		if root {
			c.Author = uid
			return nil
		}
		c.Shares = append(c.Shares, Share{Author: uid, Delay: delay})
		return nil
	})
}

// parseEdge returns the child of one tree edge; root marks the edge from
// ROOT to the source post.
func parseEdge(line string) (uid string, delay time.Duration, root bool, err error) {
	parent, child, ok := strings.Cut(line, "->")
	if !ok {
		return "", 0, false, fmt.Errorf("want parent->child, got %q", truncateUTF8(line, 80))
	}
	f := strings.Split(strings.Trim(strings.TrimSpace(child), "[]"), ",")
	if len(f) != 3 {
		return "", 0, false, fmt.Errorf("want [uid, tweet, delay], got %q", truncateUTF8(child, 80))
	}
	for i := range f {
		f[i] = strings.Trim(strings.TrimSpace(f[i]), "'\"")
	}
	if f[0] == "" {
		return "", 0, false, fmt.Errorf("empty uid in %q", truncateUTF8(child, 80))
	}
	if strings.HasPrefix(strings.TrimSpace(parent), "['ROOT'") {
		return f[0], 0, true, nil
	}
	minutes, err := strconv.ParseFloat(f[2], 64)
	// A delay beyond ten years is not a share of this cascade; refusing it
	// also keeps the Duration from overflowing.
	if err != nil || math.IsNaN(minutes) || math.Abs(minutes) > 10*365*24*60 {
		return "", 0, false, fmt.Errorf("invalid delay %q", truncateUTF8(f[2], 40))
	}
	return f[0], time.Duration(minutes * float64(time.Minute)), false, nil
}

func eachLine(path string, fn func(string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read cascades: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("cannot read %s: %w", path, err)
	}
	return nil
}

// ControlSpan is how far a control cascade's shares are spread.
const ControlSpan = 72 * time.Hour

// Posts replays cascades as posts in time order: a fresh random id per
// post from seed, author = uid, text = source text, time = source time +
// delay. With control, each cascade's shares are instead spread uniformly
// over the ControlSpan after its source (same volume, no burst). owner maps
// each post id to its cascade's index.
func Posts(cs []Cascade, control bool, seed uint64) (posts []schema.Post, owner map[string]int) {
	rng := rand.New(rand.NewPCG(seed, 0x7472656e64))
	owner = make(map[string]int)
	newID := func() string {
		var b [12]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return hex.EncodeToString(b[:])
	}
	for i, c := range cs {
		add := func(author string, at time.Time) {
			id := newID()
			owner[id] = i
			posts = append(posts, schema.Post{ID: id, Source: "twitter", Platform: "twitter", Author: author, Text: c.Text, Published: at})
		}
		add(c.Author, c.Start)
		for _, s := range c.Shares {
			at := c.Start.Add(s.Delay)
			if control {
				at = c.Start.Add(time.Duration(rng.Int64N(int64(ControlSpan))))
			}
			add(s.Author, at)
		}
	}
	slices.SortStableFunc(posts, func(a, b schema.Post) int {
		return cmp.Or(a.Published.Compare(b.Published), cmp.Compare(a.ID, b.ID))
	})
	return posts, owner
}

// Measures are the propagation measures of the shared data README.
type Measures struct {
	Cascades       int     `json:"cascades"`        // with final size >= MinSize
	Recall5        float64 `json:"recall_at_5"`     // flagged by 5% of final size
	Recall10       float64 `json:"recall_at_10"`    // … by 10%
	Recall20       float64 `json:"recall_at_20"`    // … by 20%
	Flagged        float64 `json:"flagged"`         // flagged at all
	MedianFraction float64 `json:"median_fraction"` // of final size reached at the first flag
	MedianMinutes  float64 `json:"median_minutes"`  // from the source to the first flag
	Controls       int     `json:"controls"`
	FalseFlagRate  float64 `json:"false_flag_rate"` // controls flagged at all
	Flags          int     `json:"flags"`           // flags of all kinds, real run
	ControlFlags   int     `json:"control_flags"`   // flags of all kinds, control run
}

// MinSize is the final size from which a cascade counts for recall.
const MinSize = 100

// Evaluate replays the cascades (real timing) and their controls in two
// separate runs through a Pipeline with cfg. A cascade is flagged by the
// first flag on one of its own story keys (its near-duplicate cluster,
// derived from its text) from Cooldown before its source to its last share;
// its reach at the flag is the share of its posts published up to the
// flag's trigger post.
func Evaluate(cs []Cascade, cfg Config, seed uint64) Measures {
	var m Measures
	real, reach, nReal := firstFlags(cs, cfg, false, seed)
	ctrl, _, nCtrl := firstFlags(cs, cfg, true, seed)
	m.Flags, m.ControlFlags = nReal, nCtrl
	var fracs, mins []float64
	r5, r10, r20, any := 0, 0, 0, 0
	for i, c := range cs {
		if !ctrl[i].IsZero() {
			m.FalseFlagRate++
		}
		if c.Size() < MinSize {
			continue
		}
		m.Cascades++
		at := real[i]
		if at.IsZero() {
			continue
		}
		f := float64(reach[i]) / float64(c.Size())
		any++
		fracs = append(fracs, f)
		mins = append(mins, at.Sub(c.Start).Minutes())
		if f <= 0.05 {
			r5++
		}
		if f <= 0.10 {
			r10++
		}
		if f <= 0.20 {
			r20++
		}
	}
	m.Controls = len(cs)
	if len(cs) > 0 {
		m.FalseFlagRate /= float64(len(cs))
	}
	if m.Cascades > 0 {
		n := float64(m.Cascades)
		m.Recall5, m.Recall10, m.Recall20, m.Flagged = float64(r5)/n, float64(r10)/n, float64(r20)/n, float64(any)/n
	}
	m.MedianFraction, m.MedianMinutes = median(fracs), median(mins)
	return m
}

// firstFlags runs one replay and returns, per cascade, the time of the
// first flag on one of its story keys within its lifetime and how many of
// its posts were published up to that flag's trigger (in stream order,
// since the data's 6-second resolution makes many shares tie).
func firstFlags(cs []Cascade, cfg Config, control bool, seed uint64) ([]time.Time, []int, int) {
	posts, owner := Posts(cs, control, seed)
	pos := make(map[string]int, len(posts)) // stream position of each post
	for i, p := range posts {
		pos[p.ID] = i
	}
	byCascade := make([][]int, len(cs)) // stream positions of each cascade's posts, ascending
	for i, p := range posts {
		byCascade[owner[p.ID]] = append(byCascade[owner[p.ID]], i)
	}
	// Which cascades each story key belongs to, and their lifetimes.
	byKey := map[string][]int{}
	end := make([]time.Time, len(cs))
	for i, c := range cs {
		for _, k := range AnalyzeKeys(schema.Post{Text: c.Text}, nil) {
			if strings.HasPrefix(k, schema.TopicStory) {
				byKey[k] = append(byKey[k], i)
			}
		}
		end[i] = c.Start
		for _, s := range c.Shares {
			at := c.Start.Add(s.Delay)
			if control {
				at = c.Start.Add(ControlSpan)
			}
			if at.After(end[i]) {
				end[i] = at
			}
		}
	}
	first := make([]time.Time, len(cs))
	reach := make([]int, len(cs))
	n := 0
	note := func(flags []Flag) {
		n += len(flags)
		for _, f := range flags {
			for _, i := range byKey[f.Topic] {
				// A flag raised shortly before the cascade started still
				// covers it: its story is flagged and, for Cooldown, the
				// detector deliberately stays silent on it.
				if f.Time.Before(cs[i].Start.Add(-cfg.Cooldown)) || f.Time.After(end[i]) {
					continue
				}
				if first[i].IsZero() || f.Time.Before(first[i]) {
					first[i] = f.Time
					reach[i], _ = slices.BinarySearch(byCascade[i], pos[f.Trigger]+1)
				}
			}
		}
	}
	p := NewPipeline(cfg)
	cfg = p.Detector().Config()
	for _, post := range posts {
		note(p.Post(post, nil))
	}
	note(p.Flush())
	return first, reach, n
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
