package main

import (
	"context"
	"net/http"

	"github.com/trendwatch/trendwatch/analyze/enrich"
	"github.com/trendwatch/trendwatch/web"
)

// serveStage builds the HTTP API. en, when this process also analyzes,
// provides the live thresholds; otherwise the calibrated defaults (and any
// --thresholds) are shown.
func serveStage(c *config, in *infra, en *enrich.Enricher, ingest http.Handler) ([]actor, error) {
	srv, err := web.New(web.Options{
		Store: in.store, Facts: in.producer, Commands: in.producer, Ingest: ingest,
		Thresholds: thresholdsOf(en, c), APIToken: c.APIToken,
	}, in.log)
	if err != nil {
		return nil, err
	}
	return []actor{{"serve", func(ctx context.Context) error {
		return web.Serve(ctx, c.Listen, srv.Handler(), in.log.With("stage", "serve"))
	}}}, nil
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
