package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/enrich"
	"github.com/trendwatch/trendwatch/analyze/trends"
	"github.com/trendwatch/trendwatch/analyze/worker"
	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/settings"
)

var (
	factsLive = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "trendwatch", Subsystem: "analyze", Name: "facts",
		Help: "Facts in this analyzer's in-memory index.",
	})
	factsRejected = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "analyze", Name: "facts_rejected_total",
		Help: "Fact messages that could not be decoded.",
	})
)

// analyzeStage builds the analyzer: the live facts index fed by the facts
// topic, the post worker (which starts once the index holds every fact
// published before it), and the ClickHouse mirror of facts.
func analyzeStage(c *config, in *infra) ([]actor, *enrich.Enricher, error) {
	th, _ := parseThresholds(c.Thresholds)
	// MinScore lets the index skip re-ranking posts that cannot reach the
	// confidence from which matches are stored (most of a stream).
	ix := claims.NewIndex(claims.Options{Thresholds: th, MinScore: enrich.DefaultStoreMin})
	en := enrich.New(enrich.Options{Index: ix, Verdicts: splitList(c.AlertVerdicts), KeysLabels: topicKeys, StoreMin: enrich.DefaultStoreMin})
	log := in.log.With(slog.String("stage", "analyze"))
	// Which matches alert: the thresholds and verdicts in force (flags,
	// then an admin's stored settings), the alerter's own, swapped into
	// the enricher as they change.
	ps, settingsActors, err := in.liveSettings(c)
	if err != nil {
		return nil, nil, err
	}
	ps.live.OnChange(func(e *settings.Effective) {
		en.SetAlerting(e.Policy.Thresholds, e.Policy.DefaultThreshold, e.Policy.Verdicts)
	})

	follower := bus.NewFollower(in.bus, schema.TopicFacts, func(m kafka.Message) {
		if m.Value == nil {
			ix.Delete(string(m.Key))
		} else if f, err := schema.DecodeFact(m.Value); err != nil {
			factsRejected.Inc()
			log.Warn("ignoring undecodable fact", slog.String("key", string(m.Key)), slog.Any("err", err))
		} else {
			ix.Upsert(f)
		}
		factsLive.Set(float64(ix.Len()))
	}, log)

	w, err := worker.New(worker.Options{
		Bus: in.bus, Group: c.AnalyzeGroup, MaxBatch: c.BatchSize, Linger: c.BatchLinger, Workers: c.Workers,
		Enricher: en, Sink: in.store, Outbox: in.producer,
	}, log)
	if err != nil {
		return nil, nil, err
	}
	mirror, err := bus.NewConsumer(bus.ConsumerOptions{Config: in.bus, Group: "trendwatch-facts-mirror", Topic: schema.TopicFacts},
		func(ctx context.Context, batch []kafka.Message) error { return mirrorFacts(ctx, in, batch, log) }, log)
	if err != nil {
		return nil, nil, err
	}
	velocity, err := worker.NewTrends(worker.TrendOptions{Bus: in.bus, Group: c.TrendsGroup, Config: trends.DefaultConfig(), Sink: in.store}, log)
	if err != nil {
		return nil, nil, err
	}
	actors := append(settingsActors,
		actor{"facts-follower", follower.Run},
		actor{"analyze", func(ctx context.Context) error {
			select {
			case <-follower.Synced():
				log.Info("facts index loaded", slog.Int("facts", ix.Len()))
			case <-ctx.Done():
				return nil
			}
			if !ps.waitSettings(ctx) {
				return nil
			}
			return w.Run(ctx)
		}},
		actor{"facts-mirror", mirror.Run},
		actor{"trends", velocity.Run},
	)
	return actors, en, nil
}

// mirrorFacts copies fact changes into ClickHouse for the dashboard.
func mirrorFacts(ctx context.Context, in *infra, batch []kafka.Message, log *slog.Logger) error {
	var puts []schema.Fact
	flush := func() error {
		if len(puts) == 0 {
			return nil
		}
		err := in.store.WriteFacts(ctx, puts)
		puts = puts[:0]
		return err
	}
	for _, m := range batch {
		if m.Value == nil {
			// Keep order between a put and a later delete of the same id.
			if err := flush(); err != nil {
				return err
			}
			if err := in.store.DeleteFact(ctx, string(m.Key)); err != nil {
				return err
			}
			continue
		}
		f, err := schema.DecodeFact(m.Value)
		if err != nil {
			if err := in.producer.DeadLetter(ctx, "facts-mirror", m, err.Error()); err != nil {
				return err
			}
			continue
		}
		puts = append(puts, f)
	}
	return flush()
}
