// Package bus is trendwatch's Kafka adapter, built on segmentio/kafka-go
// (pure Go, no cgo, and the client the project standardised on): topic
// creation, a keyed producer with batching, acks=all and compression,
// consumer groups that commit only after the sink accepted a batch, and the
// dead-letter queue. It is the only package that imports kafka-go.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/trendwatch/trendwatch/schema"
)

var (
	produced = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "messages_produced_total",
		Help: "Messages acknowledged by Kafka, by topic.",
	}, []string{"topic"})
	produceErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "produce_errors_total",
		Help: "Produce calls that failed, by topic.",
	}, []string{"topic"})
	consumed = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "messages_consumed_total",
		Help: "Messages handled and committed, by topic and group.",
	}, []string{"topic", "group"})
	deadLettered = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "dead_letters_total",
		Help: "Messages sent to the dead-letter queue, by stage.",
	}, []string{"stage"})
	batchSize = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "batch_size",
		Help:    "Messages per consumed batch.",
		Buckets: prometheus.ExponentialBuckets(1, 4, 8),
	}, []string{"group"})
	handleSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "handle_seconds",
		Help:    "Time the sink took to accept a batch.",
		Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
	}, []string{"group"})
	handleRetries = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "bus", Name: "handle_retries_total",
		Help: "Batches the sink refused and that were retried (back-pressure).",
	}, []string{"group"})
)

// TopicTrends carries (topic key, post) events repartitioned by topic key,
// so that each key's velocity is computed by exactly one process.
const TopicTrends = "trendwatch.topics"

// Config locates the cluster and shapes the topics.
type Config struct {
	Brokers           []string
	Partitions        int // for new topics; 0 means 6
	ReplicationFactor int // for new topics; 0 means 1
	ClientID          string
	// TopicPrefix is prepended to every topic and consumer group name, so that several
	// deployments (or test runs) can share one cluster without seeing each
	// other's messages.
	TopicPrefix string
	// SingleTopicEvents publishes one JSON message per topic event, the
	// format before packing, which consumers of older builds can read:
	// for the first step of an upgrade while such consumers still run.
	// Current consumers read both formats.
	SingleTopicEvents bool
}

// Topic returns the physical name of a logical topic.
func (c Config) Topic(name string) string { return c.TopicPrefix + name }

func (c Config) partitions() int {
	if c.Partitions <= 0 {
		return 6
	}
	return c.Partitions
}

func (c Config) replication() int {
	if c.ReplicationFactor <= 0 {
		return 1
	}
	return c.ReplicationFactor
}

// ParseBrokers splits a comma-separated broker list and checks each entry
// is host:port.
func ParseBrokers(s string) ([]string, error) {
	var out []string
	for _, b := range strings.Split(s, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		host, port, err := net.SplitHostPort(b)
		if err != nil || host == "" {
			return nil, fmt.Errorf("broker %q is not host:port", b)
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("broker %q has an invalid port", b)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("no brokers given")
	}
	return out, nil
}

// EnsureTopics creates trendwatch's topics when they do not exist. The facts
// and settings topics are compacted (latest record per key, tombstones
// delete); the others keep a week.
func EnsureTopics(ctx context.Context, cfg Config) error {
	topics := []kafka.TopicConfig{
		{Topic: cfg.Topic(schema.TopicPosts), NumPartitions: cfg.partitions(), ReplicationFactor: cfg.replication(),
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "604800000"}}},
		{Topic: cfg.Topic(schema.TopicFacts), NumPartitions: cfg.partitions(), ReplicationFactor: cfg.replication(),
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}},
		{Topic: cfg.Topic(schema.TopicAlerts), NumPartitions: cfg.partitions(), ReplicationFactor: cfg.replication(),
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "604800000"}}},
		{Topic: cfg.Topic(schema.TopicDLQ), NumPartitions: 1, ReplicationFactor: cfg.replication(),
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "2592000000"}}},
		{Topic: cfg.Topic(TopicTrends), NumPartitions: cfg.partitions(), ReplicationFactor: cfg.replication(),
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "86400000"}}},
		settingsTopic(cfg),
	}
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		if lastErr = createTopics(ctx, cfg, topics); lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 250 * time.Millisecond):
		}
	}
	return fmt.Errorf("cannot create topics on %s: %w", strings.Join(cfg.Brokers, ","), lastErr)
}

func createTopics(ctx context.Context, cfg Config, topics []kafka.TopicConfig) error {
	dialer := &kafka.Dialer{Timeout: 5 * time.Second, ClientID: cfg.ClientID}
	var conn *kafka.Conn
	var err error
	for _, b := range cfg.Brokers {
		if conn, err = dialer.DialContext(ctx, "tcp", b); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	ctrl, err := conn.Controller()
	if err != nil {
		return fmt.Errorf("cannot find controller: %w", err)
	}
	cc, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)))
	if err != nil {
		return fmt.Errorf("cannot reach controller: %w", err)
	}
	defer cc.Close()
	existing := map[string]bool{}
	if parts, err := cc.ReadPartitions(); err == nil {
		for _, p := range parts {
			existing[p.Topic] = true
		}
	}
	var missing []kafka.TopicConfig
	for _, t := range topics {
		if !existing[t.Topic] {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		if err := cc.CreateTopics(missing...); err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return err
		}
	}
	// Every topic, not only those created here: another process may have
	// created one a moment ago. Ready topics cost one metadata request. An
	// existing topic keeps its own partition count (the config may ask for
	// another), so it need only have one.
	wait := slices.Clone(topics)
	for i := range wait {
		if existing[wait[i].Topic] {
			wait[i].NumPartitions = 1
		}
	}
	return waitTopics(ctx, conn, wait)
}

// waitTopics returns once the broker's metadata lists every topic with at
// least the partitions asked for, all led (topicsReady). Creation is asynchronous: a
// producer that asks right after CreateTopics can be told the topic does
// not exist, and on a busy machine that lasted over 13 s (a fresh-clone CI
// run).
func waitTopics(ctx context.Context, conn *kafka.Conn, topics []kafka.TopicConfig) error {
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.Topic
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		parts, err := conn.ReadPartitions(names...)
		if err == nil && topicsReady(parts, topics) {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("partitions without a leader")
			}
			return fmt.Errorf("topics created but not ready after 60 s: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// topicsReady reports whether every topic has at least NumPartitions
// partitions listed and each listed partition has a leader.
func topicsReady(parts []kafka.Partition, topics []kafka.TopicConfig) bool {
	listed, led := map[string]int{}, map[string]int{}
	for _, p := range parts {
		listed[p.Topic]++
		if p.Leader.Host != "" {
			led[p.Topic]++
		}
	}
	for _, t := range topics {
		if listed[t.Topic] < max(t.NumPartitions, 1) || led[t.Topic] < listed[t.Topic] {
			return false
		}
	}
	return true
}

// Producer writes keyed messages with acks=all; Produce returns once every
// message was acknowledged.
type Producer struct {
	w   *kafka.Writer
	bal *balancer
	cfg Config
	log *slog.Logger
}

// NewProducer returns a producer for cfg. Messages are spread by key hash,
// batched for up to linger, and compressed with LZ4.
func NewProducer(cfg Config, logger *slog.Logger) *Producer {
	bal := &balancer{trendsTopic: cfg.Topic(TopicTrends)}
	w := &kafka.Writer{
		Addr:                   kafka.TCP(cfg.Brokers...),
		Balancer:               bal,
		RequiredAcks:           kafka.RequireAll,
		Compression:            compress.Lz4,
		BatchSize:              2000,
		BatchBytes:             8 << 20,
		BatchTimeout:           5 * time.Millisecond,
		WriteTimeout:           15 * time.Second,
		MaxAttempts:            10,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        2 * time.Second,
		AllowAutoTopicCreation: false,
	}
	return &Producer{w: w, bal: bal, cfg: cfg, log: logger}
}

// Produce writes msgs to the logical topic (the configured prefix is
// added here).
func (p *Producer) Produce(ctx context.Context, topic string, msgs ...kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	physical := p.cfg.Topic(topic)
	for i := range msgs {
		msgs[i].Topic = physical
	}
	// Only a whole call fails with a bare unknown-topic error (kafka-go
	// looks the topic up before writing anything; per-message failures
	// come as WriteErrors), so a retry cannot write a message twice.
	if err := retryUnknownTopic(ctx, func() error { return p.w.WriteMessages(ctx, msgs...) }); err != nil {
		produceErrors.WithLabelValues(topic).Inc()
		return fmt.Errorf("cannot produce %d messages to %s: %w", len(msgs), topic, err)
	}
	produced.WithLabelValues(topic).Add(float64(len(msgs)))
	return nil
}

// Publish implements ingest.Publisher: posts keyed by id to trendwatch.posts.
func (p *Producer) Publish(ctx context.Context, posts ...schema.Post) error {
	msgs := make([]kafka.Message, 0, len(posts))
	for i := range posts {
		b, err := schema.Encode(&posts[i])
		if err != nil {
			return fmt.Errorf("cannot encode post %s: %w", posts[i].ID, err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(posts[i].ID), Value: b})
	}
	return p.Produce(ctx, schema.TopicPosts, msgs...)
}

// PutFacts publishes facts keyed by id to the compacted facts topic.
func (p *Producer) PutFacts(ctx context.Context, facts []schema.Fact) error {
	msgs := make([]kafka.Message, 0, len(facts))
	for i := range facts {
		if facts[i].Updated.IsZero() {
			facts[i].Updated = time.Now().UTC()
		}
		b, err := schema.Encode(&facts[i])
		if err != nil {
			return fmt.Errorf("cannot encode fact %s: %w", facts[i].ID, err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(facts[i].ID), Value: b})
	}
	return p.Produce(ctx, schema.TopicFacts, msgs...)
}

// DeleteFact publishes a tombstone for the fact id.
func (p *Producer) DeleteFact(ctx context.Context, id string) error {
	return p.Produce(ctx, schema.TopicFacts, kafka.Message{Key: []byte(id), Value: nil})
}

// PublishAlerts writes alerts keyed by fact id, so one alerter owns each
// fact's case.
func (p *Producer) PublishAlerts(ctx context.Context, alerts []schema.Alert) error {
	msgs := make([]kafka.Message, 0, len(alerts))
	for i := range alerts {
		b, err := schema.Encode(&alerts[i])
		if err != nil {
			return fmt.Errorf("cannot encode alert %s: %w", alerts[i].Key, err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(alerts[i].FactID), Value: b})
	}
	return p.Produce(ctx, schema.TopicAlerts, msgs...)
}

// DeadLetter records msg on the dead-letter queue with the reason it could
// not be processed, so that it never stalls its partition.
func (p *Producer) DeadLetter(ctx context.Context, stage string, msg kafka.Message, reason string) error {
	d := schema.DeadLetter{
		Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset,
		Key: string(msg.Key), Value: string(msg.Value), Reason: reason, Stage: stage,
		Time: time.Now().UTC(),
	}
	b, err := schema.Encode(&d)
	if err != nil {
		return fmt.Errorf("cannot encode dead letter: %w", err)
	}
	if err := p.Produce(ctx, schema.TopicDLQ, kafka.Message{Key: msg.Key, Value: b}); err != nil {
		return err
	}
	deadLettered.WithLabelValues(stage).Inc()
	p.log.Warn("message sent to dead-letter queue", slog.String("stage", stage), slog.String("topic", msg.Topic),
		slog.Int("partition", msg.Partition), slog.Int64("offset", msg.Offset), slog.String("reason", reason))
	return nil
}

// Close flushes and closes the producer.
func (p *Producer) Close() error { return p.w.Close() }

// retryUnknownTopic runs f until it succeeds, fails with an error other
// than "unknown topic" or "leader not available", or about 13 s have
// passed. A topic created moments ago is unknown for a while: to the
// broker, and to the transport's metadata cache until it refreshes
// (kafka-go's default TTL is 6 s). Kafka calls both errors retriable.
func retryUnknownTopic(ctx context.Context, f func() error) error {
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || attempt == 8 || !errors.Is(err, kafka.UnknownTopicOrPartition) && !errors.Is(err, kafka.LeaderNotAvailable) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}
