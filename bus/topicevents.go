package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/schema"
)

// Topic events are packed: PublishTopicEvents groups a batch's events by
// the trends-topic partition their topic key hashes to (the kafka.Hash the
// writer uses for every keyed message) and writes one message per group,
// split at maxPackedBytes, keyed by one of its own topic keys so that the
// writer sends it to that same partition. Every key therefore stays owned
// by exactly one Trends consumer, as with one message per event, while
// the messages per post drop from ~13 to about one per partition per
// batch.
//
// The partition count is read from the writer's own metadata cache (the
// kafka.Transport's, refreshed every few seconds) for each batch, and the
// balancer reports the count the writer actually used. Partitions can only
// be added to a Kafka topic; when that happens:
//   - keys remap to new partitions, packed or not: the new owner of a moved
//     key starts that key's state afresh (warm-up) and the old owner keeps
//     stale state until it idles out, exactly as with single messages;
//   - a batch grouped just before the writer's metadata refreshed reaches
//     the partition of its first key under the new count, so its other
//     keys may be counted once by a process that no longer owns them. This
//     lasts at most one metadata refresh (kafka-go's MetadataTTL, 6 s), is
//     counted in trendwatch_bus_topic_pack_stale_total and logged, and the
//     next batch reads the new count;
//   - the Trends consumers only start reading the new partitions after
//     their group rebalances (kafka-go readers do not watch partition
//     changes unless asked), e.g. when a process restarts.
const maxPackedBytes = 256 << 10

var (
	topicEventsPublished = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "topic_events_total",
		Help: "Topic events acknowledged by Kafka (packed several to a message on the trends topic).",
	})
	topicEventsDropped = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "topic_events_dropped_total",
		Help: "Topic events not published because they lack a topic, post id or time (consumers would drop them).",
	})
	topicPackStale = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "topic_pack_stale_total",
		Help: "Topic-event batches grouped for another partition count than the writer then used (partitions were added).",
	})
)

// balancer is kafka.Hash that also records how many partitions of the
// trends topic the writer balanced the latest message over, which
// PublishTopicEvents compares with the count it grouped by.
type balancer struct {
	kafka.Hash
	trendsTopic string
	trendsParts atomic.Int64
}

func (b *balancer) Balance(msg kafka.Message, partitions ...int) int {
	if msg.Topic == b.trendsTopic {
		b.trendsParts.Store(int64(len(partitions)))
	}
	return b.Hash.Balance(msg, partitions...)
}

// hashPartition is kafka.Hash's choice among n partitions for key (FNV-1a,
// Sarama-compatible), without its hasher pool and lock.
func hashPartition(key string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	p := int32(h) % int32(n)
	if p < 0 {
		p = -p
	}
	return int(p)
}

// PublishTopicEvents writes topic events to the trends topic, packed by
// partition (see maxPackedBytes). Events lacking a topic, post id or time
// are dropped and counted: consumers would reject them anyway.
func (p *Producer) PublishTopicEvents(ctx context.Context, evs []schema.TopicEvent) error {
	if len(evs) == 0 {
		return nil
	}
	if p.cfg.SingleTopicEvents {
		return p.publishTopicEventsSingle(ctx, evs)
	}
	n, err := p.trendsPartitions(ctx)
	if err != nil {
		return err
	}
	msgs, dropped := packTopicEvents(evs, n, maxPackedBytes)
	topicEventsDropped.Add(float64(dropped))
	if err := p.Produce(ctx, TopicTrends, msgs...); err != nil {
		return err
	}
	topicEventsPublished.Add(float64(len(evs) - dropped))
	if used := p.bal.trendsParts.Load(); used != 0 && used != int64(n) {
		topicPackStale.Inc()
		p.log.Warn("trends topic partition count changed while publishing; some topic keys of this batch may have reached a non-owner",
			slog.Int("grouped_for", n), slog.Int64("writer_used", used))
	}
	return nil
}

// trendsPartitions returns the trends topic's partition count as the
// writer sees it: the metadata request is answered from the same
// transport cache the writer balances with.
func (p *Producer) trendsPartitions(ctx context.Context) (int, error) {
	var n int
	err := retryUnknownTopic(ctx, func() (err error) {
		n, err = p.readTrendsPartitions(ctx)
		return err
	})
	return n, err
}

func (p *Producer) readTrendsPartitions(ctx context.Context) (int, error) {
	topic := p.cfg.Topic(TopicTrends)
	c := &kafka.Client{Addr: p.w.Addr, Transport: p.w.Transport}
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("cannot read partitions of %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return 0, fmt.Errorf("cannot read partitions of %s: %w", topic, t.Error)
		}
		if len(t.Partitions) == 0 {
			return 0, fmt.Errorf("topic %s has no partitions", topic)
		}
		return len(t.Partitions), nil
	}
	return 0, fmt.Errorf("cannot read partitions of %s: %w", topic, errors.New("not in metadata"))
}

// packTopicEvents groups evs by hashPartition of their topic key among n
// partitions and packs each group, in the events' order, into messages of
// at most maxBytes (a single oversized event still gets its own message).
// Each message is keyed by its first event's topic key, which hashes to the
// group's partition. It returns the messages and how many events it
// dropped as incomplete.
func packTopicEvents(evs []schema.TopicEvent, n, maxBytes int) (msgs []kafka.Message, dropped int) {
	// Counting sort by partition, stable so that a post's events stay
	// adjacent and share a post record.
	part := make([]int32, len(evs))
	start := make([]int, n+1)
	for i := range evs {
		q := hashPartition(evs[i].Topic, n)
		part[i] = int32(q)
		start[q+1]++
	}
	for q := 1; q <= n; q++ {
		start[q] += start[q-1]
	}
	order := make([]int32, len(evs))
	next := append([]int(nil), start[:n]...)
	for i, q := range part {
		order[next[q]] = int32(i)
		next[q]++
	}

	var pk schema.TopicEventPacker
	// ~40 bytes an event once posts are shared; one array for the batch.
	pk.Reset(make([]byte, 0, 48*len(evs)+64*n))
	var key string
	flush := func() {
		if pk.Events() > 0 {
			msgs = append(msgs, kafka.Message{Key: []byte(key), Value: pk.End()})
		}
	}
	for q := range n {
		if start[q] == start[q+1] {
			continue
		}
		pk.Begin()
		for _, i := range order[start[q]:start[q+1]] {
			e := &evs[i]
			if pk.Events() > 0 && pk.Len()+pk.Cost(e) > maxBytes {
				flush()
				pk.Begin()
			}
			if err := pk.Add(e); err != nil {
				dropped++
				continue
			}
			if pk.Events() == 1 {
				key = e.Topic
			}
		}
		flush()
	}
	return msgs, dropped
}

// publishTopicEventsSingle is the format before packing: one JSON message
// per event, keyed by topic key.
func (p *Producer) publishTopicEventsSingle(ctx context.Context, evs []schema.TopicEvent) error {
	msgs := make([]kafka.Message, 0, len(evs))
	// One buffer for the batch: ~13 events per post made a buffer per
	// message a visible share of the analyzer's allocations.
	buf := make([]byte, 0, 256*len(evs))
	for i := range evs {
		start := len(buf)
		var err error
		if buf, err = schema.AppendTopicEvent(buf, evs[i]); err != nil {
			return fmt.Errorf("cannot encode topic event: %w", err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(evs[i].Topic), Value: buf[start:len(buf):len(buf)]})
	}
	if err := p.Produce(ctx, TopicTrends, msgs...); err != nil {
		return err
	}
	topicEventsPublished.Add(float64(len(evs)))
	return nil
}
