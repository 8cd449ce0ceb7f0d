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
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trendwatch/trendwatch/schema"
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
	for _, rt := range s.pageRoutes() {
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
	Topic            string  `json:"topic"`
	Posts            int64   `json:"posts"`
	Authors          int64   `json:"authors"`
	AuthorsEstimated bool    `json:"authors_estimated"` // a HyperLogLog estimate, within ~2% (5,000 authors or more)
	Baseline         int64   `json:"baseline"`
	Burst            float64 `json:"burst"`
	Series           []int   `json:"series"`
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
	if sortBy != "" && sortBy != "posts" && sortBy != "burst" {
		writeError(w, http.StatusBadRequest, "bad_parameter", "sort=%q must be posts or burst", sortBy)
		return
	}
	q := clickhouse.TrendsQuery{Window: win, Now: s.opts.Now(), Lang: r.URL.Query().Get("lang"),
		Platform: r.URL.Query().Get("platform"), Limit: limit, Sort: sortBy}
	rows, err := s.trendsCached(r.Context(), q)
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := make([]trendJSON, 0, len(rows))
	for _, t := range rows {
		out = append(out, trendJSON{Topic: t.Topic, Posts: t.Posts, Authors: t.Authors, AuthorsEstimated: t.AuthorsEstimated, Baseline: t.Baseline, Burst: t.Burst, Series: nonNilInts(t.Series)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"window": win.String(), "generated": s.opts.Now().UTC(), "topics": out})
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
	writeJSON(w, http.StatusOK, map[string]any{"topic": key, "from": from, "to": to, "step": step.String(), "posts": total, "points": points(ps)})
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
	writeJSON(w, http.StatusOK, map[string]any{
		"topic": key, "from": from, "to": to,
		"posts": sp.Posts, "authors": sp.AuthorCount, "sources": sp.SourceCount, "domains": sp.DomainCount,
		"first_seen": nullTime(sp.FirstSeen), "last_seen": nullTime(sp.LastSeen),
		"timeline": points(sp.Timeline), "cumulative": points(sp.Cumulative),
		"top_authors": counts(sp.Authors), "top_sources": counts(sp.Sources), "top_domains": counts(sp.Domains),
		"languages": counts(sp.Languages), "platforms": counts(sp.Platforms),
		"sample_posts": samples, "facts": nonNilFacts(facts),
	})
}

type flagJSON struct {
	Time    time.Time `json:"time"`
	Topic   string    `json:"topic"`
	Kind    string    `json:"kind"`
	Score   float64   `json:"score"`
	Count   int       `json:"count"`
	Authors int       `json:"authors"`
	PostIDs []string  `json:"post_ids"`
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
	out := make([]flagJSON, 0, len(fs))
	for _, f := range fs {
		ids := f.PostIDs
		if ids == nil {
			ids = []string{}
		}
		out = append(out, flagJSON{Time: f.Time.UTC(), Topic: f.Topic, Kind: f.Kind, Score: f.Score, Count: f.Count, Authors: f.Authors, PostIDs: ids})
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

func nonNilFacts(s []schema.Fact) []schema.Fact {
	if s == nil {
		return []schema.Fact{}
	}
	return s
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
