package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/schema"
)

type fakeEnricher struct{ facts map[string]schema.Fact }

func (f fakeEnricher) Enrich(p schema.Post) schema.Analyzed {
	a := schema.Analyzed{Post: p, Topics: []string{"#t"}}
	if p.Text == "match" {
		a.Matches = []schema.Match{{FactID: "f1", Score: 0.9, Verdict: schema.VerdictFalse}, {FactID: "f2", Score: 0.4, Verdict: schema.VerdictFalse}}
	}
	return a
}

func (f fakeEnricher) Alerting(a *schema.Analyzed) []schema.Match {
	var out []schema.Match
	for _, m := range a.Matches {
		if m.Score >= 0.5 {
			out = append(out, m)
		}
	}
	return out
}

func (f fakeEnricher) Fact(id string) (schema.Fact, bool) { x, ok := f.facts[id]; return x, ok }

type fakeSink struct {
	err   error
	wait  <-chan struct{} // when set, WriteAnalyzed first waits for it
	posts []schema.Analyzed
}

func (s *fakeSink) WriteAnalyzed(ctx context.Context, ps []schema.Analyzed) error {
	if s.wait != nil {
		select {
		case <-s.wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.err != nil {
		return s.err
	}
	s.posts = append(s.posts, ps...)
	return nil
}

// fakeOutbox records what it was given; its parts run concurrently.
type fakeOutbox struct {
	mu                  sync.Mutex
	alertErr, eventErr  error
	alertCalls, evCalls int
	alerts              []schema.Alert
	events              []schema.TopicEvent
	dead                []string
	alerted             chan struct{} // closed at the first successful PublishAlerts, when not nil
}

func (o *fakeOutbox) PublishAlerts(_ context.Context, a []schema.Alert) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.alertCalls++
	if o.alertErr != nil {
		return o.alertErr
	}
	o.alerts = append(o.alerts, a...)
	if o.alerted != nil {
		close(o.alerted)
		o.alerted = nil
	}
	return nil
}
func (o *fakeOutbox) PublishTopicEvents(_ context.Context, e []schema.TopicEvent) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.evCalls++
	if o.eventErr != nil {
		return o.eventErr
	}
	o.events = append(o.events, e...)
	return nil
}
func (o *fakeOutbox) DeadLetter(_ context.Context, stage string, m kafka.Message, reason string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dead = append(o.dead, reason)
	return nil
}

func msg(t *testing.T, p schema.Post) kafka.Message {
	t.Helper()
	b, err := schema.Encode(&p)
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Key: []byte(p.ID), Value: b}
}

func TestHandle(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	sink, out := &fakeSink{}, &fakeOutbox{}
	w, err := New(Options{Enricher: fakeEnricher{facts: map[string]schema.Fact{"f1": {ID: "f1", Claim: "c", URL: "u"}}}, Sink: sink, Outbox: out, Now: func() time.Time { return now }}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p1 := schema.Post{ID: "p1", Text: "match", Author: "a", Published: now}
	p2 := schema.Post{ID: "p2", Text: "other", Published: now}
	batch := []kafka.Message{msg(t, p1), {Value: []byte("{broken")}, msg(t, p2), msg(t, p1), {Value: []byte(`{"v":99,"id":"x"}`)}}
	if err := w.Handle(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if len(out.dead) != 2 {
		t.Fatalf("dead letters %v, want the two bad messages", out.dead)
	}
	if len(sink.posts) != 2 {
		t.Fatalf("stored %d posts, want 2 (the duplicate in the batch once)", len(sink.posts))
	}
	if len(out.alerts) != 1 || out.alerts[0].FactID != "f1" || out.alerts[0].Key != schema.AlertKey("f1", "p1") || out.alerts[0].Claim != "c" {
		t.Fatalf("alerts = %+v, want one for f1/p1 with the claim", out.alerts)
	}
	if len(out.events) != 2 {
		t.Fatalf("topic events = %d, want one per post and topic", len(out.events))
	}

}

// countingEnricher counts the posts it enriches.
type countingEnricher struct {
	fakeEnricher
	n *atomic.Int64
}

func (c countingEnricher) Enrich(p schema.Post) schema.Analyzed {
	c.n.Add(1)
	return c.fakeEnricher.Enrich(p)
}

// TestHandleFailures: a failure of the sink or of either outbox part fails
// the batch (so it is not committed); the consumer's retry of the same
// batch redoes only the parts that failed, without enriching again, so in
// the end each part has happened exactly once; another batch starts afresh.
func TestHandleFailures(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	down := errors.New("down")
	for _, tc := range []struct {
		name                 string
		sink, alerts, events error
	}{
		{"sink", down, nil, nil},
		{"alerts", nil, down, nil},
		{"topic events", nil, nil, down},
		{"sink and topic events", down, nil, down},
		{"all", down, down, down},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink, out := &fakeSink{err: tc.sink}, &fakeOutbox{alertErr: tc.alerts, eventErr: tc.events}
			enriched := new(atomic.Int64)
			w, err := New(Options{Enricher: countingEnricher{n: enriched}, Sink: sink, Outbox: out, Now: func() time.Time { return now }}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			batch := []kafka.Message{msg(t, schema.Post{ID: "p1", Text: "match", Published: now}), {Value: []byte("{broken")}, msg(t, schema.Post{ID: "p2", Text: "other", Published: now})}
			for i := range batch {
				batch[i].Partition, batch[i].Offset = 1, int64(10+i)
			}
			err = w.Handle(context.Background(), batch)
			if err == nil || !errors.Is(err, down) {
				t.Fatalf("Handle = %v, want the failure", err)
			}
			// The parts that did not fail went out anyway.
			if (tc.sink == nil) != (len(sink.posts) == 2) || (tc.alerts == nil) != (len(out.alerts) == 1) || (tc.events == nil) != (len(out.events) == 2) {
				t.Fatalf("after the failure: %d posts stored, %d alerts, %d events", len(sink.posts), len(out.alerts), len(out.events))
			}

			// Retry of the very batch, everything up again.
			sink.err, out.alertErr, out.eventErr = nil, nil, nil
			if err := w.Handle(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			if len(sink.posts) != 2 || len(out.alerts) != 1 || len(out.events) != 2 || len(out.dead) != 1 {
				t.Fatalf("after the retry: %d posts stored, %d alerts, %d events, %d dead letters; want each once", len(sink.posts), len(out.alerts), len(out.events), len(out.dead))
			}
			if n := enriched.Load(); n != 2 {
				t.Fatalf("after the retry: %d posts enriched, want 2 (the retry reuses the work)", n)
			}

			// A new batch (even with the same posts) is handled in full.
			again := append([]kafka.Message(nil), batch...)
			if err := w.Handle(context.Background(), again); err != nil {
				t.Fatal(err)
			}
			if len(sink.posts) != 4 || len(out.alerts) != 2 || len(out.events) != 4 || len(out.dead) != 2 {
				t.Fatalf("a new batch: %d posts stored, %d alerts, %d events, %d dead letters", len(sink.posts), len(out.alerts), len(out.events), len(out.dead))
			}
			if n := enriched.Load(); n != 4 {
				t.Fatalf("a new batch: %d posts enriched in all, want 4", n)
			}
		})
	}
}

// TestHandleAlertsBeforeStore: alerts go out while the ClickHouse write is
// still running (serially this sink would wait for the alert forever).
func TestHandleAlertsBeforeStore(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	alerted := make(chan struct{})
	sink, out := &fakeSink{wait: alerted}, &fakeOutbox{alerted: alerted}
	w, err := New(Options{Enricher: fakeEnricher{}, Sink: sink, Outbox: out, Now: func() time.Time { return now }}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Handle(ctx, []kafka.Message{msg(t, schema.Post{ID: "p1", Text: "match", Published: now})}); err != nil {
		t.Fatalf("Handle = %v: the sink never saw the alert published", err)
	}
	if len(sink.posts) != 1 || len(out.alerts) != 1 {
		t.Fatalf("%d posts stored, %d alerts", len(sink.posts), len(out.alerts))
	}
}
