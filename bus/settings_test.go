package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/schema"
)

type settingsRecorder struct {
	mu   sync.Mutex
	last map[string]schema.Setting
	n    int
}

func (r *settingsRecorder) Apply(s schema.Setting) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last[s.Name] = s
	r.n++
}

func (r *settingsRecorder) Remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.last, name)
	r.n++
}

// The settings topic is compacted with one partition, and a follower
// that starts after the changes finds the latest record of each setting
// once Synced; later changes reach it as they come.
func TestSettingsTopic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg := Config{Brokers: brokers(t), TopicPrefix: fmt.Sprintf("settings-%d.", time.Now().UnixNano())}
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p := NewProducer(cfg, log)
	defer p.Close()
	put := func(name string, rev uint64, v string) {
		t.Helper()
		if err := p.PutSetting(ctx, schema.Setting{Name: name, Revision: rev, Value: json.RawMessage(v), Actor: "ann"}); err != nil {
			t.Fatal(err)
		}
	}
	put(schema.SettingThresholds, 1, `{"vi":0.6}`)
	put(schema.SettingAlertPolicy, 1, `{"min_posts":2}`)
	put(schema.SettingThresholds, 2, `{"vi":0.7}`)

	rec := &settingsRecorder{last: map[string]schema.Setting{}}
	f := NewSettingsFollower(cfg, rec, log)
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(fctx) }()
	defer func() { stop(); <-done }()
	select {
	case <-f.Synced():
	case <-ctx.Done():
		t.Fatal("follower never synced")
	}
	rec.mu.Lock()
	th, pol := rec.last[schema.SettingThresholds], rec.last[schema.SettingAlertPolicy]
	rec.mu.Unlock()
	if th.Revision != 2 || string(th.Value) != `{"vi":0.7}` || th.Actor != "ann" || th.Time.IsZero() || pol.Revision != 1 {
		t.Fatalf("after sync: thresholds %+v, policy %+v", th, pol)
	}

	start := time.Now()
	put(schema.SettingThresholds, 3, `{"vi":0.8}`)
	for {
		rec.mu.Lock()
		rev := rec.last[schema.SettingThresholds].Revision
		rec.mu.Unlock()
		if rev == 3 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("a change did not reach the follower within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("change reached the follower in %v", time.Since(start))

	conn, err := kafka.DialContext(ctx, "tcp", cfg.Brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(cfg.Topic(schema.TopicSettings))
	if err != nil || len(parts) != 1 {
		t.Fatalf("settings topic partitions %v, %v; want 1", parts, err)
	}
	cl := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...)}
	resp, err := cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: cfg.Topic(schema.TopicSettings), ConfigNames: []string{"cleanup.policy"}}}})
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, r := range resp.Resources {
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "cleanup.policy" {
				policy = e.ConfigValue
			}
		}
	}
	if policy != "compact" {
		t.Errorf("settings topic cleanup.policy = %q, want compact", policy)
	}
}
