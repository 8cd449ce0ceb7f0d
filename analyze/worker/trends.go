package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

	scratch   []schema.TopicEvent // one message's events
	unwritten []trends.Flag       // raised but not yet accepted by the sink
	retry     batchID             // the batch whose flags failed to store
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

// Run consumes topic events until ctx is cancelled. A batch is counted in
// messages, and a packed message holds up to 256 KiB of events (a few
// thousand), so batches are capped at 128 messages: the reader queues that
// many, and 128 single-event messages still make a fair batch while
// producers of the old format drain during an upgrade.
func (t *Trends) Run(ctx context.Context) error {
	c, err := bus.NewConsumer(bus.ConsumerOptions{Config: t.opts.Bus, Group: t.opts.Group, Topic: bus.TopicTrends, MaxBatch: 128, Linger: 50 * time.Millisecond}, t.Handle, t.log)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}

// Handle counts a batch of topic-event messages (packed or single) and
// stores the flags they raise. The detector only moves forward, so a batch
// is counted once: when the flag sink fails, the flags are kept and the
// consumer's retry of the same batch only writes them. (A batch
// redelivered after a restart meets a fresh detector. An event the
// analyzer publishes twice is counted once: the detector drops a copy as
// late once its key has moved past it, and skips one that arrives while
// the first still waits for the watermark.)
func (t *Trends) Handle(ctx context.Context, batch []kafka.Message) error {
	id := batchIDOf(batch)
	t.mu.Lock()
	if !id.ok || t.retry != id {
		var n int
		for _, m := range batch {
			evs, err := schema.DecodeTopicEvents(t.scratch[:0], m.Value)
			if err != nil {
				t.log.Warn("ignoring undecodable topic event message", slog.Int("partition", m.Partition), slog.Int64("offset", m.Offset), slog.Any("err", err))
				continue
			}
			for i := range evs {
				t.unwritten = append(t.unwritten, t.det.Observe(trends.FromTopicEvent(evs[i]))...)
			}
			n += len(evs)
			clear(evs) // the detector keeps what it needs; let the rest go
			t.scratch = evs[:0]
		}
		trendEvents.Add(float64(n))
		trendTopics.Set(float64(t.det.Stats().Topics))
	}
	t.retry = batchID{}
	flags := t.unwritten
	t.mu.Unlock()

	if err := t.write(ctx, flags); err != nil {
		t.mu.Lock()
		t.retry = id
		t.mu.Unlock()
		return err
	}
	t.mu.Lock()
	t.unwritten = slices.Clone(t.unwritten[len(flags):])
	t.mu.Unlock()
	return nil
}

func (t *Trends) write(ctx context.Context, flags []trends.Flag) error {
	if len(flags) == 0 {
		return nil
	}
	out := make([]schema.Flag, 0, len(flags))
	for _, f := range flags {
		out = append(out, f.Schema())
	}
	if err := t.opts.Sink.WriteFlags(ctx, out); err != nil {
		return fmt.Errorf("cannot store %d flags: %w", len(out), err)
	}
	for _, f := range flags {
		trendFlags.WithLabelValues(f.Kind).Inc()
	}
	return nil
}
