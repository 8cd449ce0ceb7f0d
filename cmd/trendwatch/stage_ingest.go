package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/trendwatch/trendwatch/ingest/crawl"
	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/push"
	"github.com/trendwatch/trendwatch/ingest/social/manager"
	"github.com/trendwatch/trendwatch/ingest/sources"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

var sourceAlarms = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: "trendwatch", Subsystem: "ingest", Name: "source_alarms_total",
	Help: "Sources that turned silent or failing, by reason.",
}, []string{"reason"})

// chSources lists the sources added through the API (ClickHouse) plus the
// ones given on the command line.
type chSources struct {
	store  *clickhouse.Store
	static []schema.Source
}

func (s *chSources) List(ctx context.Context) ([]schema.Source, error) {
	out := append([]schema.Source(nil), s.static...)
	if s.store == nil {
		return out, nil
	}
	dyn, err := s.store.Sources(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot list sources: %w", err)
	}
	seen := map[string]bool{}
	for _, x := range out {
		seen[x.ID] = true
	}
	for _, x := range dyn {
		if !seen[x.ID] {
			out = append(out, x)
		}
	}
	return out, nil
}

// chStatus records source health in ClickHouse for the dashboard.
type chStatus struct{ store *clickhouse.Store }

func (s chStatus) ReportStatus(ctx context.Context, st schema.SourceStatus) error {
	return s.store.PutSourceStatus(ctx, st)
}

// logAlarms tells admins (through the log and a metric that Prometheus
// alerting rules watch) when a source goes silent or keeps failing.
type logAlarms struct{ log *slog.Logger }

func (l logAlarms) SourceUnhealthy(_ context.Context, a feed.Alarm) {
	sourceAlarms.WithLabelValues(a.Reason).Inc()
	l.log.Warn("source needs attention", slog.String("source", a.Source.URL), slog.String("reason", a.Reason), slog.String("detail", a.Detail))
}

// fetchClient is the one HTTP client of every collector in this process.
func fetchClient(c *config) (*fetch.Client, error) {
	return fetch.New(fetch.Options{UserAgent: c.UserAgent, Version: version, ContactURL: c.PublicURL, Allow: splitList(c.FetchAllow)})
}

// sourceURLCheck refuses, for the API, a source URL that the fetch
// client's SSRF guard will refuse (see --fetch-allow).
func sourceURLCheck(c *config) func(context.Context, string) error {
	client, err := fetchClient(c)
	if err != nil {
		return nil // validate() already refused a bad --fetch-allow
	}
	return client.CheckURL
}

// staticSources turns --feed and --crawl into sources.
func staticSources(c *config) ([]schema.Source, error) {
	now := time.Now().UTC()
	var out []schema.Source
	add := func(kind, u string, opts map[string]string) error {
		s, err := sources.Normalize(schema.Source{Kind: kind, URL: u, Enabled: true, Options: opts}, now)
		if err != nil {
			return fmt.Errorf("invalid --%s %q: %w", kind, u, err)
		}
		out = append(out, s)
		return nil
	}
	for _, f := range c.Feeds {
		if err := add(sources.KindFeed, f, nil); err != nil {
			return nil, err
		}
	}
	for _, u := range c.Crawl {
		opts := map[string]string{"depth": fmt.Sprint(c.CrawlDepth)}
		if c.CrawlDomains != "" {
			opts["allowed_domains"] = strings.Join(splitList(c.CrawlDomains), ",")
		}
		if err := add(sources.KindCrawl, u, opts); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ingestStage builds the collectors and the push endpoint handler.
func ingestStage(c *config, in *infra) ([]actor, http.Handler, error) {
	log := in.log.With(slog.String("stage", "ingest"))
	client, err := fetchClient(c)
	if err != nil {
		return nil, nil, err
	}
	static, err := staticSources(c)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	src := &chSources{store: in.store, static: static}
	var status feed.StatusSink
	if in.store != nil {
		status = chStatus{in.store}
	}
	poller, err := feed.New(feed.Options{
		Store: src, Publisher: in.producer, Client: client, Status: status, Notifier: logAlarms{log},
		ReloadInterval: c.SourcesReload, DefaultInterval: c.PollInterval, MinInterval: min(c.PollInterval, 2*time.Minute),
	}, log)
	if err != nil {
		return nil, nil, err
	}
	crawler, err := crawl.New(crawl.Options{
		Store: src, Publisher: in.producer, Client: client, Status: status,
		ReloadInterval: c.SourcesReload, MaxDepth: c.CrawlDepth,
	}, log)
	if err != nil {
		return nil, nil, err
	}
	tokens := map[string]string{}
	for _, kv := range splitList(c.MastodonTokens) {
		host, tok, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, nil, usagef("--mastodon-tokens: %q is not host=token", kv)
		}
		tokens[strings.TrimSpace(host)] = strings.TrimSpace(tok)
	}
	social, err := manager.New(manager.Options{Store: src, Publisher: in.producer, Client: client, MastodonTokens: tokens, ReloadInterval: c.SourcesReload}, log)
	if err != nil {
		return nil, nil, err
	}
	_, push, err := ingestPush(c, in)
	if err != nil {
		return nil, nil, err
	}
	return []actor{{"feeds", poller.Run}, {"crawler", crawler.Run}, {"social", social.Run}}, push, nil
}

// ingestPush is the partners' push endpoint, mounted by serve at
// POST /api/v1/ingest behind the API's write authorisation.
func ingestPush(c *config, in *infra) ([]actor, http.Handler, error) {
	return nil, push.Handler(in.producer, push.Options{}, in.log.With(slog.String("stage", "push"))), nil
}
