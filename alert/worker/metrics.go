package worker

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	sentTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "notifications_sent_total",
		Help: "Notifications the channel accepted.",
	}, []string{"channel"})
	failedTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "notifications_failed_total",
		Help: "Delivery attempts that failed.",
	}, []string{"channel"})
	retriedTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "notifications_retried_total",
		Help: "Delivery attempts that were retries of a failed one.",
	}, []string{"channel"})
	droppedTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "notifications_dropped_total",
		Help: "Notifications given up: queue_full, deadline or permanent (the last two go to the DLQ).",
	}, []string{"channel", "reason"})
	latency = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "delivery_latency_seconds",
		Help:    "Time from the case deciding to notify to the channel accepting the notification.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600},
	}, []string{"channel"})
	postLatency = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "post_to_delivery_seconds",
		Help:    "Time from the newest post a notification reports being published to the channel accepting it.",
		Buckets: prometheus.ExponentialBuckets(1, 2.5, 14),
	}, []string{"channel"})
	queueLength = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "queue_length",
		Help: "Deliveries pending (queued or being retried).",
	})
	casesGauge = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "cases",
		Help: "Cases by status.",
	}, []string{"status"})
	journalErrors = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "journal_errors_total",
		Help: "Journal writes that failed (the engine stops accepting batches).",
	})
	storeErrors = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "alert", Name: "store_errors_total",
		Help: "Case store writes that failed and wait to be retried.",
	})
)
