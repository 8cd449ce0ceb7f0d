// Package worker is the analyzer stage: it consumes trendwatch.posts as a
// consumer group member, enriches each post (language, topic keys, fact
// matches), then writes the batch to ClickHouse while it emits alerts and
// topic events (concurrently), and only once all three succeeded lets the
// consumer commit the batch's offsets. A crash or failure at any point
// redelivers the batch; stable post ids, alert keys and idempotent sinks
// make the second delivery harmless.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/schema"
)

var (
	postsAnalyzed = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "analyze", Name: "posts_total",
		Help: "Posts analyzed and stored.",
	})
	postsRejected = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "analyze", Name: "posts_rejected_total",
		Help: "Messages sent to the dead-letter queue, by reason class.",
	}, []string{"reason"})
	alertsEmitted = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "analyze", Name: "alerts_total",
		Help: "Alert events emitted for posts matching alerting facts.",
	})
	matchesFound = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "analyze", Name: "matches_total",
		Help: "Post–fact matches above the storage threshold.",
	})
	enrichSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "trendwatch", Subsystem: "analyze", Name: "enrich_batch_seconds",
		Help:    "Time to enrich one batch of posts.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 3, 10),
	})
	sinkSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "trendwatch", Subsystem: "analyze", Name: "sink_batch_seconds",
		Help:    "Time for ClickHouse to accept one batch.",
		Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
	})
	publishLag = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "trendwatch", Subsystem: "analyze", Name: "fetch_to_stored_seconds",
		Help:    "From the collector fetching a post to the analyzer storing it.",
		Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
	})
)

// Enricher derives language, topic keys and fact matches for one post. It
// must be safe for concurrent use.
type Enricher interface {
	Enrich(p schema.Post) schema.Analyzed
	// Alerting returns the alerts a post's matches warrant (verdict in the
	// alerting set, confidence at or above the language's threshold).
	Alerting(a *schema.Analyzed) []schema.Match
	// Fact returns the fact with id, for alert payloads.
	Fact(id string) (schema.Fact, bool)
}

// PostSink stores analyzed posts idempotently.
type PostSink interface {
	WriteAnalyzed(ctx context.Context, posts []schema.Analyzed) error
}

// Outbox takes alerts, topic events and dead letters onward (Kafka).
type Outbox interface {
	PublishAlerts(ctx context.Context, alerts []schema.Alert) error
	PublishTopicEvents(ctx context.Context, evs []schema.TopicEvent) error
	DeadLetter(ctx context.Context, stage string, msg kafka.Message, reason string) error
}

// Options configure the worker.
type Options struct {
	Bus      bus.Config
	Group    string // consumer group; default trendwatch-analyze
	MaxBatch int
	Linger   time.Duration
	Workers  int // enrichment goroutines; default GOMAXPROCS
	Enricher Enricher
	Sink     PostSink
	Outbox   Outbox
	Now      func() time.Time
}

// Worker is one analyzer process's share of the posts topic.
type Worker struct {
	opts Options
	log  *slog.Logger

	mu    sync.Mutex
	retry retryState // of the last batch, if it failed
}

// New checks opts and returns a worker.
func New(opts Options, logger *slog.Logger) (*Worker, error) {
	if opts.Enricher == nil || opts.Sink == nil || opts.Outbox == nil {
		return nil, errors.New("analyze worker needs an enricher, a sink and an outbox")
	}
	if opts.Group == "" {
		opts.Group = "trendwatch-analyze"
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Worker{opts: opts, log: logger.With(slog.String("stage", "analyze"))}, nil
}

// Run consumes until ctx is cancelled.
func (w *Worker) Run(ctx context.Context) error {
	c, err := bus.NewConsumer(bus.ConsumerOptions{
		Config: w.opts.Bus, Group: w.opts.Group, Topic: schema.TopicPosts,
		MaxBatch: w.opts.MaxBatch, Linger: w.opts.Linger,
	}, w.Handle, w.log)
	if err != nil {
		return err
	}
	w.log.Info("analyzer consuming", slog.String("group", w.opts.Group))
	return c.Run(ctx)
}

// Handle processes one batch; exported for tests and benchmarks that drive
// the worker without a broker.
//
// The ClickHouse write, the alerts and the topic events go out
// concurrently: alerts reach the alerter without waiting for ClickHouse,
// and the batch takes the slowest of the three rather than their sum. All
// three must succeed before Handle returns nil and the offsets are
// committed; on any failure the batch is redelivered, which alert keys
// (fact, post), idempotent post rows and the trend detector's per-key
// (time, post id) order make harmless. While the consumer offers the same
// batch again after a failure, neither the enrichment nor the parts that
// already succeeded are repeated, so an outage of one sink does not replay
// the others (or re-run the matching) every few seconds.
func (w *Worker) Handle(ctx context.Context, batch []kafka.Message) error {
	id := batchIDOf(batch)
	w.mu.Lock()
	var done parts
	var work *batchWork
	if w.retry.id == id {
		done, work = w.retry.done, w.retry.work
	}
	w.retry = retryState{}
	w.mu.Unlock()

	if work == nil {
		var err error
		if work, err = w.prepare(ctx, batch, id, &done); err != nil {
			return err
		}
		if work == nil { // nothing but undecodable messages
			return nil
		}
	}
	analyzed, alerts, events, now := work.analyzed, work.alerts, work.events, work.now

	var wg sync.WaitGroup
	var mu sync.Mutex // guards errs and done while the parts run
	var errs []error
	skip := done
	run := func(part parts, f func() error) {
		if skip&part != 0 {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			done |= part
		}()
	}
	run(partSink, func() error {
		start := time.Now()
		if err := w.opts.Sink.WriteAnalyzed(ctx, analyzed); err != nil {
			return fmt.Errorf("cannot store %d posts: %w", len(analyzed), err)
		}
		sinkSeconds.Observe(time.Since(start).Seconds())
		return nil
	})
	run(partAlerts, func() error {
		if err := w.opts.Outbox.PublishAlerts(ctx, alerts); err != nil {
			return fmt.Errorf("cannot publish %d alerts: %w", len(alerts), err)
		}
		return nil
	})
	run(partEvents, func() error {
		if err := w.opts.Outbox.PublishTopicEvents(ctx, events); err != nil {
			return fmt.Errorf("cannot publish %d topic events: %w", len(events), err)
		}
		return nil
	})
	wg.Wait()
	if len(errs) > 0 {
		w.failed(id, done, work)
		return errors.Join(errs...)
	}

	for i := range analyzed {
		a := &analyzed[i]
		matchesFound.Add(float64(len(a.Matches)))
		if !a.Fetched.IsZero() {
			publishLag.Observe(now.Sub(a.Fetched).Seconds())
		}
	}
	alertsEmitted.Add(float64(len(alerts)))
	postsAnalyzed.Add(float64(len(analyzed)))
	return nil
}

// batchWork is a batch decoded and enriched, kept for a retry of the same
// batch so that an outage of one sink does not re-run the enrichment (most
// of the batch's CPU) on every attempt.
type batchWork struct {
	analyzed []schema.Analyzed
	alerts   []schema.Alert
	events   []schema.TopicEvent
	now      time.Time
}

// prepare decodes the batch (dead-lettering what does not decode, unless
// done says that already happened), drops repeated posts, enriches the rest
// and derives their alerts and topic events. It returns nil work when no
// post decoded.
func (w *Worker) prepare(ctx context.Context, batch []kafka.Message, id batchID, done *parts) (*batchWork, error) {
	posts := make([]schema.Post, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, m := range batch {
		p, err := schema.DecodePost(m.Value)
		if err != nil {
			if *done&partDead == 0 {
				if err := w.opts.Outbox.DeadLetter(ctx, "analyze", m, err.Error()); err != nil {
					w.failed(id, *done, nil)
					return nil, fmt.Errorf("cannot dead-letter bad post at %s/%d@%d: %w", m.Topic, m.Partition, m.Offset, err)
				}
				postsRejected.WithLabelValues("decode").Inc()
			}
			continue
		}
		if seen[p.ID] { // the same post twice in one batch: store once
			continue
		}
		seen[p.ID] = true
		posts = append(posts, p)
	}
	*done |= partDead
	if len(posts) == 0 {
		return nil, nil
	}

	start := time.Now()
	work := &batchWork{analyzed: w.enrich(posts), now: w.opts.Now().UTC()}
	enrichSeconds.Observe(time.Since(start).Seconds())
	for i := range work.analyzed {
		a := &work.analyzed[i]
		for _, m := range w.opts.Enricher.Alerting(a) {
			work.alerts = append(work.alerts, w.alert(a, m, work.now))
		}
		for _, t := range a.Topics {
			work.events = append(work.events, schema.TopicEvent{Topic: t, PostID: a.ID, Author: a.Author, Source: a.Source, Platform: a.Platform, Lang: a.Lang, Time: a.Published})
		}
	}
	return work, nil
}

// parts of a batch's work that a retry of the same batch can skip.
type parts uint8

const (
	partDead parts = 1 << iota // undecodable posts dead-lettered
	partSink
	partAlerts
	partEvents
)

// retryState remembers, for a batch that failed, what succeeded and the
// work already done, until the next Handle call.
type retryState struct {
	id   batchID
	done parts
	work *batchWork
}

func (w *Worker) failed(id batchID, done parts, work *batchWork) {
	if !id.ok {
		return
	}
	w.mu.Lock()
	w.retry = retryState{id: id, done: done, work: work}
	w.mu.Unlock()
}

// batchID identifies the batch the consumer offers again after a failure:
// the consumer passes the very same slice, and its first and last
// positions pin down the messages.
type batchID struct {
	ok           bool
	first        *kafka.Message
	n            int
	topic        string
	part0, partN int
	offs0, offsN int64
}

func batchIDOf(batch []kafka.Message) batchID {
	if len(batch) == 0 {
		return batchID{}
	}
	f, l := &batch[0], &batch[len(batch)-1]
	return batchID{ok: true, first: f, n: len(batch), topic: f.Topic, part0: f.Partition, partN: l.Partition, offs0: f.Offset, offsN: l.Offset}
}

func (w *Worker) alert(a *schema.Analyzed, m schema.Match, now time.Time) schema.Alert {
	al := schema.Alert{
		Key: schema.AlertKey(m.FactID, a.ID), FactID: m.FactID, PostID: a.ID, Verdict: m.Verdict,
		Score: m.Score, Lang: a.Lang, Platform: a.Platform, Source: a.Source, Author: a.Author,
		PostURL: a.URL, PostTitle: a.Title, PostText: clip(a.Text, 1000), Published: a.Published, Detected: now,
	}
	if f, ok := w.opts.Enricher.Fact(m.FactID); ok {
		al.Claim, al.FactURL = f.Claim, f.URL
		if al.Verdict == "" {
			al.Verdict = f.Verdict
		}
	}
	return al
}

// enrich runs the enricher over posts on Workers goroutines, keeping order.
func (w *Worker) enrich(posts []schema.Post) []schema.Analyzed {
	out := make([]schema.Analyzed, len(posts))
	n := min(w.opts.Workers, len(posts))
	if n <= 1 {
		for i, p := range posts {
			out[i] = w.opts.Enricher.Enrich(p)
		}
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(posts) + n - 1) / n
	for lo := 0; lo < len(posts); lo += chunk {
		hi := min(lo+chunk, len(posts))
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i] = w.opts.Enricher.Enrich(posts[i])
			}
		}(lo, hi)
	}
	wg.Wait()
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
