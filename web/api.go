package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/settings"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// FactWriter publishes fact changes (to the compacted facts topic, from
// which every analyzer and the ClickHouse mirror take them).
type FactWriter interface {
	PutFacts(ctx context.Context, facts []schema.Fact) error
	DeleteFact(ctx context.Context, id string) error
}

// CommandWriter publishes case commands to the alerter that owns the case.
type CommandWriter interface {
	PublishAlerts(ctx context.Context, alerts []schema.Alert) error
}

// Options configure the API server.
type Options struct {
	Store    *clickhouse.Store
	Facts    FactWriter    // nil makes fact writes answer 503
	Commands CommandWriter // nil makes case actions answer 503
	// Ingest, when set, is mounted at POST /api/v1/ingest (admin role).
	Ingest http.Handler
	// CheckSourceURL, when set, refuses a feed or crawl source whose URL
	// the collectors' SSRF guard would refuse (a private or loopback
	// address not in --fetch-allow), so that POST /api/v1/sources says so
	// at once instead of the source failing at every poll.
	CheckSourceURL func(ctx context.Context, url string) error
	// Thresholds returns the per-language alert thresholds in force.
	Thresholds func() map[string]float64
	// Settings, when set, makes the thresholds and the alert policy
	// editable by admins (settings.go): what is in force, as this
	// process's settings follower has it.
	Settings *settings.Live
	// SettingWriter publishes setting changes; nil makes them answer 503.
	SettingWriter SettingWriter
	// Routes is the alert routing configuration in force (JSON), shown on
	// the settings page; nil for the default (every channel).
	Routes json.RawMessage
	// APIToken is a bootstrap bearer token with the admin role. With no
	// token, no user and no stored API token, the server runs open:
	// loopback clients act as admin, others are refused.
	APIToken string
	// Auth keeps users, tokens and sessions; nil uses Store.
	Auth AuthStore
	// SecureCookies marks the session cookie Secure (serve behind TLS).
	SecureCookies bool
	// TimeZone for times on the dashboard; nil is Asia/Ho_Chi_Minh.
	TimeZone *time.Location
	// NormalizeFact validates and normalises a fact from the API with the
	// same rules as import; nil applies schema validation only.
	NormalizeFact func(f *schema.Fact) error
	Now           func() time.Time
	// Retention is the retention in force (shown on the Settings page);
	// zero durations keep data for ever.
	Retention clickhouse.Retention
	// TrendMinPosts and TrendMinSources are the support a topic needs to
	// enter a ranked trends list (posts in the window; distinct sources or
	// authors): 0 takes the defaults, 3 and 2; a negative TrendMinSources
	// turns the check off. A query's min_posts/min_sources win.
	TrendMinPosts, TrendMinSources int
	// NoCache turns off the per-minute result cache (see cache.go), for
	// benchmarks of cold queries.
	NoCache bool
}

// Server is the HTTP API and dashboard.
type Server struct {
	opts   Options
	log    *slog.Logger
	mux    *http.ServeMux
	auth   *authenticator
	routes []route
	pages  *pages
	memo   *memo // nil when Options.NoCache
	// The live trends' data version and when it was read (liveVersion).
	versionMu sync.Mutex
	version   uint64
	versionAt time.Time
}

// New builds the API's and the dashboard's routes.
func New(opts Options, logger *slog.Logger) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("web server needs a store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Auth == nil {
		opts.Auth = opts.Store
	}
	if opts.TimeZone == nil {
		tz, err := time.LoadLocation(DefaultTimeZone)
		if err != nil {
			return nil, fmt.Errorf("cannot load time zone %s (install tzdata): %w", DefaultTimeZone, err)
		}
		opts.TimeZone = tz
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: logger.With(slog.String("stage", "serve")), mux: http.NewServeMux(), pages: pg,
		auth: newAuthenticator(opts.Auth, opts.APIToken, opts.SecureCookies, opts.Now)}
	if !opts.NoCache {
		s.memo = newMemo()
	}
	m := s.mux
	m.Handle("GET /metrics", promhttp.Handler())
	s.routes = s.apiRoutes()
	if opts.Ingest != nil {
		s.routes = append(s.routes, ingestRoute(opts.Ingest))
	}
	for _, rt := range s.routes {
		m.Handle(rt.method+" "+rt.path, s.guard(rt.need, false, rt.handler))
	}
	for _, rt := range append(s.pageRoutes(), s.settingsPageRoutes()...) {
		m.Handle(rt.method+" "+rt.path, s.guard(rt.need, true, rt.handler))
	}
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: %s %s", r.Method, r.URL.Path)
	})
	return s, nil
}

// Handler returns the server with its middleware. Cross-origin protection
// (Go 1.25's Sec-Fetch-Site/Origin check) refuses cross-site writes even
// in open mode, where loopback clients need no credentials and a hostile
// page in the operator's browser could otherwise post to 127.0.0.1.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "csrf", "cross-origin request refused")
	}))
	return securityHeaders(instrument(s.log, cop.Handler(s.mux)))
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.opts.Store.Ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "not_ready", "ClickHouse does not answer: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// queryDuration reads a duration parameter with bounds.
func queryDuration(r *http.Request, name string, def, max time.Duration) (time.Duration, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		// Also accept "1d"/"7d", which people type for windows.
		if n, ok := strings.CutSuffix(v, "d"); ok {
			if days, e := strconv.Atoi(n); e == nil {
				d, err = time.Duration(days)*24*time.Hour, nil
			}
		}
	}
	if err != nil || d <= 0 || d > max {
		return 0, fmt.Errorf("%s=%q must be a duration such as 15m, 1h or 7d, at most %s", name, v, max)
	}
	return d, nil
}

func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q must be an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// queryRange reads from/to (RFC 3339) or window (ending now).
func (s *Server) queryRange(r *http.Request, def time.Duration) (time.Time, time.Time, error) {
	q := r.URL.Query()
	now := s.opts.Now().UTC()
	if q.Get("from") != "" || q.Get("to") != "" {
		from, err := time.Parse(time.RFC3339, q.Get("from"))
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("from=%q is not an RFC 3339 time", q.Get("from"))
		}
		to := now
		if q.Get("to") != "" {
			if to, err = time.Parse(time.RFC3339, q.Get("to")); err != nil {
				return time.Time{}, time.Time{}, fmt.Errorf("to=%q is not an RFC 3339 time", q.Get("to"))
			}
		}
		// The store counts whole minutes: round here so the answer echoes
		// the range its figures cover, and an empty range is the caller's
		// error (400), not a failed query (503).
		from, to = from.UTC().Truncate(time.Minute), to.UTC().Truncate(time.Minute)
		if !from.Before(to) {
			return time.Time{}, time.Time{}, errors.New("from must be before to, at least a minute apart once both are rounded down to the minute")
		}
		return from, to, nil
	}
	win, err := queryDuration(r, "window", def, 90*24*time.Hour)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return now.Add(-win).Truncate(time.Minute), now.Truncate(time.Minute).Add(time.Minute), nil
}

// queryStep reads a timeline bucket width, rounded down to whole minutes
// (at least one) as the store buckets, so the echoed step is the spacing
// of the points.
func queryStep(r *http.Request, def time.Duration) (time.Duration, error) {
	step, err := queryDuration(r, "step", def, 24*time.Hour)
	if err != nil {
		return 0, err
	}
	return max(time.Minute, step.Truncate(time.Minute)), nil
}

type trendJSON struct {
	Topic            string  `json:"topic"` // the key: for URLs (topics/{key})
	Label            string  `json:"label"` // how to show it (see clickhouse.TopicLabels)
	Kind             string  `json:"kind"`  // story, fact, phrase, entity, hashtag or url
	Verdict          string  `json:"verdict,omitempty"`
	Posts            int64   `json:"posts"`
	Authors          int64   `json:"authors"`
	AuthorsEstimated bool    `json:"authors_estimated"` // a HyperLogLog estimate, within ~2% (5,000 authors or more)
	Sources          int64   `json:"sources"`           // distinct sources: the support of feeds, which have no authors
	Baseline         int64   `json:"baseline"`          // posts in the baseline period before the window
	BaselineRate     float64 `json:"baseline_rate"`     // expected posts in the window: history mixed with the background prior
	Burst            float64 `json:"burst"`             // posts / baseline_rate
	Score            float64 `json:"score"`             // Poisson log-likelihood ratio (G²) of posts against baseline_rate
	Series           []int   `json:"series"`
}

func toTrendJSON(t clickhouse.Trend) trendJSON {
	return trendJSON{Topic: t.Topic, Label: t.Label, Kind: t.Kind, Verdict: t.Verdict, Posts: t.Posts, Authors: t.Authors,
		AuthorsEstimated: t.AuthorsEstimated, Sources: t.Sources, Baseline: t.Baseline, BaselineRate: t.BaselineRate,
		Burst: t.Burst, Score: t.Score, Series: nonNilInts(t.Series)}
}

// Support a topic needs to enter a ranked list by default: this many
// posts from at least trendMinSources distinct sources or authors.
const (
	defaultTrendMinPosts   = 3
	defaultTrendMinSources = 2
)

// supportDefaults is the support in force unless a query says otherwise:
// the server's options, else the defaults.
func (s *Server) supportDefaults() (minPosts, minSources int) {
	minPosts, minSources = s.opts.TrendMinPosts, s.opts.TrendMinSources
	if minPosts <= 0 {
		minPosts = defaultTrendMinPosts
	}
	switch {
	case minSources < 0:
		minSources = 0
	case minSources == 0:
		minSources = defaultTrendMinSources
	}
	return minPosts, minSources
}

// trendSupport is the support of a trends request: its min_posts and
// min_sources, else supportDefaults.
func (s *Server) trendSupport(r *http.Request) (minPosts, minSources int, err error) {
	minPosts, minSources = s.supportDefaults()
	if minPosts, err = queryInt(r, "min_posts", minPosts, 1, 1000000); err != nil {
		return 0, 0, err
	}
	if minSources, err = queryInt(r, "min_sources", minSources, 0, 1000000); err != nil {
		return 0, 0, err
	}
	return minPosts, minSources, nil
}

// queryTime reads an RFC 3339 date-time parameter; zero when absent.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s=%q must be an RFC 3339 date-time such as 2026-08-17T10:00:00+07:00 or 2026-08-17T03:00:00Z", name, v)
	}
	return t, nil
}

func (s *Server) trends(w http.ResponseWriter, r *http.Request) {
	win, err := queryDuration(r, "window", time.Hour, 30*24*time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	limit, err := queryInt(r, "limit", 20, 1, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	sortBy := r.URL.Query().Get("sort")
	switch sortBy {
	case "", "burst":
		sortBy = "score"
	case "score", "posts":
	default:
		writeError(w, http.StatusBadRequest, "bad_parameter", "sort=%q must be score or posts", sortBy)
		return
	}
	to, err := queryTime(r, "to")
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	minPosts, minSources, err := s.trendSupport(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	q := clickhouse.TrendsQuery{Window: win, Now: to, Lang: r.URL.Query().Get("lang"),
		Platform: r.URL.Query().Get("platform"), Limit: limit, Sort: sortBy, MinPosts: minPosts, MinSources: minSources}
	rows, err := s.trendsCached(r.Context(), q)
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := make([]trendJSON, 0, len(rows))
	for _, t := range rows {
		out = append(out, toTrendJSON(t))
	}
	end := to
	if end.IsZero() {
		end = s.opts.Now()
	}
	writeJSON(w, http.StatusOK, map[string]any{"window": win.String(), "to": end.UTC().Truncate(time.Minute), "generated": s.opts.Now().UTC(),
		"sort": sortBy, "min_posts": minPosts, "min_sources": minSources, "topics": out})
}

// topicLabel is the label of one topic for the topic endpoints; a store
// error leaves the label empty rather than failing the answer.
func (s *Server) topicLabel(ctx context.Context, key string) clickhouse.Label {
	ls, err := s.opts.Store.TopicLabels(ctx, []string{key})
	if err != nil {
		s.log.Warn("cannot label topic", slog.String("topic", key), slog.Any("err", err))
		return clickhouse.Label{Kind: clickhouse.KindOf(key)}
	}
	return ls[key]
}

type pointJSON struct {
	Time  time.Time `json:"time"`
	Posts int64     `json:"posts"`
}

func points(ps []clickhouse.Point) []pointJSON {
	out := make([]pointJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, pointJSON{Time: p.Time.UTC(), Posts: p.Posts})
	}
	return out
}

func (s *Server) topic(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	from, to, err := s.queryRange(r, 24*time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	step, err := queryStep(r, time.Minute)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	if to.Sub(from)/step > 10000 {
		writeError(w, http.StatusBadRequest, "bad_parameter", "range/step gives more than 10000 points; use a larger step")
		return
	}
	ps, err := s.opts.Store.Timeline(r.Context(), key, from, to, step)
	if err != nil {
		s.storeError(w, err)
		return
	}
	var total int64
	for _, p := range ps {
		total += p.Posts
	}
	l := s.topicLabel(r.Context(), key)
	writeJSON(w, http.StatusOK, map[string]any{"topic": key, "label": l.Text, "kind": l.Kind, "from": from, "to": to, "step": step.String(), "posts": total, "points": points(ps)})
}

type countJSON struct {
	Key   string `json:"key"`
	Posts int64  `json:"posts"`
}

func counts(cs []clickhouse.Count) []countJSON {
	out := make([]countJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, countJSON{Key: c.Key, Posts: c.Posts})
	}
	return out
}

func (s *Server) spread(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	from, to, err := s.queryRange(r, 7*24*time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	sp, err := s.opts.Store.Spread(r.Context(), key, from, to)
	if err != nil {
		s.storeError(w, err)
		return
	}
	samples := make([]postJSON, 0, len(sp.SamplePosts))
	for _, p := range sp.SamplePosts {
		samples = append(samples, toPostJSON(p))
	}
	var facts []schema.Fact
	for _, id := range sp.FactIDs {
		if f, err := s.opts.Store.Fact(r.Context(), id); err == nil {
			facts = append(facts, f)
		}
	}
	l := s.topicLabel(r.Context(), key)
	writeJSON(w, http.StatusOK, map[string]any{
		"topic": key, "label": l.Text, "kind": l.Kind, "from": from, "to": to,
		"posts": sp.Posts, "authors": sp.AuthorCount, "sources": sp.SourceCount, "domains": sp.DomainCount,
		"first_seen": nullTime(sp.FirstSeen), "last_seen": nullTime(sp.LastSeen),
		"timeline": points(sp.Timeline), "cumulative": points(sp.Cumulative),
		"top_authors": counts(sp.Authors), "top_sources": counts(sp.Sources), "top_domains": counts(sp.Domains),
		"languages": counts(sp.Languages), "platforms": counts(sp.Platforms),
		"sample_posts": samples, "facts": nonNilFacts(facts),
	})
}

type flagJSON struct {
	Time      time.Time `json:"time"`
	Topic     string    `json:"topic"`
	Label     string    `json:"label"`
	TopicKind string    `json:"topic_kind"` // story, fact, phrase, entity, hashtag or url ("kind" is the flag's)
	Kind      string    `json:"kind"`
	Score     float64   `json:"score"`
	Count     int       `json:"count"`
	Authors   int       `json:"authors"`
	PostIDs   []string  `json:"post_ids"`
}

// flags lists the velocity detector's stored flags in the range, newest
// first: what the detector raised, as opposed to the trends list, which
// ranks topics by the store's counts.
func (s *Server) flags(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.queryRange(r, 24*time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	q := r.URL.Query()
	fs, err := s.opts.Store.Flags(r.Context(), clickhouse.FlagQuery{From: from, To: to, Kind: q.Get("kind"), Topic: q.Get("topic"), Limit: limit})
	if err != nil {
		s.storeError(w, err)
		return
	}
	keys := make([]string, 0, len(fs))
	for _, f := range fs {
		keys = append(keys, f.Topic)
	}
	labels, err := s.opts.Store.TopicLabels(r.Context(), keys)
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := make([]flagJSON, 0, len(fs))
	for _, f := range fs {
		ids := f.PostIDs
		if ids == nil {
			ids = []string{}
		}
		l := labels[f.Topic]
		out = append(out, flagJSON{Time: f.Time.UTC(), Topic: f.Topic, Label: l.Text, TopicKind: l.Kind, Kind: f.Kind, Score: f.Score, Count: f.Count, Authors: f.Authors, PostIDs: ids})
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "flags": out})
}

type postJSON struct {
	ID        string    `json:"id"`
	Source    string    `json:"source"`
	Platform  string    `json:"platform"`
	URL       string    `json:"url,omitempty"`
	Author    string    `json:"author,omitempty"`
	Lang      string    `json:"lang,omitempty"`
	Title     string    `json:"title,omitempty"`
	Text      string    `json:"text"`
	Published time.Time `json:"published"`
}

func toPostJSON(p schema.Post) postJSON {
	return postJSON{ID: p.ID, Source: p.Source, Platform: p.Platform, URL: p.URL, Author: p.Author, Lang: p.Lang, Title: p.Title, Text: p.Text, Published: p.Published.UTC()}
}

func nullTime(t time.Time) any {
	if t.IsZero() || t.Unix() <= 0 {
		return nil
	}
	return t.UTC()
}

func nonNilInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// nonNilFacts returns facts as the API answers them (factOut), [] for none.
func nonNilFacts(s []schema.Fact) []factOut {
	out := make([]factOut, len(s))
	for i := range s {
		out[i] = toFactOut(s[i])
	}
	return out
}

// factOut is a fact as the API answers it: a date that is not known is
// left out, never shown as 0001-01-01.
type factOut struct {
	schema.Fact
	Date    *time.Time `json:"date,omitempty"`
	Updated *time.Time `json:"updated,omitempty"`
}

func toFactOut(f schema.Fact) factOut {
	out := factOut{Fact: f}
	if !f.Date.IsZero() {
		out.Date = &f.Date
	}
	if !f.Updated.IsZero() {
		out.Updated = &f.Updated
	}
	return out
}

func (s *Server) storeError(w http.ResponseWriter, err error) {
	s.log.Warn("store query failed", slog.Any("err", err))
	writeError(w, http.StatusServiceUnavailable, "store_unavailable", "the analytics store did not answer; try again")
}

func (s *Server) thresholds(w http.ResponseWriter, r *http.Request) {
	th := map[string]float64{}
	if s.opts.Thresholds != nil {
		th = s.opts.Thresholds()
	}
	writeJSON(w, http.StatusOK, map[string]any{"thresholds": th})
}
