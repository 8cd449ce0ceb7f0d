package clickhouse

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// view is a language and platform filter ("" = all). Unfiltered views
// read the compacted ('*', '*') rows, which count a post once per hour;
// filtered ones the (language, platform) rows, once per hour under each
// (a post re-delivered in the same hour in another language counts under
// both). Raw ranges group the same way, so both agree to the post.
type view struct{ lang, platform string }

func (v view) filtered() bool { return v.lang != "" || v.platform != "" }

// compactedWhere selects the view's compacted rows; it takes v.args()
// (lang, lang, platform, platform). Plain equalities, not langPlat's
// "(? = ” OR lang = ?)": 18.16 cannot use the sort key (topic, lang,
// platform, hour) through the OR, and reading every group's sketches made
// a week's filtered authors 200-300 ms instead of 35. The '*' rows have
// both keys '*', so an equality on either excludes them.
func (v view) compactedWhere() string {
	switch {
	case !v.filtered():
		return "lang = '*' AND ? = ? AND ? = ?"
	case v.platform == "":
		return "lang = ? AND lang = ? AND ? = ?"
	case v.lang == "":
		return "? = ? AND platform = ? AND platform = ?"
	}
	return "lang = ? AND lang = ? AND platform = ? AND platform = ?"
}

func (v view) args() []any { return []any{v.lang, v.lang, v.platform, v.platform} }

// rawUnit is the raw ranges' GROUP BY suffix for the view's counting
// unit, after the topic and any bucket.
func (v view) rawUnit() string {
	if v.filtered() {
		return ", intDiv(toUInt32(minute), 3600), lang, platform"
	}
	return ", intDiv(toUInt32(minute), 3600)"
}

// buckets places times in a series: bucket = (t - origin) / step,
// truncated towards zero (times less than a step before origin are in
// bucket 0), the last absorbing the remainder (done by the caller). step
// 0 = one bucket.
type buckets struct{ origin, step int64 }

func (b buckets) expr(col string) string {
	if b.step <= 0 {
		return "toInt64(0)"
	}
	return "toInt64(intDiv(toInt64(toUInt32(" + col + ")) - " + strconv.FormatInt(b.origin, 10) + ", " + strconv.FormatInt(b.step, 10) + "))"
}

// countsSQL counts each topic's posts per bucket over plan p: compacted
// hours' posts plus raw ranges' distinct posts per hour (and language and
// platform when filtered). args: topics and the view's filter once per
// part (partArgs).
func countsSQL(p plan, v view, b buckets) string {
	var parts []string
	if len(p.pins) > 0 {
		parts = append(parts, "SELECT topic, "+b.expr("hour")+" AS b, posts AS p FROM topic_hour_exact\n    WHERE topic IN ? AND "+
			pinsSQL("hour", p.pins)+" AND "+v.compactedWhere())
	}
	if len(p.raw) > 0 {
		parts = append(parts, "SELECT topic, "+b.expr("minute")+" AS b, uniqExact(post_h) AS p FROM topic_posts\n    WHERE topic IN ? AND "+
			rawSQL(p.raw)+langPlat+"\n    GROUP BY topic, b"+v.rawUnit())
	}
	return "SELECT topic, b, sum(p) FROM (\n    " + strings.Join(parts, "\n    UNION ALL\n    ") + "\n)\nGROUP BY topic, b"
}

// partArgs repeats the topics and filter for each part of a UNION built
// from a plan.
func partArgs(n int, topics []any, v view) []any {
	var args []any
	for range n {
		args = append(append(args, ch.GroupSet{Value: topics}), v.args()...)
	}
	return args
}

// topicArgs is the topic once per compacted part and rawTimes times for
// the raw part, as the Spread statements built from p take it.
func (p plan) topicArgs(topic string, rawTimes int) []any {
	var args []any
	if len(p.pins) > 0 {
		args = append(args, topic)
	}
	if len(p.raw) > 0 {
		for range rawTimes {
			args = append(args, topic)
		}
	}
	return args
}

func (p plan) parts() int {
	n := 0
	if len(p.pins) > 0 {
		n++
	}
	if len(p.raw) > 0 {
		n++
	}
	return n
}

// authorsSQL estimates each topic's distinct authors over ap: the union
// of the HyperLogLogs of compacted days and hours and of the raw ranges'
// rows (uniqHLL12: a union of sketches is the sketch of the union, so the
// estimate is the same however the window was split).
func authorsSQL(ap authorPlan, v view) (string, int) {
	var parts []string
	if len(ap.days) > 0 {
		parts = append(parts, "SELECT topic, authors AS a FROM topic_day_authors\n    WHERE topic IN ? AND "+pinsSQL("day", ap.days)+" AND "+v.compactedWhere())
	}
	if len(ap.hours.pins) > 0 {
		parts = append(parts, "SELECT topic, authors AS a FROM topic_hour_exact\n    WHERE topic IN ? AND "+pinsSQL("hour", ap.hours.pins)+" AND "+v.compactedWhere())
	}
	if len(ap.hours.raw) > 0 {
		parts = append(parts, "SELECT topic, uniqHLL12StateIf(cityHash64(author), author != '') AS a FROM topic_posts\n    WHERE topic IN ? AND "+
			rawSQL(ap.hours.raw)+langPlat+"\n    GROUP BY topic")
	}
	return "SELECT topic, uniqHLL12Merge(a) FROM (\n    " + strings.Join(parts, "\n    UNION ALL\n    ") + "\n)\nGROUP BY topic", len(parts)
}

// spreadCheckSQL sums one topic's units (a post in an hour), rows and
// first and last times over plan p, for Spread's question whether every
// unit is one row. The raw part groups by topic so that no rows yield no
// row (an ungrouped aggregate would yield a 1970 minimum). args: topic
// once per part.
func spreadCheckSQL(p plan) string {
	var parts []string
	if len(p.pins) > 0 {
		parts = append(parts, "SELECT posts AS p, topic_rows AS r, first_ts AS f, last_ts AS l FROM topic_hour_exact\n    WHERE topic = ? AND "+
			pinsSQL("hour", p.pins)+" AND lang = '*'")
	}
	if len(p.raw) > 0 {
		parts = append(parts, "SELECT uniqExact(post_h, intDiv(toUInt32(minute), 3600)) AS p, count() AS r, min(ts) AS f, max(ts) AS l FROM topic_posts\n    WHERE topic = ? AND "+
			rawSQL(p.raw)+"\n    GROUP BY topic")
	}
	return "SELECT sum(p), sum(r), min(f), max(l) FROM (\n    " + strings.Join(parts, "\n    UNION ALL\n    ") + "\n)"
}

// topicCounts runs countsSQL for the topics over [start, end), in
// buckets b (step 0: totals), and returns posts per topic and bucket.
func (s *Store) topicCounts(ctx context.Context, topics []any, start, end int64, v view, b buckets, cuts []int64, fh map[int64]uint64) (map[string][]uint64, error) {
	out := map[string][]uint64{}
	p := planHours(start, end, fh, cuts)
	if len(topics) == 0 || p.parts() == 0 {
		return out, nil
	}
	rows, err := s.conn.Query(ctx, countsSQL(p, v, b), partArgs(p.parts(), topics, v)...)
	if err != nil {
		return nil, fmt.Errorf("cannot query topic counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var topic string
		var bucket int64
		var n uint64
		if err := rows.Scan(&topic, &bucket, &n); err != nil {
			return nil, fmt.Errorf("cannot read topic counts: %w", err)
		}
		if bucket < 0 {
			continue
		}
		c := out[topic]
		for int64(len(c)) <= bucket {
			c = append(c, 0)
		}
		c[bucket] += n
		out[topic] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read topic counts: %w", err)
	}
	return out, nil
}

// topicAuthors runs authorsSQL for the topics over [start, end).
func (s *Store) topicAuthors(ctx context.Context, topics []any, start, end int64, v view, fh, fd map[int64]uint64) (map[string]uint64, error) {
	q, n := authorsSQL(planAuthors(start, end, fh, fd), v)
	if len(topics) == 0 || n == 0 {
		return map[string]uint64{}, nil
	}
	return s.authorCounts(ctx, q, partArgs(n, topics, v)...)
}

// authorCounts runs q, whose rows are (topic, authors), into a map.
func (s *Store) authorCounts(ctx context.Context, q string, args ...any) (map[string]uint64, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot query trend authors: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var topic string
		var n uint64
		if err := rows.Scan(&topic, &n); err != nil {
			return nil, fmt.Errorf("cannot read trend authors: %w", err)
		}
		out[topic] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read trend authors: %w", err)
	}
	return out, nil
}

// spreadKeysSQL counts rows per key of every list over plan p, all keys
// (the caller keeps the top and counts the distinct keys): compacted
// hours' rows per key (topic_hour_keys) plus the raw ranges' rows, authors
// alone and the four small lists from one GROUP BY of their combinations,
// fanned out by ARRAY JOIN. Only when every post is one row in each hour
// (spreadCheck). args: topic once for the compacted part, twice for the
// raw part.
func spreadKeysSQL(p plan) string {
	var parts []string
	if len(p.pins) > 0 {
		parts = append(parts, "SELECT dim, key AS k, topic_rows AS c FROM topic_hour_keys\n    WHERE topic = ? AND "+pinsSQL("hour", p.pins))
	}
	if len(p.raw) > 0 {
		where := " topic = ? AND " + rawSQL(p.raw)
		parts = append(parts, `SELECT dim, k, c FROM (
        SELECT [1] AS dims, [author] AS keys, count() AS c FROM topic_posts WHERE`+where+` GROUP BY author
        UNION ALL
        SELECT [2, 3, 4, 5] AS dims, [source, domain, lang, platform] AS keys, count() AS c
        FROM topic_posts WHERE`+where+` GROUP BY source, domain, lang, platform
    )
    ARRAY JOIN dims AS dim, keys AS k
    WHERE k != '' OR dim >= 4`)
	}
	return "SELECT dim, k, sum(c) AS n FROM (\n    " + strings.Join(parts, "\n    UNION ALL\n    ") + "\n)\nGROUP BY dim, k"
}

// keyHoursSQL lists which of plan p's compacted hours have the topic's
// Spread lists compacted (those that had at least keyRowsMin rows, see
// qCompactHourKeys), from the lists themselves: every compacted hour of a
// topic has a language row (dim 4), and one statement wrote all of them,
// so this cannot disagree with what is there. args: topic.
func keyHoursSQL(p plan) string {
	return "SELECT toUInt32(hour), any(version) FROM topic_hour_keys\nWHERE topic = ? AND " + pinsSQL("hour", p.pins) +
		" AND dim = 4\nGROUP BY hour"
}

// keysPlan is plan p of [from, to) with only the compacted hours whose
// Spread lists were compacted; the topic's small hours are read raw.
func (s *Store) keysPlan(ctx context.Context, topic string, from, to int64, p plan) (plan, error) {
	if len(p.pins) == 0 {
		return p, nil
	}
	rows, err := s.conn.Query(ctx, keyHoursSQL(p), topic)
	if err != nil {
		return p, fmt.Errorf("cannot query compacted hours of %q: %w", topic, err)
	}
	defer rows.Close()
	big := map[int64]uint64{}
	for rows.Next() {
		var h uint32
		var v uint64
		if err := rows.Scan(&h, &v); err != nil {
			return p, fmt.Errorf("cannot read compacted hours of %q: %w", topic, err)
		}
		big[int64(h)] = v
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("cannot read compacted hours of %q: %w", topic, err)
	}
	return planHours(from, to, big, nil), nil
}

// spreadFactsSQL lists the facts matched by the topic's posts over plan
// p: compacted hours' facts (topic_hour_facts) and the raw ranges'. For
// the raw ranges the innermost set is every matched post (~2% of posts),
// not every post of the topic: a hash set of the few, probed by the
// topic's rows (85 ms against 250 ms for a topic of 2.2M rows). GROUP BY,
// not DISTINCT: 18.16 returns a value once per stream for DISTINCT ...
// ORDER BY when a table has several parts. args: topic once per part,
// then the limit.
func spreadFactsSQL(p plan) string {
	var parts []string
	if len(p.pins) > 0 {
		parts = append(parts, "SELECT fact_id FROM topic_hour_facts WHERE topic = ? AND "+pinsSQL("hour", p.pins))
	}
	if len(p.raw) > 0 {
		parts = append(parts, `SELECT fact_id FROM matches
    WHERE post_h IN (
        SELECT post_h FROM topic_posts
        WHERE topic = ? AND `+rawSQL(p.raw)+` AND post_h IN (SELECT post_h FROM matches)
    )`)
	}
	return "SELECT fact_id FROM (\n    " + strings.Join(parts, "\n    UNION ALL\n    ") + "\n)\nGROUP BY fact_id\nORDER BY fact_id\nLIMIT ?"
}

// Trend authors come from sketches (uniqHLL12: exact up to 16 authors,
// within ~2% above), and, for unfiltered views, exactly from the rows for
// the topics the sketch puts below exactAuthorsBelow: a sketch's error
// shows on small numbers (21 for 22). Smallest topics first, as long as
// their posts (about their rows) stay within exactAuthorsRows, so the
// exact part reads a bounded number of rows whatever the data. Filtered
// views keep the sketch: their rows are the topics' unfiltered rows, which
// the store does not know without another query.
var exactAuthorsBelow int64 = 5000 // a variable for tests

const exactAuthorsRows = 300_000

func topicsOf(ts []Trend) []any {
	out := make([]any, len(ts))
	for i := range ts {
		out[i] = ts[i].Topic
	}
	return out
}

// trendAuthors sets the Authors of out over [start, end) (see
// exactAuthorsBelow).
func (s *Store) trendAuthors(ctx context.Context, out []Trend, start, end int64, v view, fh, fd map[int64]uint64) error {
	a, err := s.topicAuthors(ctx, topicsOf(out), start, end, v, fh, fd)
	if err != nil {
		return err
	}
	var cands []int
	for i := range out {
		out[i].Authors = int64(a[out[i].Topic])
		out[i].AuthorsEstimated = out[i].Authors > 16
		if !v.filtered() && out[i].AuthorsEstimated && out[i].Authors < exactAuthorsBelow {
			cands = append(cands, i)
		}
	}
	sort.Slice(cands, func(x, y int) bool { return out[cands[x]].Posts < out[cands[y]].Posts })
	var small []any
	rows := int64(0)
	for _, i := range cands {
		if rows += out[i].Posts; rows > exactAuthorsRows {
			break
		}
		small = append(small, out[i].Topic)
	}
	if len(small) == 0 {
		return nil
	}
	exact, err := s.authorCounts(ctx, qTrendAuthorsExact, append([]any{ch.GroupSet{Value: small}, start, end}, v.args()...)...)
	if err != nil {
		return err
	}
	for i := range out {
		if n, ok := exact[out[i].Topic]; ok {
			out[i].Authors, out[i].AuthorsEstimated = int64(n), false
		}
	}
	return nil
}
