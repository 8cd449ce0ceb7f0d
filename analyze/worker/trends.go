package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/analyze/trends"
	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/schema"
)

var (
	trendFlags = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "trends", Name: "flags_total",
		Help: "Rising-topic flags raised, by kind.",
	}, []string{"kind"})
	trendEvents = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "trends", Name: "events_total",
		Help: "Topic events counted by this process's detector.",
	})
	trendTopics = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "trendwatch", Subsystem: "trends", Name: "topics",
		Help: "Topic keys with state in this process's detector.",
	})
)

// FlagSink stores rising-topic flags idempotently (a flag is identified by
// its topic, kind and time, so a redelivered event raises the same flag).
type FlagSink interface {
	WriteFlags(ctx context.Context, flags []schema.Flag) error
}

// TrendOptions configure the velocity stage.
type TrendOptions struct {
	Bus    bus.Config
	Group  string // default trendwatch-trends
	Config trends.Config
	Sink   FlagSink
}

// Trends is the velocity stage. Topic events arrive repartitioned by topic
// key, so every key is owned by one process and its flags are the same
// however many processes share the work. The detector's clock is the
// events' own time (its watermark), never the wall clock: that is what
// makes the flags independent of how processes and batches interleave, and
// lets a replay of old posts behave like the live stream did.
type Trends struct {
	opts TrendOptions
	log  *slog.Logger
	mu   sync.Mutex
	det  *trends.Detector
}

// NewTrends returns the velocity stage.
func NewTrends(opts TrendOptions, logger *slog.Logger) (*Trends, error) {
	if opts.Sink == nil {
		return nil, errors.New("trends stage needs a flag sink")
	}
	if opts.Group == "" {
		opts.Group = "trendwatch-trends"
	}
	return &Trends{opts: opts, log: logger.With(slog.String("stage", "trends")), det: trends.NewDetector(opts.Config)}, nil
}

// Run consumes topic events until ctx is cancelled.
func (t *Trends) Run(ctx context.Context) error {
	c, err := bus.NewConsumer(bus.ConsumerOptions{Config: t.opts.Bus, Group: t.opts.Group, Topic: bus.TopicTrends, MaxBatch: 5000, Linger: 50 * time.Millisecond}, t.Handle, t.log)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}

// Handle counts a batch of topic events and stores the flags they raise.
func (t *Trends) Handle(ctx context.Context, batch []kafka.Message) error {
	var flags []trends.Flag
	t.mu.Lock()
	for _, m := range batch {
		e, err := schema.DecodeTopicEvent(m.Value)
		if err != nil {
			t.log.Warn("ignoring undecodable topic event", slog.Any("err", err))
			continue
		}
		flags = append(flags, t.det.Observe(trends.FromTopicEvent(e))...)
	}
	trendTopics.Set(float64(t.det.Stats().Topics))
	t.mu.Unlock()
	trendEvents.Add(float64(len(batch)))
	return t.write(ctx, flags)
}

func (t *Trends) write(ctx context.Context, flags []trends.Flag) error {
	if len(flags) == 0 {
		return nil
	}
	out := make([]schema.Flag, 0, len(flags))
	for _, f := range flags {
		out = append(out, f.Schema())
		trendFlags.WithLabelValues(f.Kind).Inc()
	}
	return t.opts.Sink.WriteFlags(ctx, out)
}
