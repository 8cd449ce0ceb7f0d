package bus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/schema"
)

// TestNewGroupSeesExistingData: a consumer group that did not exist when
// the posts were written (a new analyzer deployment, a renamed group, the
// first start of `run` racing a push) reads every one of them: new groups
// start at the earliest offset, never at the end. Two groups, one joining
// before and one after the writes, each see all posts once.
func TestNewGroupSeesExistingData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	run := fmt.Sprintf("so%d.", time.Now().UnixNano()) // own topics on a shared cluster
	cfg := Config{Brokers: brokers(t), Partitions: 3, TopicPrefix: run}
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p := NewProducer(cfg, log)
	defer p.Close()

	type seen struct {
		mu  sync.Mutex
		ids map[string]int
	}
	consume := func(group string, s *seen) func() {
		c, err := NewConsumer(ConsumerOptions{Config: cfg, Group: group, Topic: schema.TopicPosts, Linger: 20 * time.Millisecond},
			func(_ context.Context, batch []kafka.Message) error {
				s.mu.Lock()
				defer s.mu.Unlock()
				for _, m := range batch {
					s.ids[string(m.Key)]++
				}
				return nil
			}, log)
		if err != nil {
			t.Fatal(err)
		}
		cctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = c.Run(cctx) }()
		return func() { stop(); <-done }
	}
	early := &seen{ids: map[string]int{}}
	stopEarly := consume("early", early) // joins while the writes happen

	var posts []schema.Post
	for i := range 40 {
		posts = append(posts, schema.Post{ID: fmt.Sprintf("p%02d", i), Text: "x", Published: time.Unix(1700000000, 0).UTC(), Source: "s", Platform: "push"})
	}
	if err := p.Publish(ctx, posts...); err != nil {
		t.Fatal(err)
	}
	late := &seen{ids: map[string]int{}}
	stopLate := consume("late", late) // the topic already holds all posts
	defer stopLate()
	defer stopEarly()

	for name, s := range map[string]*seen{"early": early, "late": late} {
		deadline := time.Now().Add(60 * time.Second)
		for {
			s.mu.Lock()
			n := len(s.ids)
			s.mu.Unlock()
			if n == len(posts) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("group %s saw %d of %d posts", name, n, len(posts))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
