package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/schema"
)

// brokers returns the real Kafka named by TRENDWATCH_TEST_KAFKA (the
// integration run sets it) or else an embedded kfake broker. Topics are
// shared on a real cluster, so tests use their own consumer groups.
func brokers(t *testing.T) []string {
	t.Helper()
	if s := os.Getenv("TRENDWATCH_TEST_KAFKA"); s != "" {
		b, err := ParseBrokers(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	e, err := StartEmbedded("", 0, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e.Brokers()
}

func TestParseBrokers(t *testing.T) {
	f := func(in string, want []string, wantErr bool) {
		t.Helper()
		got, err := ParseBrokers(in)
		if (err != nil) != wantErr {
			t.Fatalf("ParseBrokers(%q) err = %v, want error %v", in, err, wantErr)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("ParseBrokers(%q) = %v, want %v", in, got, want)
		}
	}
	f("127.0.0.1:9092", []string{"127.0.0.1:9092"}, false)
	f(" a:1, b:2 ,", []string{"a:1", "b:2"}, false)
	f("", nil, true)
	f("localhost", nil, true)
	f("a:0", nil, true)
	f("a:http", nil, true)
}

func TestConsumerCommitsOnlyAfterSink(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := Config{Brokers: brokers(t), Partitions: 3}
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, cfg); err != nil { // idempotent
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p := NewProducer(cfg, log)
	defer p.Close()
	run := fmt.Sprintf("t%d-", time.Now().UnixNano()) // unique on a shared real cluster
	var posts []schema.Post
	for i := range 50 {
		posts = append(posts, schema.Post{ID: fmt.Sprintf("%sp%02d", run, i), Text: "x", Published: time.Unix(1700000000, 0).UTC(), Source: "s", Platform: "rss"})
	}
	if err := p.Publish(ctx, posts...); err != nil {
		t.Fatal(err)
	}

	// First member: its sink refuses everything, then it stops. Nothing
	// may be committed.
	// It stops after its third refusal, or after 30 s (joining the group
	// and the first fetch take seconds on a loaded machine).
	var refused int
	ctx1, cancel1 := context.WithTimeout(ctx, 30*time.Second)
	c1, _ := NewConsumer(ConsumerOptions{Config: cfg, Group: run + "g", Topic: schema.TopicPosts, Linger: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
		func(ctx context.Context, b []kafka.Message) error {
			if refused++; refused >= 3 {
				cancel1()
			}
			return errors.New("sink down")
		}, log)
	_ = c1.Run(ctx1)
	cancel1()
	if refused < 2 {
		t.Fatalf("sink was offered %d batches, want retries", refused)
	}

	// Second member of the same group gets every message again.
	var mu sync.Mutex
	seen := map[string]int{}
	ctx2, cancel2 := context.WithCancel(ctx)
	c2, _ := NewConsumer(ConsumerOptions{Config: cfg, Group: run + "g", Topic: schema.TopicPosts, Linger: 20 * time.Millisecond},
		func(ctx context.Context, b []kafka.Message) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range b {
				if strings.HasPrefix(string(m.Key), run) {
					seen[string(m.Key)]++
				}
			}
			if len(seen) == len(posts) {
				cancel2()
			}
			return nil
		}, log)
	_ = c2.Run(ctx2)
	if len(seen) != len(posts) {
		t.Fatalf("second member saw %d distinct posts, want %d", len(seen), len(posts))
	}

	// A third member starts after the commit: nothing is left.
	var late int
	c3, _ := NewConsumer(ConsumerOptions{Config: cfg, Group: run + "g", Topic: schema.TopicPosts, Linger: 20 * time.Millisecond},
		func(ctx context.Context, b []kafka.Message) error {
			for _, m := range b {
				if strings.HasPrefix(string(m.Key), run) {
					late++
				}
			}
			return nil
		}, log)
	ctx3, cancel3 := context.WithTimeout(ctx, 3*time.Second)
	_ = c3.Run(ctx3)
	cancel3()
	if late != 0 {
		t.Fatalf("committed messages were delivered again: %d", late)
	}
}

func TestFollowerSeesFactsAndTombstones(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := Config{Brokers: brokers(t), Partitions: 2}
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p := NewProducer(cfg, log)
	defer p.Close()
	run := fmt.Sprintf("t%d-", time.Now().UnixNano())
	if err := p.PutFacts(ctx, []schema.Fact{{ID: run + "f1", Claim: "a"}, {ID: run + "f2", Claim: "b"}, {ID: run + "f3", Claim: "c"}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	facts := map[string]string{}
	apply := func(m kafka.Message) {
		mu.Lock()
		defer mu.Unlock()
		if !strings.HasPrefix(string(m.Key), run) {
			return
		}
		if m.Value == nil {
			delete(facts, string(m.Key))
			return
		}
		f, err := schema.DecodeFact(m.Value)
		if err != nil {
			t.Errorf("bad fact: %v", err)
			return
		}
		facts[f.ID] = f.Claim
	}
	fl := NewFollower(cfg, schema.TopicFacts, apply, log)
	go fl.Run(ctx)
	select {
	case <-fl.Synced():
	case <-ctx.Done():
		t.Fatal("follower never synced")
	}
	mu.Lock()
	if len(facts) != 3 {
		t.Fatalf("after sync have %d facts, want 3", len(facts))
	}
	mu.Unlock()
	// Live update and delete arrive within a second.
	if err := p.PutFacts(ctx, []schema.Fact{{ID: run + "f1", Claim: "a2"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteFact(ctx, run+"f2"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		mu.Lock()
		ok := facts[run+"f1"] == "a2" && len(facts) == 2
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("update/delete not applied within 1s: %v", facts)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeadLetterKeepsOriginal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := Config{Brokers: brokers(t), Partitions: 1}
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p := NewProducer(cfg, log)
	defer p.Close()
	key := fmt.Sprintf("k%d", time.Now().UnixNano())
	bad := kafka.Message{Topic: schema.TopicPosts, Partition: 2, Offset: 7, Key: []byte(key), Value: []byte("{not json")}
	if err := p.DeadLetter(ctx, "analyze", bad, "cannot decode post"); err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Brokers, Topic: schema.TopicDLQ, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	var m kafka.Message
	for string(m.Key) != key {
		var err error
		if m, err = r.ReadMessage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var d schema.DeadLetter
	if err := json.Unmarshal(m.Value, &d); err != nil {
		t.Fatal(err)
	}
	if d.Value != "{not json" || d.Reason != "cannot decode post" || d.Offset != 7 || d.Partition != 2 || d.Stage != "analyze" || d.V != schema.Version {
		t.Fatalf("dead letter = %+v", d)
	}
}

// EnsureTopics returns only once the broker lists every new topic with all
// its partitions led: a producer asking right after must not be told the
// topic does not exist.
func TestEnsureTopicsReturnsReadyTopics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg := Config{Brokers: brokers(t), Partitions: 4, TopicPrefix: fmt.Sprintf("ready-%d.", time.Now().UnixNano())}
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	conn, err := kafka.DialContext(ctx, "tcp", cfg.Brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, topic := range []string{cfg.Topic(schema.TopicPosts), cfg.Topic(schema.TopicFacts), cfg.Topic(TopicTrends)} {
		parts, err := conn.ReadPartitions(topic)
		if err != nil {
			t.Fatalf("%s right after EnsureTopics: %v", topic, err)
		}
		if !topicsReady(parts, []kafka.TopicConfig{{Topic: topic, NumPartitions: 4}}) {
			t.Errorf("%s right after EnsureTopics: partitions %v, want 4 led", topic, parts)
		}
	}
	// Existing topics keep their partition count: a config asking for
	// more must not wait for partitions that will never come.
	more := cfg
	more.Partitions = 8
	start := time.Now()
	if err := EnsureTopics(ctx, more); err != nil {
		t.Fatalf("EnsureTopics on existing 4-partition topics asked for 8: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("EnsureTopics on existing topics took %v", d)
	}
}

func TestTopicsReady(t *testing.T) {
	led := kafka.Broker{Host: "h", Port: 1}
	want := []kafka.TopicConfig{{Topic: "a", NumPartitions: 2}, {Topic: "b", NumPartitions: 1}}
	for _, c := range []struct {
		parts []kafka.Partition
		ready bool
	}{
		{[]kafka.Partition{{Topic: "a", Leader: led}, {Topic: "a", ID: 1, Leader: led}, {Topic: "b", Leader: led}}, true},
		{[]kafka.Partition{{Topic: "a", Leader: led}, {Topic: "a", ID: 1}, {Topic: "b", Leader: led}}, false}, // no leader yet
		{[]kafka.Partition{{Topic: "a", Leader: led}, {Topic: "a", ID: 1, Leader: led}}, false},               // b unknown
		{nil, false},
		// An existing topic asked for 1: its own count, all led.
		{[]kafka.Partition{{Topic: "a", Leader: led}, {Topic: "a", ID: 1, Leader: led}, {Topic: "a", ID: 2, Leader: led}, {Topic: "b", Leader: led}}, true},
		{[]kafka.Partition{{Topic: "a", Leader: led}, {Topic: "a", ID: 1, Leader: led}, {Topic: "a", ID: 2}, {Topic: "b", Leader: led}}, false},
	} {
		if got := topicsReady(c.parts, want); got != c.ready {
			t.Errorf("topicsReady(%v) = %v, want %v", c.parts, got, c.ready)
		}
	}
}
