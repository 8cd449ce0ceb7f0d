package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/go-faster/city"

	"github.com/trendwatch/trendwatch/schema"
)

// ErrNotFound is returned by single-record lookups when nothing matches.
var ErrNotFound = errors.New("not found")

// DateTime's range; values outside are clamped so one odd timestamp (a
// zero time, a year-3000 typo) cannot fail a whole batch.
var (
	minDateTime = time.Unix(0, 0).UTC()
	maxDateTime = time.Unix(1<<32-1, 0).UTC()
)

func dt(t time.Time) time.Time {
	switch {
	case t.Before(minDateTime):
		return minDateTime
	case t.After(maxDateTime):
		return maxDateTime
	}
	return t.UTC()
}

// lastVersion makes versions strictly increasing within a process even
// when the clock stalls or two writes share a nanosecond.
var lastVersion atomic.Uint64

func (s *Store) nextVersion() uint64 {
	now := uint64(s.now().UnixNano())
	for {
		last := lastVersion.Load()
		v := max(now, last+1)
		if lastVersion.CompareAndSwap(last, v) {
			return v
		}
	}
}

// Domain returns the host a post links to (canonical URL first), lower
// case, without port or a leading "www.", or "" when there is none.
func Domain(p *schema.Post) string {
	for _, raw := range []string{p.CanonicalURL, p.URL} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			continue
		}
		return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	}
	return ""
}

// postTime is when the post appeared: published, else fetched.
func postTime(p *schema.Post) time.Time {
	if !p.Published.IsZero() {
		return p.Published
	}
	return p.Fetched
}

type batchWriter struct {
	name  string
	batch driver.Batch
	rows  int
}

func (s *Store) prepare(ctx context.Context, name, q string) (*batchWriter, error) {
	b, err := s.conn.PrepareBatch(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("cannot prepare %s insert: %w", name, err)
	}
	return &batchWriter{name: name, batch: b}, nil
}

func (w *batchWriter) append(vals ...any) error {
	if err := w.batch.Append(vals...); err != nil {
		return fmt.Errorf("cannot append %s row: %w", w.name, err)
	}
	w.rows++
	return nil
}

func (w *batchWriter) send() error {
	if w.rows == 0 {
		return w.batch.Abort()
	}
	if err := w.batch.Send(); err != nil {
		writeErrors.WithLabelValues(w.name).Inc()
		return fmt.Errorf("cannot insert %d %s rows: %w", w.rows, w.name, err)
	}
	rowsWritten.WithLabelValues(w.name).Add(float64(w.rows))
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// idHash is ClickHouse's cityHash64 of s (CityHash v1.0.2, which
// go-faster/city's CH64 implements bit for bit; TestIDHashMatchesServer
// checks it against the server). Posts are keyed by it (see
// 001_posts.sql); computing it here spares the server a hash per row.
func idHash(s string) uint64 { return city.CH64([]byte(s)) }

// columns is one insert's data, column by column, in the order its INSERT
// names them: each is a typed slice ([]string, []uint64, []time.Time, ...)
// appended to the batch whole, which skips clickhouse-go's per-row,
// per-value reflection (the row-wise Append was most of WriteAnalyzed's
// client CPU).
type columns struct {
	name, query string
	rows        int
	cols        []any
}

func (s *Store) sendColumns(ctx context.Context, c columns) error {
	if c.rows == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, c.query)
	if err != nil {
		return fmt.Errorf("cannot prepare %s insert: %w", c.name, err)
	}
	for i, col := range c.cols {
		if err := b.Column(i).Append(col); err != nil {
			b.Abort()
			return fmt.Errorf("cannot append %s column %d: %w", c.name, i, err)
		}
	}
	if err := b.Send(); err != nil {
		writeErrors.WithLabelValues(c.name).Inc()
		return fmt.Errorf("cannot insert %d %s rows: %w", c.rows, c.name, err)
	}
	rowsWritten.WithLabelValues(c.name).Add(float64(c.rows))
	return nil
}

// WriteAnalyzed stores posts with their topic rows and fact matches, one
// batch per table. It is idempotent: writing the same posts again stores
// and counts each once. Posts must carry an id (validate them first); a
// batch with an invalid post is refused whole, before anything is written.
func (s *Store) WriteAnalyzed(ctx context.Context, items []schema.Analyzed) error {
	if len(items) == 0 {
		return nil
	}
	for i := range items {
		if items[i].ID == "" {
			return fmt.Errorf("cannot write analyzed post %d: post has no id", i)
		}
	}
	ingested := dt(s.now())
	n := len(items)
	// Posts, and the per-post values the other tables repeat.
	var (
		hs                                   = make([]uint64, n)
		ids, sources, platforms, urls, canon = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		authors, langs, titles, texts        = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		published, fetched, ingestedCol      = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		likes, shares, replies               = make([]int64, n), make([]int64, n), make([]int64, n)
		topics, factIDs                      = make([][]string, n), make([][]string, n)
		domains                              = make([]string, n)
		topicRows, matchRows                 int
	)
	for i := range items {
		a := &items[i]
		hs[i] = idHash(a.ID)
		ids[i], sources[i], platforms[i], urls[i], canon[i] = a.ID, a.Source, a.Platform, a.URL, a.CanonicalURL
		authors[i], langs[i], titles[i], texts[i] = a.Author, a.Lang, a.Title, a.Text
		published[i], fetched[i], ingestedCol[i] = dt(postTime(&a.Post)), dt(a.Fetched), ingested
		likes[i], shares[i], replies[i] = a.Engagement.Likes, a.Engagement.Shares, a.Engagement.Replies
		topics[i] = uniqueStrings(a.Topics)
		domains[i] = Domain(&a.Post)
		topicRows += len(topics[i])
		f := make([]string, 0, len(a.Matches))
		for _, m := range a.Matches {
			if m.FactID != "" {
				f = append(f, m.FactID)
				matchRows++
			}
		}
		factIDs[i] = uniqueStrings(f)
	}
	// Topic rows: one per (post, distinct topic).
	var (
		tTopic, tAuthor, tSource, tDomain, tPlatform, tLang = make([]string, 0, topicRows), make([]string, 0, topicRows), make([]string, 0, topicRows), make([]string, 0, topicRows), make([]string, 0, topicRows), make([]string, 0, topicRows)
		tMinute, tTS, tIngested                             = make([]time.Time, 0, topicRows), make([]time.Time, 0, topicRows), make([]time.Time, 0, topicRows)
		tH                                                  = make([]uint64, 0, topicRows)
	)
	for i := range items {
		minute := published[i].Truncate(time.Minute)
		for _, topic := range topics[i] {
			tTopic, tAuthor, tSource = append(tTopic, topic), append(tAuthor, authors[i]), append(tSource, sources[i])
			tDomain, tPlatform, tLang = append(tDomain, domains[i]), append(tPlatform, platforms[i]), append(tLang, langs[i])
			tMinute, tTS, tIngested, tH = append(tMinute, minute), append(tTS, published[i]), append(tIngested, ingested), append(tH, hs[i])
		}
	}
	// Matches: one per (post, match with a fact id).
	var (
		mPostID, mFactID, mVerdict = make([]string, 0, matchRows), make([]string, 0, matchRows), make([]string, 0, matchRows)
		mH                         = make([]uint64, 0, matchRows)
		mScore                     = make([]float64, 0, matchRows)
		mPublished, mDetected      = make([]time.Time, 0, matchRows), make([]time.Time, 0, matchRows)
	)
	for i := range items {
		for _, m := range items[i].Matches {
			if m.FactID == "" {
				continue
			}
			mPostID, mH, mFactID, mScore, mVerdict = append(mPostID, ids[i]), append(mH, hs[i]), append(mFactID, m.FactID), append(mScore, m.Score), append(mVerdict, m.Verdict)
			mPublished, mDetected = append(mPublished, published[i]), append(mDetected, ingested)
		}
	}
	lTopic, lLabel, lDay, lPosts := labelRows(items, published)
	inserts := []columns{
		// topic_posts first: with its two views it is the slowest insert,
		// so it starts first.
		{"topic_posts", qInsertTopicPosts, len(tTopic), []any{tTopic, tMinute, tH, tAuthor, tSource, tDomain, tPlatform, tLang, tTS, tIngested}},
		{"posts", qInsertPosts, n, []any{hs, ids, sources, platforms, urls, canon, authors, langs, titles, texts,
			published, fetched, likes, shares, replies, topics, factIDs, ingestedCol}},
		{"matches", qInsertMatches, len(mPostID), []any{mPostID, mH, mFactID, mScore, mVerdict, mPublished, mDetected}},
		{"topic_labels", qInsertLabels, len(lTopic), []any{lTopic, lLabel, lDay, lPosts}},
	}
	// The tables are written concurrently (each batch holds its own
	// connection): ClickHouse has no cross-table atomicity anyway, and a
	// partial failure is repaired by re-delivery, whose rows collapse with
	// those already written.
	errs := make([]error, len(inserts))
	var wg sync.WaitGroup
	for i := range inserts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.sendColumns(ctx, inserts[i])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// maxLabelBytes bounds a stored label: a display form is a phrase or a
// headline, and a runaway title must not make megabyte rows.
const maxLabelBytes = 300

// labelRows counts the batch's (topic, label, UTC day) triples, each once
// per post (a post naming a topic twice says one spelling), as
// topic_labels' rows (migration 011): a batch's many posts of one story
// or phrase become one row per spelling. Sorted, so a batch's rows are
// deterministic.
func labelRows(items []schema.Analyzed, published []time.Time) (topics, labels []string, days []time.Time, posts []uint64) {
	type key struct {
		topic, label string
		day          int64
	}
	counts := map[key]uint64{}
	var done []string // this post's labelled topics: a post's keys are few, a scan beats a set
	for i := range items {
		a := &items[i]
		day := published[i].Unix() / 86400 * 86400
		done = done[:0]
		for j := range min(len(a.Topics), len(a.Labels)) {
			t, l := a.Topics[j], strings.TrimSpace(a.Labels[j])
			if t == "" || l == "" || slices.Contains(done, t) {
				continue
			}
			done = append(done, t)
			if len(l) > maxLabelBytes {
				l = strings.ToValidUTF8(l[:maxLabelBytes], "")
			}
			counts[key{t, l, day}]++
		}
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].topic != keys[j].topic {
			return keys[i].topic < keys[j].topic
		}
		if keys[i].label != keys[j].label {
			return keys[i].label < keys[j].label
		}
		return keys[i].day < keys[j].day
	})
	for _, k := range keys {
		topics, labels = append(topics, k.topic), append(labels, k.label)
		days, posts = append(days, time.Unix(k.day, 0).UTC()), append(posts, counts[k])
	}
	return topics, labels, days, posts
}

// uniqueStrings returns the distinct non-empty values, sorted (never nil).
func uniqueStrings(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	j := 0
	for i := range out {
		if i == 0 || out[i] != out[i-1] {
			out[j] = out[i]
			j++
		}
	}
	return out[:j]
}

// WriteFacts stores new versions of facts; the latest write of an id wins.
func (s *Store) WriteFacts(ctx context.Context, facts []schema.Fact) error {
	if len(facts) == 0 {
		return nil
	}
	for i := range facts {
		if err := facts[i].Validate(); err != nil {
			return fmt.Errorf("cannot write fact %d (%q): %w", i, facts[i].ID, err)
		}
	}
	b, err := s.prepare(ctx, "facts", qInsertFacts)
	if err != nil {
		return err
	}
	for i := range facts {
		f := &facts[i]
		langs := make([]string, 0, len(f.Translations))
		for l := range f.Translations {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		texts := make([]string, len(langs))
		for j, l := range langs {
			texts[j] = f.Translations[l]
		}
		if err := b.append(f.ID, f.Claim, f.Title, f.Summary, f.Lang, f.Verdict, f.Rating, f.Publisher, f.URL,
			dt(f.Date), nonNil(f.Tags), langs, texts, nonNil(f.Appearances), dt(f.Updated), uint8(0), s.nextVersion()); err != nil {
			b.batch.Abort()
			return err
		}
	}
	return b.send()
}

// DeleteFact records a deletion of the fact; it disappears from Facts and
// Fact. Deleting an unknown id is not an error (deletes are re-delivered).
func (s *Store) DeleteFact(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("cannot delete fact: empty id")
	}
	b, err := s.prepare(ctx, "facts", qInsertFacts)
	if err != nil {
		return err
	}
	if err := b.append(id, "", "", "", "", "", "", "", "", minDateTime, []string{}, []string{}, []string{}, []string{},
		dt(s.now()), uint8(1), s.nextVersion()); err != nil {
		b.batch.Abort()
		return err
	}
	return b.send()
}

// WriteAlerts stores alerts by key; re-delivered alerts collapse. Case
// commands (alerts with Command set) are not alerts and are skipped.
func (s *Store) WriteAlerts(ctx context.Context, alerts []schema.Alert) error {
	b, err := s.prepare(ctx, "alerts", qInsertAlerts)
	if err != nil {
		return err
	}
	ingested := dt(s.now())
	for i := range alerts {
		a := &alerts[i]
		if a.Command != nil {
			continue
		}
		if a.Key == "" {
			b.batch.Abort()
			return fmt.Errorf("cannot write alert %d: no key", i)
		}
		if err := b.append(a.Key, a.FactID, a.PostID, a.Verdict, a.Claim, a.FactURL, a.Score, a.Lang, a.Platform,
			a.Source, a.Author, a.PostURL, a.PostTitle, a.PostText, dt(a.Published), dt(a.Detected), ingested); err != nil {
			b.batch.Abort()
			return err
		}
	}
	return b.send()
}

// PutSource stores a source (a new version of it when it exists).
func (s *Store) PutSource(ctx context.Context, src schema.Source) error {
	if src.ID == "" {
		return errors.New("cannot put source: empty id")
	}
	return s.writeSource(ctx, src, 0)
}

// DeleteSource removes a source from Sources.
func (s *Store) DeleteSource(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("cannot delete source: empty id")
	}
	return s.writeSource(ctx, schema.Source{ID: id}, 1)
}

func (s *Store) writeSource(ctx context.Context, src schema.Source, deleted uint8) error {
	keys := make([]string, 0, len(src.Options))
	for k := range src.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = src.Options[k]
	}
	var enabled uint8
	if src.Enabled {
		enabled = 1
	}
	b, err := s.prepare(ctx, "sources", qInsertSources)
	if err != nil {
		return err
	}
	if err := b.append(src.ID, src.Kind, src.URL, src.Name, src.Lang, src.Interval.Milliseconds(), enabled, keys, vals,
		dt(src.Created), deleted, s.nextVersion()); err != nil {
		b.batch.Abort()
		return err
	}
	return b.send()
}

// PutSourceStatus stores a collector's latest report for a source.
func (s *Store) PutSourceStatus(ctx context.Context, st schema.SourceStatus) error {
	if st.SourceID == "" {
		return errors.New("cannot put source status: empty source id")
	}
	b, err := s.prepare(ctx, "source_status", qInsertSourceStatus)
	if err != nil {
		return err
	}
	if err := b.append(st.SourceID, dt(st.LastAttempt), dt(st.LastSuccess), st.LastError, dt(st.LastErrorAt),
		int64(st.Failures), st.ItemsPerDay, dt(st.NextPoll), int64(st.LastNewItems), st.Health, st.HealthDetail, st.ErrorKind,
		st.Title, s.nextVersion()); err != nil {
		b.batch.Abort()
		return err
	}
	return b.send()
}

// CaseRow is one version of a case as the alerter persists it.
type CaseRow struct {
	ID       string
	FactID   string
	State    string
	Severity string
	Opened   time.Time
	Updated  time.Time
	// Version orders writes of a case: the highest wins. Zero lets the store
	// pick one (the write time), which suits a single writer per case.
	Version uint64
	Body    string // the case as JSON, owned by the alerter
}

// PutCase stores a version of a case.
func (s *Store) PutCase(ctx context.Context, c CaseRow) error {
	if c.ID == "" {
		return errors.New("cannot put case: empty id")
	}
	return s.PutCases(ctx, []CaseRow{c})
}

// PutCases writes many case versions in one insert, in order: versions
// left zero are numbered so that a later entry for the same case wins.
func (s *Store) PutCases(ctx context.Context, cs []CaseRow) error {
	if len(cs) == 0 {
		return nil
	}
	b, err := s.prepare(ctx, "cases", qInsertCases)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.ID == "" {
			b.batch.Abort()
			return errors.New("cannot put cases: empty id")
		}
		if c.Version == 0 {
			c.Version = s.nextVersion()
		}
		if err := b.append(c.ID, c.FactID, c.State, c.Severity, dt(c.Opened), dt(c.Updated), c.Version, c.Body); err != nil {
			b.batch.Abort()
			return err
		}
	}
	return b.send()
}

// AppendCaseEvents adds many events in one insert, each once per id.
func (s *Store) AppendCaseEvents(ctx context.Context, es []CaseEvent) error {
	if len(es) == 0 {
		return nil
	}
	b, err := s.prepare(ctx, "case_events", qInsertCaseEvents)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.CaseID == "" {
			b.batch.Abort()
			return errors.New("cannot append case events: empty case id")
		}
		if e.ID == "" {
			e.ID = schema.AlertKey(e.CaseID, fmt.Sprintf("%d\x00%s\x00%s\x00%s", e.Time.UnixNano(), e.Actor, e.Action, e.Detail))
		}
		if err := b.append(e.CaseID, e.ID, dt(e.Time), e.Actor, e.Action, e.Detail); err != nil {
			b.batch.Abort()
			return err
		}
	}
	return b.send()
}

// CaseEvent is one entry of a case's history.
type CaseEvent struct {
	CaseID string
	// ID makes appends idempotent (a re-delivered command appends once);
	// empty derives it from the other fields.
	ID     string
	Time   time.Time
	Actor  string
	Action string
	Detail string
}

// AppendCaseEvent adds an event to a case's history, once per event id.
func (s *Store) AppendCaseEvent(ctx context.Context, e CaseEvent) error {
	if e.CaseID == "" {
		return errors.New("cannot append case event: empty case id")
	}
	return s.AppendCaseEvents(ctx, []CaseEvent{e})
}
