package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

// CountPosts returns the number of distinct posts stored.
func (s *Store) CountPosts(ctx context.Context) (int64, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, qCountPosts).Scan(&n); err != nil {
		return 0, fmt.Errorf("cannot count posts: %w", err)
	}
	return int64(n), nil
}

// TrendsQuery selects topics active in [Now-Window, Now).
type TrendsQuery struct {
	Window   time.Duration // default 1h; rounded up to whole minutes
	Now      time.Time     // default the current time; rounded down to the minute
	Lang     string        // only posts in this language, "" for all
	Platform string        // only posts from this platform, "" for all
	Limit    int           // default 20, at most 1000
	// Baseline is how far before the window the topic's own baseline rate
	// is measured; default 6×Window. From 3 hours on it is rounded up to
	// whole hours, ending at the hour the window starts in.
	Baseline time.Duration
	MinPosts int // topics with fewer posts in the window are left out; default 1
	// MinSources leaves out topics whose window posts come from fewer
	// distinct sources and fewer distinct authors than this (support: one
	// outlet or one account repeating itself is not a trend); 0 = no
	// check. See trendSupport.
	MinSources int
	Buckets    int // sparkline buckets across the window; default 12
	// Sort is "posts" (default: most distinct posts in the window) or
	// "score" (the most significant rise, see trendRate; "burst" is its
	// old name), ranked among the 10×Limit (at least 200) most active
	// topics, so a topic needs volume as well as surprise.
	Sort string
	// Background is the prior rate table; nil uses DefaultRateTable.
	Background *RateTable
	// PriorHours is the weight of the background rate against the
	// topic's own history, in hours of history it is worth; default 6.
	PriorHours float64
}

// Trend is one topic's activity in the window.
type Trend struct {
	Topic string
	// Label and Kind say how to show the topic (see TopicLabels); the key
	// is for URLs only.
	Label, Kind, Verdict string
	// Posts counts the window's posts, each once per hour it has rows in
	// (per language and platform when filtered): a post re-delivered with
	// a time in another hour counts in both (migration 009).
	Posts int64
	// Authors is the distinct non-empty authors in the window: exact up to
	// 16, and for unfiltered views below 5,000 (within a row budget),
	// otherwise an estimate within ~2% (see exactAuthorsBelow), as
	// AuthorsEstimated says.
	Authors          int64
	AuthorsEstimated bool
	// Sources is the distinct non-empty sources in the window (feeds have
	// no authors: their support is the outlets), exact; 0 when unknown:
	// the topic is beyond trendSupport's row budget, or it has at least
	// supportSketchAbove posts and its authors alone gave it support.
	Sources int64
	// Baseline is the posts in the baseline period before the window.
	Baseline int64
	// BaselineRate is the expected posts in a window of this length, the
	// rate Score and Burst use: the topic's history mixed with the
	// background prior (see trendRate). Never 0.
	BaselineRate float64
	// Burst is Posts over BaselineRate.
	Burst float64
	// Score is the significance of Posts against BaselineRate: the Poisson
	// log-likelihood ratio (G²), 0 unless Posts exceeds the rate.
	Score float64
	// Series is the posts per bucket, oldest first: Buckets equal parts of
	// the window, except that parts of 6 or more whole hours start and end
	// at the nearest whole hour (the first and last absorb the difference).
	Series []int
}

func (q *TrendsQuery) defaults(now time.Time) error {
	if q.Window <= 0 {
		q.Window = time.Hour
	}
	if q.Window%time.Minute != 0 {
		q.Window = q.Window.Truncate(time.Minute) + time.Minute
	}
	if q.Now.IsZero() {
		q.Now = now
	}
	q.Now = q.Now.UTC().Truncate(time.Minute)
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, 1000)
	if q.Baseline <= 0 {
		q.Baseline = 6 * q.Window
	}
	q.Baseline = q.Baseline.Truncate(time.Minute)
	if q.Baseline < time.Minute {
		q.Baseline = time.Minute
	}
	if q.MinPosts <= 0 {
		q.MinPosts = 1
	}
	if q.Buckets <= 0 {
		q.Buckets = 12
	}
	if mins := int(q.Window / time.Minute); q.Buckets > mins {
		q.Buckets = mins
	}
	if q.Background == nil {
		q.Background = DefaultRateTable()
	}
	if q.PriorHours <= 0 {
		q.PriorHours = 6
	}
	switch q.Sort {
	case "", "posts", "score":
	case "burst":
		q.Sort = "score"
	default:
		return fmt.Errorf("invalid trends sort %q: want posts or score", q.Sort)
	}
	return nil
}

// Trends lists the most active (or most significantly rising) topics in
// the window, each with its label.
func (s *Store) Trends(ctx context.Context, q TrendsQuery) ([]Trend, error) {
	if err := q.defaults(s.now()); err != nil {
		return nil, err
	}
	end := q.Now.Unix()
	start := q.Now.Add(-q.Window).Unix()
	// A baseline of hours is measured over the whole hours before the
	// window's first hour, which compacted hours answer without reading
	// raw rows at its ends (each raw hour of hundreds of topics costs tens
	// of ms); the rate divides by its actual length.
	base, baseEnd := start-int64(q.Baseline/time.Second), start
	if q.Baseline >= 3*time.Hour {
		baseEnd = floorTo(start, hourSecs)
		base = baseEnd - ceilTo(int64(q.Baseline/time.Second), hourSecs)
	}
	v := view{q.Lang, q.Platform}
	fh, fd, err := s.fresh(ctx, base, end)
	if err != nil {
		return nil, err
	}
	// Score ranks among the window's most active topics: a topic needs
	// volume as well as surprise to make the list. The posts order with a
	// support check starts from twice the list and widens only when too
	// many lacked support.
	candidates := q.Limit
	switch {
	case q.Sort == "score":
		candidates = max(10*q.Limit, 200)
	case q.MinSources > 0:
		candidates = q.Limit + q.Limit/4 + 5
	}
	var bases map[string][]uint64
	var history float64 // hours of the baseline period the store has data for
	baselines := func(topics []any) error {
		return runAll([]func() error{
			func() (err error) {
				if bases, err = s.topicCounts(ctx, topics, base, baseEnd, v, buckets{}, nil, fh); err != nil {
					return fmt.Errorf("cannot count trend baselines: %w", err)
				}
				return nil
			},
			func() (err error) {
				history, err = s.historyHours(ctx, base, baseEnd)
				return err
			},
		})
	}
	setBaselines := func(out []Trend) {
		for i := range out {
			if n := bases[out[i].Topic]; len(n) > 0 {
				out[i].Baseline = int64(n[0])
			}
			rate := trendRate(out[i].Baseline, history, q.Background.Rate(out[i].Topic), q.PriorHours)
			out[i].BaselineRate = rate * q.Window.Hours()
			out[i].Burst = float64(out[i].Posts) / out[i].BaselineRate
			out[i].Score = significance(float64(out[i].Posts), out[i].BaselineRate)
		}
	}
	var out []Trend
	var support map[string][2]int64
	for {
		top, err := s.trendsTop(ctx, start, end, v, q.MinPosts, candidates, fh)
		if err != nil || len(top) == 0 {
			return nil, err
		}
		out = top
		if q.MinSources <= 0 {
			break
		}
		if support, err = s.supportedTopics(ctx, top, start, end, v, fh, fd, q.MinSources); err != nil {
			return nil, err
		}
		out = out[:0:0]
		for _, t := range top {
			if c, ok := support[t.Topic]; !ok || max(c[0], c[1]) >= int64(q.MinSources) {
				out = append(out, t)
			}
		}
		if q.Sort == "score" || len(out) >= q.Limit || len(top) < candidates || candidates >= 10*q.Limit {
			break
		}
		candidates = min(4*candidates, max(10*q.Limit, 200))
	}
	if len(out) == 0 {
		return nil, nil
	}
	// Score needs every candidate's baseline before it can cut the list;
	// the posts order cuts first and fetches the rest of the list at once.
	// (Counting the baselines alongside trendsTop's exact counts was
	// slower: the server is CPU-bound, and the round lists more topics.)
	var parts []func() error
	if q.Sort == "score" {
		if err := baselines(topicsOf(out)); err != nil {
			return nil, err
		}
		setBaselines(out)
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Score != out[j].Score {
				return out[i].Score > out[j].Score
			}
			return out[i].Posts > out[j].Posts // then as ranked: posts, topic
		})
		if out, err = s.labelAndCut(ctx, out, q.Limit); err != nil {
			return nil, err
		}
	} else {
		if out, err = s.labelAndCut(ctx, out, q.Limit); err != nil {
			return nil, err
		}
		parts = append(parts, func() error {
			if err := baselines(topicsOf(out)); err != nil {
				return err
			}
			setBaselines(out)
			return nil
		})
	}
	setSources := func() {
		for i := range out {
			out[i].Sources = support[out[i].Topic][0]
		}
	}
	// The support check counted the sources of all but the big topics
	// whose authors' sketch cleared them: their Sources stays 0 (unknown;
	// they have authors, which is what the page shows), which spares a
	// week's list reading ~100k rows again.
	if support != nil {
		setSources()
	} else {
		parts = append(parts, func() (err error) {
			if support, err = s.trendSupport(ctx, out, start, end, v); err != nil {
				return err
			}
			setSources()
			return nil
		})
	}
	topics := topicsOf(out)
	// Bucket width in whole seconds; the last bucket absorbs the remainder.
	// Hours across a bucket edge are counted raw, so each bucket is exact.
	// Buckets of 6 or more whole hours have their edges moved to the
	// nearest hour instead (the first and last bucket differ from the others
	// by under 30 minutes, 4% of a week's 14-hour buckets): an edge inside
	// every 14th hour made a week's sparklines read 13 scattered raw hours,
	// 200 ms of a 480 ms page.
	step := int64(q.Window/time.Second) / int64(q.Buckets)
	origin := start
	if step >= 6*hourSecs && step%hourSecs == 0 {
		origin = floorTo(start+hourSecs/2, hourSecs) // the nearest hour
	}
	cuts := make([]int64, 0, q.Buckets)
	for k := 1; k < q.Buckets; k++ {
		cuts = append(cuts, origin+int64(k)*step)
	}
	for i := range out {
		out[i].Series = make([]int, q.Buckets)
	}
	parts = append(parts, func() error {
		c, err := s.topicCounts(ctx, topics, start, end, v, buckets{origin, step}, cuts, fh)
		if err != nil {
			return fmt.Errorf("cannot count trend series: %w", err)
		}
		for i := range out {
			for b, n := range c[out[i].Topic] {
				out[i].Series[min(b, q.Buckets-1)] += int(n)
			}
		}
		return nil
	}, func() error { return s.trendAuthors(ctx, out, start, end, v, fh, fd) })
	if err := runAll(parts); err != nil {
		return nil, err
	}
	return out, nil
}

// labelAndCut labels the ranked topics and keeps the first limit whose
// labels differ once folded: a topic whose label an earlier one already
// shows (the LSH bands of one social story, a story whose headline is
// also a phrase) adds nothing for a reader. Twice the limit is labelled
// so the list stays full.
func (s *Store) labelAndCut(ctx context.Context, out []Trend, limit int) ([]Trend, error) {
	out = out[:min(len(out), 2*limit)]
	ls, err := s.TopicLabels(ctx, topicStrings(out))
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(out))
	kept := out[:0]
	for _, t := range out {
		l := ls[t.Topic]
		t.Label, t.Kind, t.Verdict = l.Text, l.Kind, l.Verdict
		if t.Label != "" {
			folded := strings.Join(strings.Fields(strings.ToLower(text.FoldDiacritics(t.Label))), " ")
			if seen[folded] {
				continue
			}
			seen[folded] = true
		}
		if kept = append(kept, t); len(kept) == limit {
			break
		}
	}
	return kept, nil
}

func topicStrings(ts []Trend) []string {
	out := make([]string, len(ts))
	for i := range ts {
		out[i] = ts[i].Topic
	}
	return out
}

// trendRate is the posts per hour a topic is expected to have: the mean
// of a Gamma-Poisson posterior whose prior is the background rate prior
// worth priorHours hours of history, updated with the topic's own posts
// in the history hours of its baseline period that the store holds data
// for:
//
//	rate = (baseline + prior·priorHours) / (history + priorHours)
//
// A new deployment (history 0) ranks by the background table alone; after
// 6 hours of history (the default weight) the topic's own rate has half
// the weight, after a day four fifths. A heavier prior would keep a
// fresh deployment's steady topics looking new for a day: 6 posts an hour
// for 6 hours of a key the table lacks would be expected at 1.2 an hour
// with a weight of 24 hours, 3 with 6. Hours before the store's first data are not counted as
// silence: "no posts yet" is not "no posts of this topic".
func trendRate(baseline int64, history, prior, priorHours float64) float64 {
	return (float64(baseline) + prior*priorHours) / (max(history, 0) + priorHours)
}

// significance is the Poisson log-likelihood ratio statistic (Dunning's
// G²) of observing k posts where e were expected,
//
//	G² = 2·(k·ln(k/e) − (k − e))   for k > e, else 0,
//
// twice the log of how much likelier k is under its own rate than under
// the expected one; asymptotically χ² with one degree of freedom, so 3.84
// is p = 0.05 and 10.8 is p = 0.001. Unlike a ratio it grows with the
// evidence: 3 posts against 0.03 expected score 22.4 (a new story three
// outlets report), 12 against 6 score 4.6 (an everyday word, doubled),
// 40 against 10 score 50.9 (an everyday word that truly surges). Only
// rises score: a topic below its rate is not trending.
func significance(k, e float64) float64 {
	if e <= 0 {
		e = 1e-9
	}
	if k <= e {
		return 0
	}
	return 2 * (k*math.Log(k/e) - (k - e))
}

// historyHours is how many hours of [from, to) the store holds data for:
// those from the first hour with topic rows on.
func (s *Store) historyHours(ctx context.Context, from, to int64) (float64, error) {
	var first uint32
	var hours uint64
	if err := s.conn.QueryRow(ctx, qFirstHour).Scan(&first, &hours); err != nil {
		return 0, fmt.Errorf("cannot query the first hour of data: %w", err)
	}
	if hours == 0 {
		return 0, nil
	}
	return float64(max(to-max(from, int64(first)), 0)) / 3600, nil
}

// supportSketchAbove: candidates with at least this many posts are
// checked first against their authors' sketch (compacted hours' and days'
// HyperLogLogs, see topicAuthors), which answers most of them (a busy
// social topic has many authors) without reading rows; only those the
// sketch cannot clear (feeds: no authors) are counted from the rows.
const supportSketchAbove = 200

// supportedTopics is trendSupport for the support check: big candidates
// with enough authors by their sketch pass without a row count (their
// entry holds the sketch's authors and Sources unknown, 0).
func (s *Store) supportedTopics(ctx context.Context, ts []Trend, start, end int64, v view, fh, fd map[int64]uint64, minSources int) (map[string][2]int64, error) {
	var big []any
	for _, t := range ts {
		if t.Posts >= supportSketchAbove {
			big = append(big, t.Topic)
		}
	}
	out := map[string][2]int64{}
	if len(big) > 0 {
		a, err := s.topicAuthors(ctx, big, start, end, v, fh, fd)
		if err != nil {
			return nil, err
		}
		for t, n := range a {
			if int64(n) >= int64(minSources) {
				out[t] = [2]int64{0, int64(n)}
			}
		}
	}
	rest := make([]Trend, 0, len(ts))
	for _, t := range ts {
		if _, ok := out[t.Topic]; !ok {
			rest = append(rest, t)
		}
	}
	counted, err := s.trendSupport(ctx, rest, start, end, v)
	if err != nil {
		return nil, err
	}
	for t, c := range counted {
		out[t] = c
	}
	return out, nil
}

// supportRows bounds the rows trendSupport reads: candidates are counted
// smallest first while their posts (about their rows) fit, so the support
// check costs a bounded read whatever the data. A topic beyond it has
// more posts than the budget's smallest candidates together; it passes
// the support check and its Sources stays 0 (unknown).
const supportRows = 30_000

// trendSupport counts the distinct non-empty sources and authors of ts'
// topics in [start, end) from the raw rows (exact; both, because feeds
// have no authors and a social account may post through one source), as
// {sources, authors} by topic; topics beyond supportRows are absent.
func (s *Store) trendSupport(ctx context.Context, ts []Trend, start, end int64, v view) (map[string][2]int64, error) {
	idx := make([]int, len(ts))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ts[idx[a]].Posts < ts[idx[b]].Posts })
	var topics []any
	rows := int64(0)
	for _, i := range idx {
		if rows += ts[i].Posts; rows > supportRows && len(topics) > 0 {
			break
		}
		topics = append(topics, ts[i].Topic)
	}
	got := map[string][2]int64{}
	if len(topics) == 0 {
		return got, nil
	}
	r, err := s.conn.Query(ctx, qTrendSupport, append([]any{ch.GroupSet{Value: topics}, start, end}, v.args()...)...)
	if err != nil {
		return nil, fmt.Errorf("cannot query trend support: %w", err)
	}
	defer r.Close()
	for r.Next() {
		var t string
		var src, auth uint64
		if err := r.Scan(&t, &src, &auth); err != nil {
			return nil, fmt.Errorf("cannot read trend support: %w", err)
		}
		got[t] = [2]int64{int64(src), int64(auth)}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("cannot read trend support: %w", err)
	}
	return got, nil
}

// trendsTop returns the n topics of the window [start, end) with the most
// posts (at least minPosts), most first, then by topic, with exact counts.
//
// Exact counts for every topic of a window are what made Trends slow: a
// day holds millions of topic rows. So it ranks all topics by deliveries
// over the whole hours covering the window (their topic rows, re-deliveries
// included: an upper bound of the posts in the window that merges as an
// integer add), counts exactly only the top m by that bound (compacted
// hours plus raw ranges, see countsSQL), and checks that the answer is
// provably the true top n. A topic left out ranks after the m-th by (bound
// desc, topic), so its count is at most the m-th bound, and equal only with
// a later name; when the n-th exact entry beats that, no topic left out can
// place. Otherwise (heavy re-delivery, or a ragged window whose covering
// hours hold much more than it) it retries with 4m. The first m scales
// with how much longer the covering hours are than the window, up to 4x
// (an hour's window from 12:37 is ranked by 11:00-13:00), so that the
// usual case needs one round; the margin of a quarter absorbs a few
// re-deliveries. (The minute rollup that once ranked ragged ends exactly
// cost more server CPU to write than topic_posts itself; migration 008.)
func (s *Store) trendsTop(ctx context.Context, start, end int64, v view, minPosts, n int, fh map[int64]uint64) ([]Trend, error) {
	hs, he := coveringHours(start, end)
	stretch := min(float64(he-hs)/float64(end-start), 4) // minutes' windows would list hundreds
	m := int(math.Ceil(float64(n)*stretch)) + n/4 + 5
	for {
		args := append(append([]any{hs, he}, v.args()...), uint64(minPosts), m)
		rows, err := s.conn.Query(ctx, qTrendsTop, args...)
		if err != nil {
			return nil, fmt.Errorf("cannot query trends: %w", err)
		}
		var topics []any
		var lastTopic string
		var lastBound uint64
		for rows.Next() {
			if err := rows.Scan(&lastTopic, &lastBound); err != nil {
				rows.Close()
				return nil, fmt.Errorf("cannot read trends: %w", err)
			}
			topics = append(topics, lastTopic)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("cannot read trends: %w", err)
		}
		if len(topics) == 0 {
			return nil, nil
		}
		counts, err := s.topicCounts(ctx, topics, start, end, v, buckets{}, nil, fh)
		if err != nil {
			return nil, err
		}
		var out []Trend
		for topic, c := range counts {
			if len(c) > 0 && int(c[0]) >= minPosts {
				out = append(out, Trend{Topic: topic, Posts: int64(c[0])})
			}
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Posts != out[j].Posts {
				return out[i].Posts > out[j].Posts
			}
			return out[i].Topic < out[j].Topic
		})
		complete := len(topics) < m // every topic of the covering hours was ranked
		if complete || len(out) >= n && beats(out[n-1], lastBound, lastTopic) {
			return out[:min(n, len(out))], nil
		}
		m *= 4
	}
}

// beats reports whether t ranks ahead of every topic that ranked after
// (bound, topic) by deliveries: those have at most bound posts, and exactly
// bound only with a name after topic.
func beats(t Trend, bound uint64, topic string) bool {
	c := uint64(t.Posts)
	return c > bound || c == bound && t.Topic <= topic
}

// coveringHours returns the whole hours [hs, he) covering the window
// [start, end) (Unix seconds): every post of the window is in them, so
// their deliveries bound the window's posts from above.
func coveringHours(start, end int64) (hs, he int64) {
	return floorTo(start, hourSecs), ceilTo(end, hourSecs)
}

// Point is one bucket of a time series.
type Point struct {
	Time  time.Time // bucket start
	Posts int64
}

func checkRange(from, to time.Time) (time.Time, time.Time, error) {
	from, to = from.UTC().Truncate(time.Minute), to.UTC().Truncate(time.Minute)
	if !from.Before(to) {
		return from, to, fmt.Errorf("invalid time range [%s, %s): empty after rounding to minutes", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}

// Timeline counts the topic's distinct posts per step in [from, to), each
// post in the bucket of its first appearance. Buckets start at from; every
// bucket is present (zero when empty). Times round down to the minute.
func (s *Store) Timeline(ctx context.Context, topic string, from, to time.Time, step time.Duration) ([]Point, error) {
	from, to, err := checkRange(from, to)
	if err != nil {
		return nil, err
	}
	if step < time.Minute {
		step = time.Minute
	}
	step = step.Truncate(time.Minute)
	n := int((to.Sub(from) + step - 1) / step)
	if n > 100000 {
		return nil, fmt.Errorf("timeline of %d buckets is too long; use a larger step", n)
	}
	// As in SpreadWith: count rows per bucket, and check alongside that
	// every post is one row in the range (the distinct posts cost a hash
	// set, the exact per-post query a hash table of first minutes: about
	// twice as much); redo it exactly when the check fails.
	var out []Point
	var posts, topicRows uint64
	err = runAll([]func() error{
		func() (err error) {
			out, err = s.timeline(ctx, qTimelineRows, topic, from, to, step, n)
			return err
		},
		func() error {
			p, err := s.freshPlan(ctx, from.Unix(), to.Unix())
			if err != nil {
				return err
			}
			posts, topicRows, _, _, err = s.spreadCheck(ctx, topic, p)
			return err
		},
	})
	if err != nil || posts == topicRows {
		return out, err
	}
	return s.timeline(ctx, qTimeline, topic, from, to, step, n)
}

// spreadCheck returns the topic's posts (a post counts once per hour it
// has rows in), rows, and first and last times over plan p: compacted
// hours' sums plus a raw count of the rest.
func (s *Store) spreadCheck(ctx context.Context, topic string, p plan) (posts, rows uint64, first, last time.Time, err error) {
	if err := s.conn.QueryRow(ctx, spreadCheckSQL(p), p.topicArgs(topic, 1)...).Scan(&posts, &rows, &first, &last); err != nil {
		return 0, 0, first, last, fmt.Errorf("cannot count posts of %q: %w", topic, err)
	}
	return posts, rows, first, last, nil
}

// timeline runs Timeline's query (qTimeline, or qTimelineRows when every
// post is one row in the range) for n buckets of step from from.
func (s *Store) timeline(ctx context.Context, query, topic string, from, to time.Time, step time.Duration, n int) ([]Point, error) {
	out := make([]Point, n)
	for i := range out {
		out[i].Time = from.Add(time.Duration(i) * step)
	}
	rows, err := s.conn.Query(ctx, query, from.Unix(), int64(step/time.Second), topic, from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("cannot query timeline of %q: %w", topic, err)
	}
	defer rows.Close()
	for rows.Next() {
		var bucket int64
		var c uint64
		if err := rows.Scan(&bucket, &c); err != nil {
			return nil, fmt.Errorf("cannot read timeline of %q: %w", topic, err)
		}
		if bucket >= 0 && bucket < int64(n) {
			out[bucket].Posts += int64(c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read timeline of %q: %w", topic, err)
	}
	return out, nil
}

// Count is a value with its number of distinct posts.
type Count struct {
	Key   string
	Posts int64
}

// Spread describes how a topic spread in [from, to).
type Spread struct {
	Topic      string
	Timeline   []Point // distinct new posts per step
	Cumulative []Point // running total of Timeline
	Posts      int64   // distinct posts
	// Distinct non-empty authors, sources and link domains.
	AuthorCount, SourceCount, DomainCount int64
	Authors                               []Count // top amplifiers: most posts first
	Sources, Domains                      []Count
	Languages, Platforms                  []Count
	FirstSeen, LastSeen                   time.Time
	SamplePosts                           []schema.Post // the earliest posts
	FactIDs                               []string      // facts matched by the topic's posts
}

// SpreadOptions bound the lists in a Spread; zero values take defaults.
type SpreadOptions struct {
	Step    time.Duration // timeline step; default: the range / 60, at least a minute
	Top     int           // entries per list; default 10
	Samples int           // sample posts; default 5
	Facts   int           // fact ids; default 50
}

// Spread reports the topic's timeline, reach and top amplifiers in
// [from, to) with default list sizes.
func (s *Store) Spread(ctx context.Context, topic string, from, to time.Time) (Spread, error) {
	return s.SpreadWith(ctx, topic, from, to, SpreadOptions{})
}

// SpreadWith is Spread with explicit list sizes and timeline step.
func (s *Store) SpreadWith(ctx context.Context, topic string, from, to time.Time, o SpreadOptions) (Spread, error) {
	sp := Spread{Topic: topic}
	from, to, err := checkRange(from, to)
	if err != nil {
		return sp, err
	}
	if o.Step <= 0 {
		o.Step = max(time.Minute, to.Sub(from)/60)
	}
	if o.Top <= 0 {
		o.Top = 10
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	if o.Facts <= 0 {
		o.Facts = 50
	}
	if o.Step < time.Minute {
		o.Step = time.Minute
	}
	o.Step = o.Step.Truncate(time.Minute)
	buckets := int((to.Sub(from) + o.Step - 1) / o.Step)
	if buckets > 100000 {
		return sp, fmt.Errorf("timeline of %d buckets is too long; use a larger step", buckets)
	}
	args := []any{topic, from.Unix(), to.Unix()}
	with := func(extra ...any) []any { return append(append([]any{}, args...), extra...) }
	// Optimistically, every post of the range is one row (the usual case:
	// re-deliveries merge away and few posts move in time), so the lists,
	// timeline and samples count rows; spreadCheck, run alongside, says
	// whether that held (from the compacted hours' counts and a raw check
	// of the rest). If not, they are redone with the exact per-post
	// queries. The parts are independent queries; running them at once
	// makes the latency that of the slowest, not the sum (the pool has 8
	// connections).
	p, err := s.freshPlan(ctx, from.Unix(), to.Unix())
	if err != nil {
		return sp, err
	}
	var posts, topicRows, authors, sources, domains uint64
	parts := []func() error{
		func() error {
			var err error
			posts, topicRows, sp.FirstSeen, sp.LastSeen, err = s.spreadCheck(ctx, topic, p)
			return err
		},
		func() (err error) {
			sp.Timeline, err = s.timeline(ctx, qTimelineRows, topic, from, to, o.Step, buckets)
			return err
		},
		func() (err error) {
			if sp.SamplePosts, err = s.samples(ctx, qSpreadEarliest, with(o.Samples, o.Samples)...); err != nil {
				return fmt.Errorf("cannot query sample posts of %q: %w", topic, err)
			}
			return nil
		},
		func() (err error) {
			if sp.FactIDs, err = s.strings(ctx, spreadFactsSQL(p), append(p.topicArgs(topic, 1), o.Facts)...); err != nil {
				return fmt.Errorf("cannot query facts of %q: %w", topic, err)
			}
			return nil
		},
		func() error {
			kp, err := s.keysPlan(ctx, topic, from.Unix(), to.Unix(), p)
			if err != nil {
				return err
			}
			if err := s.spreadKeys(ctx, &sp, o.Top, &authors, &sources, &domains, spreadKeysSQL(kp), kp.topicArgs(topic, 2)...); err != nil {
				return fmt.Errorf("cannot query spread of %q: %w", topic, err)
			}
			return nil
		},
	}
	if err := runAll(parts); err != nil {
		return sp, err
	}
	if posts != topicRows {
		sp.Authors, sp.Sources, sp.Domains, sp.Languages, sp.Platforms = nil, nil, nil, nil, nil
		parts = []func() error{
			func() error {
				err := s.conn.QueryRow(ctx, qSpreadTotals, args...).Scan(&posts, &authors, &sources, &domains, &sp.FirstSeen, &sp.LastSeen)
				if err != nil {
					return fmt.Errorf("cannot query spread of %q: %w", topic, err)
				}
				return nil
			},
			func() (err error) {
				sp.Timeline, err = s.timeline(ctx, qTimeline, topic, from, to, o.Step, buckets)
				return err
			},
			func() (err error) {
				if sp.SamplePosts, err = s.samples(ctx, qSpreadSamples, with(o.Samples, o.Samples)...); err != nil {
					return fmt.Errorf("cannot query sample posts of %q: %w", topic, err)
				}
				return nil
			},
			func() error {
				if err := s.spreadLists(ctx, &sp, with(o.Top)...); err != nil {
					return fmt.Errorf("cannot query spread of %q: %w", topic, err)
				}
				return nil
			},
		}
		if err := runAll(parts); err != nil {
			return sp, err
		}
	}
	sp.Posts, sp.AuthorCount, sp.SourceCount, sp.DomainCount = int64(posts), int64(authors), int64(sources), int64(domains)
	if posts == 0 {
		sp.FirstSeen, sp.LastSeen = time.Time{}, time.Time{}
	}
	sp.Cumulative = make([]Point, len(sp.Timeline))
	var sum int64
	for i, p := range sp.Timeline {
		sum += p.Posts
		sp.Cumulative[i] = Point{Time: p.Time, Posts: sum}
	}
	return sp, nil
}

// runAll runs the parts concurrently and joins their errors.
func runAll(parts []func() error) error {
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = part()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// spreadKeys fills the top-key lists of sp, and the distinct authors,
// sources and domains, from spreadKeysSQL's rows per key (every key of
// every list: the top is kept here, most posts first, then by key).
func (s *Store) spreadKeys(ctx context.Context, sp *Spread, top int, authors, sources, domains *uint64, query string, args ...any) error {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var all [6][]Count
	for rows.Next() {
		var dim uint8
		var c Count
		var n uint64
		if err := rows.Scan(&dim, &c.Key, &n); err != nil {
			return err
		}
		if dim == 0 || int(dim) >= len(all) {
			return fmt.Errorf("spread list %d out of range", dim)
		}
		c.Posts = int64(n)
		all[dim] = append(all[dim], c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Empty keys never reach lists 1-3 (see spreadKeysSQL), so their lengths
	// are the distinct non-empty authors, sources and domains.
	*authors, *sources, *domains = uint64(len(all[1])), uint64(len(all[2])), uint64(len(all[3]))
	lists := [...]*[]Count{1: &sp.Authors, 2: &sp.Sources, 3: &sp.Domains, 4: &sp.Languages, 5: &sp.Platforms}
	for dim := 1; dim < len(all); dim++ {
		cs := all[dim]
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].Posts != cs[j].Posts {
				return cs[i].Posts > cs[j].Posts
			}
			return cs[i].Key < cs[j].Key
		})
		if len(cs) > 0 {
			*lists[dim] = cs[:min(top, len(cs)):min(top, len(cs))]
		}
	}
	return nil
}

// spreadLists fills the top-key lists of sp from one qSpreadLists scan.
func (s *Store) spreadLists(ctx context.Context, sp *Spread, args ...any) error {
	rows, err := s.conn.Query(ctx, qSpreadLists, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	lists := [...]*[]Count{1: &sp.Authors, 2: &sp.Sources, 3: &sp.Domains, 4: &sp.Languages, 5: &sp.Platforms}
	for rows.Next() {
		var dim uint8
		var c Count
		var n uint64
		if err := rows.Scan(&dim, &c.Key, &n); err != nil {
			return err
		}
		if dim == 0 || int(dim) >= len(lists) {
			return fmt.Errorf("spread list %d out of range", dim)
		}
		c.Posts = int64(n)
		*lists[dim] = append(*lists[dim], c)
	}
	return rows.Err()
}

func (s *Store) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Store) samples(ctx context.Context, query string, args ...any) ([]schema.Post, error) {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schema.Post
	for rows.Next() {
		var p schema.Post
		var h uint64
		if err := rows.Scan(&p.ID, &p.Source, &p.Platform, &p.URL, &p.CanonicalURL, &p.Author, &p.Lang, &p.Title,
			&p.Text, &p.Published, &p.Fetched, &h); err != nil {
			return nil, err
		}
		p.V = schema.Version
		out = append(out, p)
	}
	return out, rows.Err()
}

// FactQuery filters Facts.
type FactQuery struct {
	Q       string // case-insensitive substring of claim, title or summary (web's facts search folds diacritics over FactTexts instead)
	Verdict string
	Lang    string
	Limit   int // default 50, at most 1000
	Offset  int
}

// Facts lists the latest version of every live fact matching q, most
// recently updated first.
func (s *Store) Facts(ctx context.Context, q FactQuery) ([]schema.Fact, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 1000)
	q.Offset = max(q.Offset, 0)
	return s.facts(ctx, qFacts, q.Q, q.Q, q.Q, q.Q, q.Verdict, q.Verdict, q.Lang, q.Lang, q.Offset, q.Limit)
}

// FactText is a live fact's searchable text.
type FactText struct {
	ID, Claim, Title, Summary, Lang string
	Tags, Translations              []string
}

// FactTexts lists the searchable text of every live fact with the verdict
// and language given ("" for any), most recently updated first. Facts
// search folds and filters it in Go (analyze/text's folding, which SQL
// on 18.16 cannot do); at 15k facts that is one aggregation, as a page of
// Facts costs, plus a few MB.
func (s *Store) FactTexts(ctx context.Context, verdict, lang string) ([]FactText, error) {
	rows, err := s.conn.Query(ctx, qFactTexts, verdict, verdict, lang, lang)
	if err != nil {
		return nil, fmt.Errorf("cannot query facts: %w", err)
	}
	defer rows.Close()
	var out []FactText
	for rows.Next() {
		var f FactText
		if err := rows.Scan(&f.ID, &f.Claim, &f.Title, &f.Summary, &f.Lang, &f.Tags, &f.Translations); err != nil {
			return nil, fmt.Errorf("cannot read facts: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read facts: %w", err)
	}
	return out, nil
}

// FactsByID returns the live facts among ids, in the order of ids.
func (s *Store) FactsByID(ctx context.Context, ids []string) ([]schema.Fact, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	set := make([]any, len(ids))
	for i, id := range ids {
		set[i] = id
	}
	fs, err := s.facts(ctx, qFactsByID, ch.GroupSet{Value: set})
	if err != nil {
		return nil, err
	}
	pos := make(map[string]int, len(ids))
	for i, id := range ids {
		pos[id] = i
	}
	slices.SortFunc(fs, func(a, b schema.Fact) int { return pos[a.ID] - pos[b.ID] })
	return fs, nil
}

// Fact returns the latest version of one fact, or ErrNotFound when it does
// not exist or was deleted.
func (s *Store) Fact(ctx context.Context, id string) (schema.Fact, error) {
	fs, err := s.facts(ctx, qFact, id)
	if err != nil {
		return schema.Fact{}, err
	}
	if len(fs) == 0 {
		return schema.Fact{}, fmt.Errorf("fact %q: %w", id, ErrNotFound)
	}
	return fs[0], nil
}

func (s *Store) facts(ctx context.Context, q string, args ...any) ([]schema.Fact, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot query facts: %w", err)
	}
	defer rows.Close()
	var out []schema.Fact
	for rows.Next() {
		var f schema.Fact
		var langs, texts []string
		if err := rows.Scan(&f.ID, &f.Claim, &f.Title, &f.Summary, &f.Lang, &f.Verdict, &f.Rating, &f.Publisher,
			&f.URL, &f.Date, &f.Tags, &langs, &texts, &f.Appearances, &f.Updated); err != nil {
			return nil, fmt.Errorf("cannot read facts: %w", err)
		}
		f.V = schema.Version
		f.Date, f.Updated = zeroEpoch(f.Date), zeroEpoch(f.Updated)
		if len(f.Tags) == 0 {
			f.Tags = nil
		}
		if len(f.Appearances) == 0 {
			f.Appearances = nil
		}
		if len(langs) > 0 && len(langs) == len(texts) {
			f.Translations = make(map[string]string, len(langs))
			for i := range langs {
				f.Translations[langs[i]] = texts[i]
			}
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read facts: %w", err)
	}
	return out, nil
}

// zeroEpoch maps DateTime's zero (the epoch) back to Go's zero time.
func zeroEpoch(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

// Sources lists the live sources by id.
func (s *Store) Sources(ctx context.Context) ([]schema.Source, error) {
	rows, err := s.conn.Query(ctx, qSources)
	if err != nil {
		return nil, fmt.Errorf("cannot query sources: %w", err)
	}
	defer rows.Close()
	var out []schema.Source
	for rows.Next() {
		var src schema.Source
		var interval int64
		var enabled uint8
		var keys, vals []string
		if err := rows.Scan(&src.ID, &src.Kind, &src.URL, &src.Name, &src.Lang, &interval, &enabled, &keys, &vals, &src.Created); err != nil {
			return nil, fmt.Errorf("cannot read sources: %w", err)
		}
		src.Interval = time.Duration(interval) * time.Millisecond
		src.Enabled = enabled == 1
		src.Created = zeroEpoch(src.Created)
		if len(keys) > 0 && len(keys) == len(vals) {
			src.Options = make(map[string]string, len(keys))
			for i := range keys {
				src.Options[keys[i]] = vals[i]
			}
		}
		out = append(out, src)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read sources: %w", err)
	}
	return out, nil
}

// SourceStatuses lists the latest status of every source that reported.
func (s *Store) SourceStatuses(ctx context.Context) ([]schema.SourceStatus, error) {
	rows, err := s.conn.Query(ctx, qSourceStatuses)
	if err != nil {
		return nil, fmt.Errorf("cannot query source statuses: %w", err)
	}
	defer rows.Close()
	var out []schema.SourceStatus
	for rows.Next() {
		var st schema.SourceStatus
		var failures, newItems int64
		if err := rows.Scan(&st.SourceID, &st.LastAttempt, &st.LastSuccess, &st.LastError, &st.LastErrorAt,
			&failures, &st.ItemsPerDay, &st.NextPoll, &newItems, &st.Health, &st.HealthDetail, &st.ErrorKind, &st.Title); err != nil {
			return nil, fmt.Errorf("cannot read source statuses: %w", err)
		}
		st.Failures, st.LastNewItems = int(failures), int(newItems)
		st.LastAttempt, st.LastSuccess = zeroEpoch(st.LastAttempt), zeroEpoch(st.LastSuccess)
		st.LastErrorAt, st.NextPoll = zeroEpoch(st.LastErrorAt), zeroEpoch(st.NextPoll)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read source statuses: %w", err)
	}
	return out, nil
}

// CaseQuery filters Cases.
type CaseQuery struct {
	State  string
	FactID string
	Limit  int // default 50, at most 1000
	Offset int
}

// Cases lists the latest version of each case, most recently updated first.
func (s *Store) Cases(ctx context.Context, q CaseQuery) ([]CaseRow, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 1000)
	q.Offset = max(q.Offset, 0)
	rows, err := s.conn.Query(ctx, qCases, q.State, q.State, q.FactID, q.FactID, q.Offset, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("cannot query cases: %w", err)
	}
	defer rows.Close()
	var out []CaseRow
	for rows.Next() {
		var c CaseRow
		if err := rows.Scan(&c.ID, &c.FactID, &c.State, &c.Severity, &c.Opened, &c.Updated, &c.Version, &c.Body); err != nil {
			return nil, fmt.Errorf("cannot read cases: %w", err)
		}
		c.Opened, c.Updated = zeroEpoch(c.Opened), zeroEpoch(c.Updated)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read cases: %w", err)
	}
	return out, nil
}

// Case returns the latest version of the case with id; ok is false when
// there is none.
func (s *Store) Case(ctx context.Context, id string) (c CaseRow, ok bool, err error) {
	rows, err := s.conn.Query(ctx, qCase, id)
	if err != nil {
		return c, false, fmt.Errorf("cannot query case %q: %w", id, err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&c.ID, &c.FactID, &c.State, &c.Severity, &c.Opened, &c.Updated, &c.Version, &c.Body); err != nil {
			return c, false, fmt.Errorf("cannot read case %q: %w", id, err)
		}
		c.Opened, c.Updated = zeroEpoch(c.Opened), zeroEpoch(c.Updated)
		ok = true
	}
	if err := rows.Err(); err != nil {
		return c, false, fmt.Errorf("cannot read case %q: %w", id, err)
	}
	return c, ok, nil
}

// CaseEvents returns a case's history, oldest first, each event once.
func (s *Store) CaseEvents(ctx context.Context, caseID string) ([]CaseEvent, error) {
	if caseID == "" {
		return nil, errors.New("cannot list case events: empty case id")
	}
	rows, err := s.conn.Query(ctx, qCaseEvents, caseID)
	if err != nil {
		return nil, fmt.Errorf("cannot query events of case %q: %w", caseID, err)
	}
	defer rows.Close()
	var out []CaseEvent
	for rows.Next() {
		e := CaseEvent{CaseID: caseID}
		if err := rows.Scan(&e.ID, &e.Time, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, fmt.Errorf("cannot read events of case %q: %w", caseID, err)
		}
		e.Time = zeroEpoch(e.Time)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read events of case %q: %w", caseID, err)
	}
	return out, nil
}
