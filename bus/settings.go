package bus

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/schema"
)

// settingsTopic is compacted (the latest record of each setting is what
// counts, and a process that starts later must find it) and has one
// partition: settings are few and their order matters to the alerter's
// journal.
func settingsTopic(cfg Config) kafka.TopicConfig {
	return kafka.TopicConfig{Topic: cfg.Topic(schema.TopicSettings), NumPartitions: 1, ReplicationFactor: cfg.replication(),
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}}
}

// PutSetting publishes a setting's new record, keyed by its name.
func (p *Producer) PutSetting(ctx context.Context, s schema.Setting) error {
	if s.Time.IsZero() {
		s.Time = time.Now().UTC()
	}
	b, err := schema.Encode(&s)
	if err != nil {
		return fmt.Errorf("cannot encode setting %s: %w", s.Name, err)
	}
	return p.Produce(ctx, schema.TopicSettings, kafka.Message{Key: []byte(s.Name), Value: b})
}

// SettingsSink receives the settings topic's records in order: Apply a
// new value, Remove on a tombstone.
type SettingsSink interface {
	Apply(schema.Setting)
	Remove(name string)
}

// NewSettingsFollower follows the settings topic from its beginning into
// sink. A record that cannot be decoded is logged and skipped (it is a
// setting, not data: the dead-letter queue would not help anyone).
func NewSettingsFollower(cfg Config, sink SettingsSink, logger *slog.Logger) *Follower {
	return NewFollower(cfg, schema.TopicSettings, func(m kafka.Message) {
		if m.Value == nil {
			sink.Remove(string(m.Key))
			return
		}
		s, err := schema.DecodeSetting(m.Value)
		if err != nil {
			logger.Warn("ignoring undecodable setting", slog.String("key", string(m.Key)), slog.Any("err", err))
			return
		}
		sink.Apply(s)
	}, logger)
}
