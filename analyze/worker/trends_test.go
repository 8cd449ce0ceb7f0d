package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/analyze/trends"
	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/internal/testsvc"
	"github.com/trendwatch/trendwatch/schema"
)

// lockedBuffer collects log lines from several goroutines.
type lockedBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, string(p))
	return len(p), nil
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines[max(0, len(b.lines)-n):], "")
}

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
	// The workers' and the Kafka reader's log, shown if events go missing.
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var ws []*Trends
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range n {
		w, err := NewTrends(TrendOptions{Bus: cfg, Config: trends.DefaultConfig(), Sink: sink}, log)
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
			t.Fatalf("only %d of %d events counted; log tail:\n%s", seen, len(evs), logs.tail(60))
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

// flakyFlags fails every write while down is set.
type flakyFlags struct {
	memFlags
	down bool
}

func (f *flakyFlags) WriteFlags(ctx context.Context, fs []schema.Flag) error {
	if f.down {
		return errors.New("clickhouse down")
	}
	return f.memFlags.WriteFlags(ctx, fs)
}

// all returns every flag in full, sorted.
func (m *memFlags) all() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k, f := range m.flags {
		out = append(out, fmt.Sprintf("%s %+v", k, f))
	}
	sort.Strings(out)
	return out
}

// feedTrends hands batches to a fresh Trends stage, then flushes it, and
// returns every flag it stored. Before each batch, fail (when set) may
// make the sink refuse it once; the batch is then offered again, as the
// consumer does.
func feedTrends(t *testing.T, batches [][]kafka.Message, fail func(i int) bool) []string {
	t.Helper()
	sink := &flakyFlags{memFlags: memFlags{flags: map[string]schema.Flag{}}}
	w, err := NewTrends(TrendOptions{Config: trends.DefaultConfig(), Sink: sink}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	refused := 0
	for i, b := range batches {
		if fail != nil && fail(i) {
			sink.down = true
			if err := w.Handle(ctx, b); err == nil {
				if len(w.unwritten) > 0 {
					t.Fatalf("batch %d: sink failure swallowed", i)
				}
			} else {
				refused++
			}
			sink.down = false
		}
		if err := w.Handle(ctx, b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if fail != nil && refused == 0 {
		t.Fatal("no batch had flags to refuse: the failure path went untested")
	}
	if err := w.write(ctx, w.det.Flush()); err != nil {
		t.Fatal(err)
	}
	return sink.all()
}

func singleMessages(t *testing.T, evs []schema.TopicEvent) []kafka.Message {
	t.Helper()
	out := make([]kafka.Message, len(evs))
	for i := range evs {
		b, err := schema.EncodeTopicEvent(evs[i])
		if err != nil {
			t.Fatal(err)
		}
		out[i] = kafka.Message{Key: []byte(evs[i].Topic), Value: b, Offset: int64(i)}
	}
	return out
}

func packedMessage(t *testing.T, evs []schema.TopicEvent) kafka.Message {
	t.Helper()
	b, err := schema.EncodeTopicEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Key: []byte(evs[0].Topic), Value: b}
}

// TestTrendsHandlePackedSameFlags: the same events as single messages, as
// packed messages, and as a mix of both (an upgrade in progress) raise the
// very same flags; so does a run whose flag sink fails now and then, and
// one that receives batches again (an analyzer batch redelivered).
func TestTrendsHandlePackedSameFlags(t *testing.T) {
	evs := syntheticEvents(2)
	const chunk = 400 // events per analyzer batch
	var single, packed, mixed, dup, dupNow [][]kafka.Message
	for lo := 0; lo < len(evs); lo += chunk {
		part := evs[lo:min(lo+chunk, len(evs))]
		single = append(single, singleMessages(t, part))
		// Several packed messages per batch, as from several partitions.
		var pm []kafka.Message
		for plo := 0; plo < len(part); plo += 150 {
			pm = append(pm, packedMessage(t, part[plo:min(plo+150, len(part))]))
		}
		packed = append(packed, pm)
		if len(mixed)%2 == 0 {
			mixed = append(mixed, append(singleMessages(t, part[:len(part)/2]), packedMessage(t, part[len(part)/2:])))
		} else {
			mixed = append(mixed, pm)
		}
		dup = append(dup, pm)
		dupNow = append(dupNow, pm, append([]kafka.Message(nil), pm...))
		if lo > 0 { // the previous analyzer batch's events once more
			dup = append(dup, []kafka.Message{packedMessage(t, evs[lo-chunk:lo])})
		}
	}
	want := feedTrends(t, single, nil)
	if len(want) == 0 {
		t.Fatal("no flags from the synthetic stream")
	}
	for _, tc := range []struct {
		name    string
		batches [][]kafka.Message
		fail    func(int) bool
	}{
		{"packed", packed, nil},
		{"mixed", mixed, nil},
		{"sink fails", packed, func(i int) bool { return i%3 == 1 }},
		{"redelivered events", dup, nil},
		{"redelivered at once", dupNow, nil},
	} {
		if got := feedTrends(t, tc.batches, tc.fail); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %d flags, single messages gave %d\n got %v\nwant %v", tc.name, len(got), len(want), got, want)
		}
	}

	// Undecodable messages are skipped, the rest of the batch counts.
	sink := &memFlags{flags: map[string]schema.Flag{}}
	w, _ := NewTrends(TrendOptions{Config: trends.DefaultConfig(), Sink: sink}, slog.New(slog.DiscardHandler))
	bad := []kafka.Message{{Value: []byte("\x00\x07")}, packed[0][0], {Value: []byte("{")}}
	if err := w.Handle(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	if st := w.det.Stats(); st.Events != 150 {
		t.Fatalf("counted %d events, want the packed message's 150", st.Events)
	}
}
