package fetch

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	fetchesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "ingest", Name: "fetches_total",
		Help: "HTTP fetches by outcome (ok, not_modified, http_4xx, http_5xx, blocked, robots, too_large, timeout, error).",
	}, []string{"outcome"})
	fetchBytes = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "ingest", Name: "fetch_bytes_total",
		Help: "Decoded body bytes fetched.",
	})
	fetchDuration = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "trendwatch", Subsystem: "ingest", Name: "fetch_duration_seconds",
		Help:    "Fetch latency including rate-limit waits and body read.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
)
