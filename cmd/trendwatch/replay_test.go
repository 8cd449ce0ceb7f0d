package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/ingest/replay"
	"github.com/trendwatch/trendwatch/internal/testsvc"
	"github.com/trendwatch/trendwatch/schema"
)

const viNewsFixture = "testdata/replay/vi-news-2026-08-20.jsonl"

// TestReplayPublishes: `trendwatch replay FILE` without --dry-run puts every
// record of a vi-news day on the posts topic of a real Kafka, with the
// recorded times and the language given.
func TestReplayPublishes(t *testing.T) {
	brokers := testsvc.Kafka(t)
	prefix := fmt.Sprintf("replay%d.", time.Now().UnixNano())
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"replay", "--kafka-brokers", brokers, "--kafka-topic-prefix", prefix,
		"--speed", "0", "--lang", "vi", "--data-dir", t.TempDir(), viNewsFixture}, &out, &errb)
	if code != 0 {
		t.Fatalf("replay exited %d\n%s%s", code, out.String(), errb.String())
	}
	f, err := os.Open(viNewsFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, _, err := replay.Read(f, replay.Defaults{Lang: "vi"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("published %d posts", len(want))) {
		t.Errorf("summary: %s", out.String())
	}
	got := readPosts(t, bus.Config{Brokers: strings.Split(brokers, ","), TopicPrefix: prefix}, len(want))
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok {
			t.Errorf("post %s (%s) not on the topic", w.ID, w.Title)
			continue
		}
		if g.Lang != "vi" || !g.Published.Equal(w.Published) || g.Title != w.Title {
			t.Errorf("post %s: lang %q published %v title %q, want vi %v %q", w.ID, g.Lang, g.Published, g.Title, w.Published, w.Title)
		}
	}
}

// TestReplayWithoutKafka says what to set instead of failing on a hook.
func TestReplayWithoutKafka(t *testing.T) {
	var out, errb bytes.Buffer
	t.Setenv("TRENDWATCH_KAFKA_BROKERS", "")
	os.Unsetenv("TRENDWATCH_KAFKA_BROKERS")
	code := runMain(context.Background(), []string{"replay", "--data-dir", t.TempDir(), viNewsFixture}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "--kafka-brokers") || !strings.Contains(errb.String(), "--data-dir") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

// readPosts reads n posts from the posts topic, by id.
func readPosts(t *testing.T, cfg bus.Config, n int) map[string]schema.Post {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	got := map[string]schema.Post{}
	c, err := bus.NewConsumer(bus.ConsumerOptions{Config: cfg, Group: "readback", Topic: schema.TopicPosts, Linger: 20 * time.Millisecond},
		func(_ context.Context, batch []kafka.Message) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range batch {
				p, err := schema.DecodePost(m.Value)
				if err != nil {
					t.Errorf("undecodable post: %v", err)
					continue
				}
				got[p.ID] = p
			}
			if len(got) >= n {
				cancel()
			}
			return nil
		}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Run(ctx)
	mu.Lock()
	defer mu.Unlock()
	if len(got) < n {
		t.Fatalf("read %d posts back, want %d", len(got), n)
	}
	return got
}
