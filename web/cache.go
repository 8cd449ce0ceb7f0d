package web

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// The heavy dashboard reads (trends over long windows, a topic's spread)
// cost hundreds of milliseconds to seconds at 10M posts, and a newsroom
// opens the same views many times a minute. The store already rounds every
// window to whole minutes, so a result keyed by its query and that minute
// is exactly what a fresh query would return (only posts ingested late for
// an earlier minute can be up to a minute behind). memo keeps such results,
// lets concurrent identical requests share one query, and warm() computes
// the default trend views ahead of the people who open them.
type memo struct {
	mu      sync.Mutex
	entries map[string]*memoEntry
}

type memoEntry struct {
	done chan struct{}
	val  any
	err  error
	at   time.Time
}

const memoMax = 512 // entries; each holds one page's data

func newMemo() *memo { return &memo{entries: map[string]*memoEntry{}} }

// get returns the value for key, computing it once. The computation runs
// detached from the first caller's cancellation (others may be waiting).
func (m *memo) get(ctx context.Context, key string, now time.Time, compute func(ctx context.Context) (any, error)) (any, error) {
	if m == nil {
		return compute(ctx)
	}
	m.mu.Lock()
	e, ok := m.entries[key]
	if !ok {
		if len(m.entries) >= memoMax {
			m.evictLocked(now)
		}
		e = &memoEntry{done: make(chan struct{}), at: now}
		m.entries[key] = e
		m.mu.Unlock()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		e.val, e.err = compute(cctx)
		cancel()
		close(e.done)
		if e.err != nil { // errors are not kept: the next request retries
			m.mu.Lock()
			if m.entries[key] == e {
				delete(m.entries, key)
			}
			m.mu.Unlock()
		}
		return e.val, e.err
	}
	m.mu.Unlock()
	select {
	case <-e.done:
		return e.val, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// evictLocked drops entries of past minutes, or everything if all are
// current (a burst of distinct filters).
func (m *memo) evictLocked(now time.Time) {
	cut := now.Truncate(time.Minute)
	for k, e := range m.entries {
		if e.at.Before(cut) {
			select {
			case <-e.done:
				delete(m.entries, k)
			default:
			}
		}
	}
	if len(m.entries) >= memoMax {
		clear(m.entries)
	}
}

func (s *Server) trendsCached(ctx context.Context, q clickhouse.TrendsQuery) ([]clickhouse.Trend, error) {
	now := s.opts.Now()
	minute := now.UTC().Truncate(time.Minute)
	if !q.Now.IsZero() { // a past moment (?to=): cached by its own minute
		minute = q.Now.UTC().Truncate(time.Minute)
	} else {
		// The live list includes the minute under way, so a post pushed
		// now is listed within seconds rather than at the next minute.
		q.Now = minute.Add(time.Minute)
	}
	// Any list is cached only while no new topic rows arrived (checked at
	// most every liveRecheck): the page and the API never disagree for
	// longer than that, and a replay of an old day shows in the lists of
	// that day's moments.
	version := s.liveVersion(ctx, now)
	key := fmt.Sprintf("trends|%d|%d|%s|%s|%d|%s|%d|%d|%d|%d|%d", minute.Unix(), version, q.Lang, q.Platform, q.Window, q.Sort, q.Limit, q.Buckets, q.Baseline, q.MinPosts, q.MinSources)
	v, err := s.memo.get(ctx, key, now, func(ctx context.Context) (any, error) { return s.opts.Store.Trends(ctx, q) })
	if err != nil {
		return nil, err
	}
	return v.([]clickhouse.Trend), nil
}

func (s *Server) spreadCached(ctx context.Context, topic string, from, to time.Time, o clickhouse.SpreadOptions) (clickhouse.Spread, error) {
	key := fmt.Sprintf("spread|%q|%d|%d|%d|%d|%d|%d", topic, from.Unix(), to.Unix(), o.Step, o.Top, o.Samples, o.Facts)
	v, err := s.memo.get(ctx, key, s.opts.Now(), func(ctx context.Context) (any, error) {
		return s.opts.Store.SpreadWith(ctx, topic, from, to, o)
	})
	if err != nil {
		return clickhouse.Spread{}, err
	}
	return v.(clickhouse.Spread), nil
}

// liveRecheck is how often live views look for new data.
const liveRecheck = 5 * time.Second

// liveVersion is the store's data version, read at most every liveRecheck;
// 0 when it cannot be read (the minute alone keys the cache then).
func (s *Server) liveVersion(ctx context.Context, now time.Time) uint64 {
	s.versionMu.Lock()
	defer s.versionMu.Unlock()
	if now.Sub(s.versionAt) < liveRecheck && now.After(s.versionAt) {
		return s.version
	}
	v, err := s.opts.Store.DataVersion(ctx)
	if err != nil {
		s.log.Debug("cannot read the data version", slog.Any("err", err))
		return 0
	}
	s.version, s.versionAt = v, now
	return v
}

// trendsPageQuery is the store query behind the trends page. The
// baseline is the store's 6 windows capped at a week: week-over-week is
// what "rising" means for the 7-day view, and reading six weeks of rows
// for it costs ~40% more at 1M posts (BenchmarkPages) for no better signal.
func (s *Server) trendsPageQuery(win time.Duration, lang, platform, sort string, to time.Time) clickhouse.TrendsQuery {
	minPosts, minSources := s.supportDefaults()
	return clickhouse.TrendsQuery{Window: win, Now: to, Lang: lang, Platform: platform, Limit: 50, Sort: sort, Buckets: 24,
		Baseline: min(6*win, 7*24*time.Hour), MinPosts: minPosts, MinSources: minSources}
}

// Warm computes the trends page's unfiltered views at the start of every
// minute until ctx ends, so that opening them costs a cache lookup. It is
// a no-op when caching is disabled.
func (s *Server) Warm(ctx context.Context) error {
	if s.memo == nil {
		<-ctx.Done() // an actor that returns early would stop its group
		return nil
	}
	for {
		for _, w := range windows {
			for _, sort := range []string{"score", "posts"} {
				win, _ := queryDurationValue(w)
				if _, err := s.trendsCached(ctx, s.trendsPageQuery(win, "", "", sort, time.Time{})); err != nil && ctx.Err() == nil {
					s.log.Debug("cannot warm trends", slog.String("window", w), slog.Any("err", err))
				}
			}
		}
		next := s.opts.Now().Truncate(time.Minute).Add(time.Minute + time.Second)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(next)):
		}
	}
}
