package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"time"

	"github.com/trendwatch/trendwatch/analyze/facts"
	"github.com/trendwatch/trendwatch/store/clickhouse"
	"github.com/trendwatch/trendwatch/web"
)

// serveStage builds the HTTP API and dashboard. The thresholds and alert
// policy it shows and edits are those in force: the flags', overridden by
// an admin's stored settings, as this process follows them.
//
// Credentials: --api-token is a bootstrap admin bearer token;
// --admin-password (TRENDWATCH_ADMIN_PASSWORD or _FILE) creates or updates
// the dashboard user "admin" at start; `trendwatch users` manages
// the rest. With none of them and no stored user or token, only loopback
// clients are served (as admin).
func serveStage(c *config, in *infra, ingest http.Handler) ([]actor, error) {
	var routes json.RawMessage
	if c.AlertRoutes != "" {
		b, err := os.ReadFile(c.AlertRoutes)
		if err != nil {
			return nil, fmt.Errorf("cannot read --alert-routes for the settings page: %w", err)
		}
		if !json.Valid(b) {
			return nil, fmt.Errorf("--alert-routes %s is not JSON", c.AlertRoutes)
		}
		routes = b
	}
	tz, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, usagef("--timezone %q: %v", c.TimeZone, err)
	}
	if pw := c.AdminPassword; pw != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := web.EnsureUser(ctx, in.store, "admin", web.RoleAdmin, pw)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("cannot set up the admin user: %w", err)
		}
	}
	ps, settingsActors, err := in.liveSettings(c)
	if err != nil {
		return nil, err
	}
	srv, err := web.New(web.Options{
		Store: in.store, Facts: in.producer, Commands: in.producer, Ingest: ingest,
		Thresholds:    func() map[string]float64 { return maps.Clone(ps.live.Effective().Policy.Thresholds) },
		Settings:      ps.live,
		SettingWriter: in.producer,
		APIToken:      c.APIToken, Routes: routes, TimeZone: tz,
		SecureCookies:  c.SecureCookies,
		NormalizeFact:  facts.Normalize,
		CheckSourceURL: sourceURLCheck(c),
		Retention:      c.retention(),
		TrendMinPosts:  c.TrendMinPosts, TrendMinSources: trendMinSources(c.TrendMinSources),
	}, in.log)
	if err != nil {
		return nil, err
	}
	actors := append(settingsActors,
		actor{"serve", func(ctx context.Context) error {
			return web.Serve(ctx, c.Listen, srv.Handler(), in.log.With("stage", "serve"))
		}},
		// Keeps the default trend views computed for the current minute.
		actor{"serve-warm", srv.Warm},
	)
	if c.CompactEvery > 0 {
		// Exact counts of closed hours, which week-long views add up
		// instead of counting millions of rows.
		comp := clickhouse.NewCompactor(in.store, clickhouse.CompactorOptions{Interval: c.CompactEvery}, in.log)
		actors = append(actors, actor{"serve-compact", comp.Run})
	}
	if c.RetentionEvery > 0 {
		keep := c.retention()
		actors = append(actors, actor{"serve-retention", clickhouse.NewJanitor(in.store, keep, c.RetentionEvery, in.log).Run})
	}
	return actors, nil
}

// opsActor serves metrics and health for processes without the API.
func opsActor(c *config, in *infra) []actor {
	if c.MetricsListen == "" {
		return nil
	}
	return []actor{{"metrics", func(ctx context.Context) error {
		return web.Serve(ctx, c.MetricsListen, web.OpsMux(in.ready), in.log.With("stage", "metrics"))
	}}}
}

// retention is the configured retention in days as durations.
func (c *config) retention() clickhouse.Retention {
	return clickhouse.Retention{Raw: time.Duration(c.RetainRawDays) * 24 * time.Hour, Aggregates: time.Duration(c.RetainAggregatesDays) * 24 * time.Hour}
}

// trendMinSources maps the flag (0 = no check) to web.Options (0 = the
// default, negative = no check).
func trendMinSources(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
