package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/analyze/trends"
	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/internal/testsvc"
	"github.com/trendwatch/trendwatch/schema"
)

type memFlags struct {
	mu    sync.Mutex
	flags map[string]schema.Flag
}

func (m *memFlags) WriteFlags(_ context.Context, fs []schema.Flag) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range fs {
		m.flags[fmt.Sprintf("%s|%s|%s", f.Topic, f.Kind, f.Time.Format(time.RFC3339Nano))] = f
	}
	return nil
}

func (m *memFlags) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.flags {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// syntheticEvents is a stream of topic events: steady topics posting every
// few minutes all day, and topics that burst with many authors at once.
func syntheticEvents(seed uint64) []schema.TopicEvent {
	rng := rand.New(rand.NewPCG(seed, 7))
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var evs []schema.TopicEvent
	n := 0
	add := func(topic string, at time.Time, author string) {
		n++
		evs = append(evs, schema.TopicEvent{Topic: topic, PostID: fmt.Sprintf("p%06d", n), Author: author, Time: at})
	}
	for i := range 40 {
		topic := fmt.Sprintf("#steady%02d", i)
		for t := start; t.Before(start.Add(12 * time.Hour)); t = t.Add(time.Duration(5+rng.IntN(20)) * time.Minute) {
			add(topic, t, fmt.Sprintf("s%d", rng.IntN(30)))
		}
	}
	for i := range 20 {
		topic := fmt.Sprintf("#burst%02d", i)
		at := start.Add(time.Duration(2+rng.IntN(9)) * time.Hour)
		for j := range 60 + rng.IntN(100) {
			add(topic, at.Add(time.Duration(j*rng.IntN(20))*time.Second), fmt.Sprintf("b%d-%d", i, j))
		}
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].Time.Before(evs[b].Time) })
	return evs
}

// runTrends consumes the prefixed topic with n processes (detectors) in one
// group until every event was counted, and returns the flags.
func runTrends(t *testing.T, cfg bus.Config, n int, evs []schema.TopicEvent) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	sink := &memFlags{flags: map[string]schema.Flag{}}
	var ws []*Trends
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range n {
		w, err := NewTrends(TrendOptions{Bus: cfg, Config: trends.DefaultConfig(), Sink: sink}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.Run(rctx) }()
	}
	// Let the group settle so no partition moves (and loses its state)
	// while events flow.
	time.Sleep(6 * time.Second)
	p := bus.NewProducer(cfg, slog.New(slog.DiscardHandler))
	defer p.Close()
	if err := p.PublishTopicEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for {
		var seen int64
		for _, w := range ws {
			w.mu.Lock()
			seen += w.det.Stats().Events + w.det.Stats().Late
			w.mu.Unlock()
		}
		if seen >= int64(len(evs)) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("only %d of %d events counted", seen, len(evs))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// End of input: flush every detector so the last buckets close.
	for _, w := range ws {
		w.mu.Lock()
		rest := w.det.Flush()
		w.mu.Unlock()
		if err := w.write(ctx, rest); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	wg.Wait()
	return sink.keys()
}

// TestTrendsGlobalAcrossProcesses: three analyzer processes on a
// six-partition topic produce the same flags as one process.
func TestTrendsGlobalAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Kafka")
	}
	var brokers []string
	if os.Getenv("TRENDWATCH_TEST_KAFKA") != "" || os.Getenv("CI") == "true" {
		var err error
		if brokers, err = bus.ParseBrokers(testsvc.Kafka(t)); err != nil {
			t.Fatal(err)
		}
	} else {
		e, err := bus.StartEmbedded("", 0, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		brokers = e.Brokers()
	}
	evs := syntheticEvents(1)
	run := time.Now().UnixNano()
	one := runTrends(t, bus.Config{Brokers: brokers, Partitions: 6, TopicPrefix: fmt.Sprintf("g1-%d.", run)}, 1, evs)
	three := runTrends(t, bus.Config{Brokers: brokers, Partitions: 6, TopicPrefix: fmt.Sprintf("g3-%d.", run)}, 3, evs)
	if len(one) == 0 {
		t.Fatal("no flags at all: the synthetic bursts should be flagged")
	}
	bursts := 0
	for _, k := range one {
		if len(k) > 6 && k[:6] == "#burst" {
			bursts++
		}
	}
	if bursts == 0 {
		t.Errorf("no burst topic flagged among %d flags", len(one))
	}
	if fmt.Sprint(one) != fmt.Sprint(three) {
		t.Fatalf("1 process: %d flags, 3 processes: %d flags\n1: %v\n3: %v", len(one), len(three), one, three)
	}
	t.Logf("%d events, %d flags, identical with 1 and 3 processes", len(evs), len(one))
}
