package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/segmentio/kafka-go"
)

// Handler processes a batch. It returns nil once the batch's effects are
// durable; the batch's offsets are committed only then. A non-nil error
// means "not now": the same batch is offered again after a backoff, and no
// further messages are consumed meanwhile (back-pressure). Messages that can
// never succeed must be dead-lettered by the handler, not returned as errors.
type Handler func(ctx context.Context, batch []kafka.Message) error

// ConsumerOptions shapes a consumer group member.
type ConsumerOptions struct {
	Config
	Group    string
	Topic    string
	MaxBatch int           // messages per batch; 0 means 1000
	Linger   time.Duration // how long to wait to fill a batch; 0 means 100ms
	// MaxBackoff caps the wait between retries of a refused batch; 0 means 10s.
	MaxBackoff time.Duration
}

// Consumer is one member of a consumer group.
type Consumer struct {
	opts   ConsumerOptions
	log    *slog.Logger
	handle Handler
}

// NewConsumer returns a consumer that feeds batches to h.
func NewConsumer(opts ConsumerOptions, h Handler, logger *slog.Logger) (*Consumer, error) {
	if opts.Group == "" || opts.Topic == "" {
		return nil, errors.New("consumer needs a group and a topic")
	}
	if len(opts.Brokers) == 0 {
		return nil, errors.New("consumer needs brokers")
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	if opts.Linger <= 0 {
		opts.Linger = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	return &Consumer{opts: opts, log: logger.With(slog.String("group", opts.Group), slog.String("topic", opts.Topic)), handle: h}, nil
}

// Run consumes until ctx is cancelled. A batch the handler has not
// accepted when ctx ends is not committed; it will be redelivered, which
// the sinks make harmless. One it accepted is committed.
func (c *Consumer) Run(ctx context.Context) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        c.opts.Brokers,
		GroupID:        c.opts.Config.TopicPrefix + c.opts.Group, // groups are cluster-wide too
		Topic:          c.opts.Config.Topic(c.opts.Topic),
		MinBytes:       1,
		MaxBytes:       16 << 20,
		MaxWait:        100 * time.Millisecond,
		QueueCapacity:  c.opts.MaxBatch,
		CommitInterval: 0, // synchronous commits: offsets move only after the sink
		// A group with no committed offset starts at the earliest one: a
		// new group (first start, a new analyzer deployment, a renamed
		// group) sees everything already written, so nothing pushed before
		// it joined is lost. Chosen over holding readiness until every
		// group is assigned, which cannot cover a group that joins later.
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: time.Second,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		JoinGroupBackoff:  500 * time.Millisecond,
		// A group that joins while its topic is still unknown (created a
		// moment ago) is assigned no partitions and, unwatched, would
		// consume nothing until the next rebalance; watching also picks up
		// partitions added to a live topic.
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		ReadBackoffMin:         50 * time.Millisecond,
		ReadBackoffMax:         500 * time.Millisecond,
		ErrorLogger:            kafka.LoggerFunc(func(msg string, args ...any) { c.log.Debug("kafka reader: " + fmt.Sprintf(msg, args...)) }),
	})
	defer r.Close()
	batch := make([]kafka.Message, 0, c.opts.MaxBatch)
	for {
		batch = batch[:0]
		// Block for the first message, then fill the batch until it is full
		// or the linger time since the first message has passed.
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			c.log.Warn("cannot fetch", slog.Any("err", err))
			if !sleep(ctx, time.Second) {
				return nil
			}
			continue
		}
		batch = append(batch, m)
		deadline := time.Now().Add(c.opts.Linger)
		for len(batch) < c.opts.MaxBatch {
			fctx, cancel := context.WithDeadline(ctx, deadline)
			m, err := r.FetchMessage(fctx)
			cancel()
			if err != nil {
				break
			}
			batch = append(batch, m)
		}
		if !c.deliver(ctx, batch) {
			return nil
		}
		// A handled batch is committed even when ctx ended meanwhile: a
		// clean shutdown should not redeliver work already done.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = r.CommitMessages(cctx, batch...)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// The batch was handled; a failed commit only means it may be
			// redelivered, which the sinks make harmless.
			c.log.Warn("cannot commit offsets", slog.Any("err", err))
			continue
		}
		consumed.WithLabelValues(c.opts.Topic, c.opts.Group).Add(float64(len(batch)))
	}
}

// deliver hands the batch to the handler until it accepts it; false when
// ctx ended first.
func (c *Consumer) deliver(ctx context.Context, batch []kafka.Message) bool {
	batchSize.WithLabelValues(c.opts.Group).Observe(float64(len(batch)))
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := c.handle(ctx, batch)
		if err == nil {
			handleSeconds.WithLabelValues(c.opts.Group).Observe(time.Since(start).Seconds())
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		handleRetries.WithLabelValues(c.opts.Group).Inc()
		c.log.Warn("sink refused batch; retrying", slog.Int("messages", len(batch)), slog.Duration("backoff", backoff), slog.Any("err", err))
		if !sleep(ctx, backoff+time.Duration(rand.Int64N(int64(backoff/2)+1))) {
			return false
		}
		backoff = min(backoff*2, c.opts.MaxBackoff)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
