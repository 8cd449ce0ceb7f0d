package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/sources"
	"github.com/trendwatch/trendwatch/schema"
)

// StatusSink receives a source's health after every poll (the lead wires
// it to ClickHouse and the dashboard).
type StatusSink interface {
	ReportStatus(ctx context.Context, st schema.SourceStatus) error
}

// Alarm reasons.
const (
	AlarmFailing = "failing"
	AlarmSilent  = "silent"
)

// Alarm says a source needs a human: it keeps failing, or it has been
// silent far longer than its usual rhythm.
type Alarm struct {
	Source schema.Source
	Reason string // AlarmFailing or AlarmSilent
	Detail string
	Status schema.SourceStatus
}

// Notifier is told when a source turns unhealthy; it fires once per
// episode (again only after the source recovered).
type Notifier interface {
	SourceUnhealthy(ctx context.Context, a Alarm)
}

// Options configures a Poller. Store, Publisher and Client are required.
type Options struct {
	Store     sources.Store
	Publisher ingest.Publisher
	Client    *fetch.Client
	Status    StatusSink // optional
	Notifier  Notifier   // optional
	// Kinds of source this poller handles (default: "feed").
	Kinds []string
	// ReloadInterval is how often the source list is re-read (default 5s).
	ReloadInterval time.Duration
	// MinInterval and MaxInterval bound the adaptive poll interval
	// (defaults 2m and 2h); DefaultInterval is used before a source's
	// rhythm is known (default 15m). A source's own Interval wins.
	MinInterval, MaxInterval, DefaultInterval time.Duration
	// MaxBackoff bounds the wait after errors (default 6h).
	MaxBackoff time.Duration
	// FailureThreshold consecutive failures raise an AlarmFailing (default 5).
	FailureThreshold int
	// A source is silent when its newest item is older than SilenceFactor
	// times its usual gap between items (default 10) and at least
	// MinSilence (default 6h).
	SilenceFactor float64
	MinSilence    time.Duration
	// Workers bounds concurrent polls (default 4); per-host limits are
	// the fetch client's.
	Workers int
	// SeenLimit is the per-source seen-set size (default 5000; at least
	// twice the feed's item count is kept).
	SeenLimit int
	// RespectRobots makes feed fetches obey robots.txt. Off by default:
	// a feed is an explicit subscription, as in every feed reader.
	RespectRobots bool
}

func (o *Options) defaults() error {
	if o.Store == nil || o.Publisher == nil || o.Client == nil {
		return errors.New("feed poller needs a source store, a publisher and a fetch client")
	}
	if len(o.Kinds) == 0 {
		o.Kinds = []string{sources.KindFeed}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReloadInterval, 5*time.Second)
	def(&o.MinInterval, 2*time.Minute)
	def(&o.MaxInterval, 2*time.Hour)
	def(&o.DefaultInterval, 15*time.Minute)
	def(&o.MaxBackoff, 6*time.Hour)
	def(&o.MinSilence, 6*time.Hour)
	if o.MaxInterval < o.MinInterval {
		return fmt.Errorf("feed poller: max interval %s below min interval %s", o.MaxInterval, o.MinInterval)
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = 5
	}
	if o.SilenceFactor <= 0 {
		o.SilenceFactor = 10
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.SeenLimit <= 0 {
		o.SeenLimit = 5000
	}
	return nil
}

var (
	pollsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "ingest", Name: "feed_polls_total",
		Help: "Feed polls by outcome (new, unchanged, not_modified, error).",
	}, []string{"outcome"})
	itemsPublished = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "ingest", Name: "feed_items_published_total",
		Help: "Feed items published (new to the poller's seen set).",
	})
	sourcesGauge = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "trendwatch", Subsystem: "ingest", Name: "feed_sources",
		Help: "Feed sources currently polled.",
	})
)

// Poller polls feed sources and publishes their new items.
type Poller struct {
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	states map[string]*state
}

type state struct {
	src      schema.Source
	etag     string
	lastMod  string
	seen     *seenSet
	next     time.Time
	failures int
	inFlight bool
	polled   bool      // a poll succeeded: later undated items are new, not backlog
	newest   time.Time // newest item publish time seen
	perDay   float64   // items per day, from the spread of publish times
	status   schema.SourceStatus
	alarmed  map[string]bool
}

// New returns a Poller.
func New(opts Options, logger *slog.Logger) (*Poller, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{opts: opts, log: logger.With(slog.String("component", "feed")), states: map[string]*state{}}, nil
}

// Run polls until ctx is cancelled, then waits for in-flight polls.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan struct{}, p.opts.Workers)
	slots := make(chan struct{}, p.opts.Workers)
	nextReload := time.Time{}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		if !now.Before(nextReload) {
			if err := p.reload(ctx, now); err != nil {
				p.log.Warn("cannot reload sources; keeping the previous list", slog.Any("err", err))
			}
			nextReload = now.Add(p.opts.ReloadInterval)
		}
		wake := nextReload
		full := false
		for _, st := range p.due(now) {
			select {
			case slots <- struct{}{}:
			default:
				p.release(st) // all workers busy; retry when one finishes
				full = true
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.poll(ctx, st)
				<-slots
				select {
				case done <- struct{}{}: // wake the scheduler
				default: // a wake-up is already pending; never block (Run may be returning)
				}
			}()
		}
		if n := p.nextDue(); !full && !n.IsZero() && n.Before(wake) {
			wake = n
		}
		timer.Reset(max(time.Until(wake), time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-done:
		}
	}
}

// reload syncs the state map with the store.
func (p *Poller) reload(ctx context.Context, now time.Time) error {
	list, err := p.opts.Store.List(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := map[string]bool{}
	for _, s := range list {
		if !s.Enabled || !slices.Contains(p.opts.Kinds, s.Kind) {
			continue
		}
		keep[s.ID] = true
		if st := p.states[s.ID]; st != nil {
			st.src = s
			continue
		}
		p.states[s.ID] = &state{src: s, seen: newSeenSet(p.opts.SeenLimit), next: now, alarmed: map[string]bool{},
			status: schema.SourceStatus{SourceID: s.ID}}
		p.log.Info("feed source added", slog.String("source", s.URL))
	}
	for id, st := range p.states {
		if !keep[id] {
			delete(p.states, id)
			p.log.Info("feed source removed", slog.String("source", st.src.URL))
		}
	}
	sourcesGauge.Set(float64(len(p.states)))
	return nil
}

func (p *Poller) due(now time.Time) []*state {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*state
	for _, st := range p.states {
		if !st.inFlight && !st.next.After(now) {
			st.inFlight = true
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b *state) int { return a.next.Compare(b.next) })
	return out
}

func (p *Poller) release(st *state) {
	p.mu.Lock()
	st.inFlight = false
	p.mu.Unlock()
}

func (p *Poller) nextDue() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n time.Time
	for _, st := range p.states {
		if !st.inFlight && (n.IsZero() || st.next.Before(n)) {
			n = st.next
		}
	}
	return n
}

// Status returns the current health of every source.
func (p *Poller) Status() []schema.SourceStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]schema.SourceStatus, 0, len(p.states))
	for _, st := range p.states {
		out = append(out, st.status)
	}
	slices.SortFunc(out, func(a, b schema.SourceStatus) int { return strings.Compare(a.SourceID, b.SourceID) })
	return out
}

// poll fetches one source, publishes its new items and schedules the next
// poll. It owns st while st.inFlight is set.
func (p *Poller) poll(ctx context.Context, st *state) {
	p.mu.Lock()
	src, etag, lastMod := st.src, st.etag, st.lastMod
	p.mu.Unlock()
	start := time.Now()
	newCount, nextHint, err := p.fetchAndPublish(ctx, st, src, etag, lastMod)
	if ctx.Err() != nil {
		p.release(st)
		return // shutting down: neither an error nor a success
	}
	now := time.Now()

	p.mu.Lock()
	st.inFlight = false
	s := &st.status
	s.SourceID, s.LastAttempt = src.ID, start.UTC()
	var alarm *Alarm
	if err != nil {
		st.failures++
		s.Failures, s.LastError, s.LastErrorAt = st.failures, err.Error(), now.UTC()
		s.Health, s.HealthDetail, s.ErrorKind = schema.HealthFailing, "", errorKind(err)
		wait := p.backoff(p.interval(st, src), st.failures, err)
		st.next = now.Add(wait)
		if st.failures >= p.opts.FailureThreshold && !st.alarmed[AlarmFailing] {
			st.alarmed[AlarmFailing] = true
			alarm = &Alarm{Source: src, Reason: AlarmFailing, Detail: fmt.Sprintf("%d consecutive failures, last: %v", st.failures, err)}
		}
		if st.failures == 1 || st.failures == p.opts.FailureThreshold {
			p.log.Warn("feed poll failed", slog.String("source", src.URL), slog.Int("failures", st.failures), slog.Duration("retry_in", wait), slog.Any("err", err))
		} else {
			p.log.Debug("feed poll failed", slog.String("source", src.URL), slog.Int("failures", st.failures), slog.Any("err", err))
		}
	} else {
		st.failures = 0
		st.alarmed[AlarmFailing] = false
		s.Failures, s.LastSuccess, s.LastNewItems = 0, now.UTC(), newCount
		if newCount > 0 {
			st.alarmed[AlarmSilent] = false
		}
		iv := p.interval(st, src)
		if nextHint > iv && src.Interval <= 0 {
			iv = min(nextHint, p.opts.MaxInterval) // the server asked us to wait (Cache-Control)
		}
		st.next = now.Add(jitter(iv))
		s.Health, s.HealthDetail = schema.HealthHealthy, ""
		if a := p.silence(st, now); a != "" {
			s.Health, s.HealthDetail = schema.HealthSilent, a
			if !st.alarmed[AlarmSilent] {
				st.alarmed[AlarmSilent] = true
				alarm = &Alarm{Source: src, Reason: AlarmSilent, Detail: a}
			}
		}
	}
	s.ItemsPerDay = st.perDay
	s.NextPoll = st.next.UTC()
	status := *s
	p.mu.Unlock()

	if p.opts.Status != nil {
		if err := p.opts.Status.ReportStatus(ctx, status); err != nil {
			p.log.Debug("cannot report source status", slog.String("source", src.URL), slog.Any("err", err))
		}
	}
	if alarm != nil {
		alarm.Status = status
		p.log.Warn("source unhealthy", slog.String("source", src.URL), slog.String("reason", alarm.Reason), slog.String("detail", alarm.Detail))
		if p.opts.Notifier != nil {
			p.opts.Notifier.SourceUnhealthy(ctx, *alarm)
		}
	}
}

// fetchAndPublish does the network part of a poll and updates the
// document-derived state (validators, seen set, rhythm) once the new posts
// are durably published.
func (p *Poller) fetchAndPublish(ctx context.Context, st *state, src schema.Source, etag, lastMod string) (int, time.Duration, error) {
	res, err := p.opts.Client.Get(ctx, fetch.Request{
		URL: src.URL, ETag: etag, LastModified: lastMod, IgnoreRobots: !p.opts.RespectRobots,
		Accept: "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
	})
	if err != nil {
		pollsTotal.WithLabelValues("error").Inc()
		return 0, 0, err
	}
	if res.NotModified {
		pollsTotal.WithLabelValues("not_modified").Inc()
		return 0, res.NextPoll, nil
	}
	parsed, err := Parse(res.Body, Meta{Source: src.URL, URL: res.URL, ContentType: res.ContentType, Lang: src.Lang, Fetched: res.Fetched})
	if err != nil {
		pollsTotal.WithLabelValues("error").Inc()
		return 0, 0, parseError{err}
	}
	p.mu.Lock()
	var fresh []schema.Post
	batch := map[string]bool{}
	backlog := !st.polled
	for i, post := range parsed.Posts {
		if !st.seen.has(post.ID) && !batch[post.ID] {
			batch[post.ID] = true
			if backlog && !parsed.Dated[i] {
				// Nothing says when it appeared, only that it predates us.
				post.Published = ingest.UndatedBacklog
			}
			fresh = append(fresh, post)
		}
	}
	p.mu.Unlock()
	if len(fresh) > 0 {
		if err := p.opts.Publisher.Publish(ctx, fresh...); err != nil {
			pollsTotal.WithLabelValues("error").Inc()
			return 0, 0, fmt.Errorf("cannot publish %d posts from %s: %w", len(fresh), src.URL, err)
		}
		itemsPublished.Add(float64(len(fresh)))
		pollsTotal.WithLabelValues("new").Inc()
	} else {
		pollsTotal.WithLabelValues("unchanged").Inc()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st.etag, st.lastMod, st.polled = res.ETag, res.LastModified, true
	if parsed.Title != "" {
		st.status.Title = parsed.Title
	}
	st.seen.grow(2 * len(parsed.Posts))
	for _, post := range fresh {
		st.seen.add(post.ID)
	}
	var oldest, newest time.Time
	dated := 0
	for i, post := range parsed.Posts {
		if !parsed.Dated[i] {
			continue // an undated item says nothing about the rhythm
		}
		dated++
		if oldest.IsZero() || post.Published.Before(oldest) {
			oldest = post.Published
		}
		if post.Published.After(newest) {
			newest = post.Published
		}
	}
	if newest.After(st.newest) {
		st.newest = newest
	}
	// The rate is the dated items over their spread: counting undated
	// items too made a feed of 20 items, two of them dated a minute apart,
	// publish "28,000 a day".
	if dated >= 2 && newest.Sub(oldest) >= time.Minute {
		st.perDay = math.Min(float64(dated-1)/newest.Sub(oldest).Hours()*24, 100000)
	}
	return len(fresh), res.NextPoll, nil
}

// parseError marks a document that arrived but is not a feed, so the
// status can say so apart from network errors.
type parseError struct{ error }

func (e parseError) Unwrap() error { return e.error }

// errorKind classifies a poll's error for the status (see fetch.ErrorKind).
func errorKind(err error) string {
	var pe parseError
	if errors.As(err, &pe) {
		return "parse"
	}
	return fetch.ErrorKind(err)
}

// interval adapts to the source's rhythm: poll about twice per usual gap
// between items, within bounds.
func (p *Poller) interval(st *state, src schema.Source) time.Duration {
	if src.Interval > 0 {
		return src.Interval
	}
	if st.perDay <= 0 {
		return p.opts.DefaultInterval
	}
	gap := time.Duration(float64(24*time.Hour) / st.perDay)
	return min(max(gap/2, p.opts.MinInterval), p.opts.MaxInterval)
}

// backoff doubles the interval per consecutive failure, honours a
// Retry-After, and stays under MaxBackoff.
func (p *Poller) backoff(base time.Duration, failures int, err error) time.Duration {
	wait := time.Duration(float64(base) * math.Pow(2, float64(min(failures-1, 16))))
	var se *fetch.StatusError
	if errors.As(err, &se) && se.RetryAfter > wait {
		wait = se.RetryAfter
	}
	return jitter(min(wait, p.opts.MaxBackoff))
}

// silence describes why a source counts as silent, or returns "".
func (p *Poller) silence(st *state, now time.Time) string {
	if st.perDay <= 0 || st.newest.IsZero() {
		return ""
	}
	gap := time.Duration(float64(24*time.Hour) / st.perDay)
	limit := max(time.Duration(p.opts.SilenceFactor*float64(gap)), p.opts.MinSilence)
	if quiet := now.Sub(st.newest); quiet > limit {
		return fmt.Sprintf("no new item for %s; it usually publishes every %s", quiet.Round(time.Minute), gap.Round(time.Second))
	}
	return ""
}

// jitter spreads polls ±10% so sources added together do not stay in step.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// seenSet remembers the most recent ids, evicting the oldest first.
type seenSet struct {
	ids   map[string]struct{}
	order []string
	limit int
}

func newSeenSet(limit int) *seenSet { return &seenSet{ids: map[string]struct{}{}, limit: limit} }

func (s *seenSet) has(id string) bool { _, ok := s.ids[id]; return ok }

func (s *seenSet) grow(n int) {
	if n > s.limit {
		s.limit = n
	}
}

func (s *seenSet) add(id string) {
	if s.has(id) {
		return
	}
	s.ids[id] = struct{}{}
	s.order = append(s.order, id)
	for len(s.order) > s.limit {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
}
