package bus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Follower reads every partition of a topic from the beginning, outside any
// consumer group: each analyzer keeps the whole facts table in memory, so
// each must see every fact.
type Follower struct {
	cfg   Config
	topic string
	apply func(kafka.Message)
	log   *slog.Logger

	once   sync.Once
	synced chan struct{}
}

// NewFollower returns a follower of topic that calls apply for every
// message, in order per partition.
func NewFollower(cfg Config, topic string, apply func(kafka.Message), logger *slog.Logger) *Follower {
	return &Follower{cfg: cfg, topic: topic, apply: apply, log: logger.With(slog.String("topic", topic)), synced: make(chan struct{})}
}

// Synced is closed once the follower has applied everything that was in the
// topic when it started.
func (f *Follower) Synced() <-chan struct{} { return f.synced }

// Run follows the topic until ctx is cancelled.
func (f *Follower) Run(ctx context.Context) error {
	// Right after the topic was created its partitions may have no leader
	// yet; keep asking for a while before giving up.
	var parts []int
	var ends []int64
	var err error
	for attempt := 0; ; attempt++ {
		if parts, ends, err = f.partitions(ctx); err == nil {
			break
		}
		if attempt >= 60 {
			return err
		}
		f.log.Info("waiting for topic metadata", slog.Any("err", err))
		if !sleep(ctx, 500*time.Millisecond) {
			return nil
		}
	}
	var wg sync.WaitGroup
	var pending sync.WaitGroup
	pending.Add(len(parts))
	go func() {
		pending.Wait()
		f.once.Do(func() { close(f.synced) })
	}()
	for i, p := range parts {
		wg.Add(1)
		go func(p int, end int64) {
			defer wg.Done()
			f.follow(ctx, p, end, &pending)
		}(p, ends[i])
	}
	wg.Wait()
	return nil
}

func (f *Follower) follow(ctx context.Context, partition int, end int64, pending *sync.WaitGroup) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: f.cfg.Brokers, Topic: f.cfg.Topic(f.topic), Partition: partition,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond,
		ReadBackoffMin: 50 * time.Millisecond, ReadBackoffMax: 500 * time.Millisecond,
	})
	defer r.Close()
	_ = r.SetOffset(kafka.FirstOffset)
	done := end <= 0
	if done {
		pending.Done()
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				if !done {
					pending.Done()
				}
				return
			}
			f.log.Warn("cannot read", slog.Int("partition", partition), slog.Any("err", err))
			if !sleep(ctx, time.Second) {
				if !done {
					pending.Done()
				}
				return
			}
			continue
		}
		f.apply(m)
		if !done && m.Offset+1 >= end {
			done = true
			pending.Done()
		}
	}
}

// partitions lists the topic's partitions and their end offsets now.
func (f *Follower) partitions(ctx context.Context) ([]int, []int64, error) {
	dialer := &kafka.Dialer{Timeout: 5 * time.Second, ClientID: f.cfg.ClientID}
	var lastErr error
	for _, b := range f.cfg.Brokers {
		conn, err := dialer.DialContext(ctx, "tcp", b)
		if err != nil {
			lastErr = err
			continue
		}
		ps, err := conn.ReadPartitions(f.cfg.Topic(f.topic))
		conn.Close()
		if err != nil {
			lastErr = err
			continue
		}
		var ids []int
		var ends []int64
		for _, p := range ps {
			pc, err := dialer.DialLeader(ctx, "tcp", b, f.cfg.Topic(f.topic), p.ID)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot reach leader of %s/%d: %w", f.topic, p.ID, err)
			}
			first, last, err := pc.ReadOffsets()
			pc.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("cannot read offsets of %s/%d: %w", f.topic, p.ID, err)
			}
			if last <= first {
				last = 0
			}
			ids = append(ids, p.ID)
			ends = append(ends, last)
		}
		return ids, ends, nil
	}
	return nil, nil, fmt.Errorf("cannot list partitions of %s: %w", f.topic, lastErr)
}
