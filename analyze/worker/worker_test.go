package worker

import (
	"context"
	"errors"
	"log/slog"
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
	posts []schema.Analyzed
}

func (s *fakeSink) WriteAnalyzed(_ context.Context, ps []schema.Analyzed) error {
	if s.err != nil {
		return s.err
	}
	s.posts = append(s.posts, ps...)
	return nil
}

type fakeOutbox struct {
	alerts []schema.Alert
	events []schema.TopicEvent
	dead   []string
}

func (o *fakeOutbox) PublishAlerts(_ context.Context, a []schema.Alert) error {
	o.alerts = append(o.alerts, a...)
	return nil
}
func (o *fakeOutbox) PublishTopicEvents(_ context.Context, e []schema.TopicEvent) error {
	o.events = append(o.events, e...)
	return nil
}
func (o *fakeOutbox) DeadLetter(_ context.Context, stage string, m kafka.Message, reason string) error {
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

	// A sink failure is returned (the consumer retries, nothing committed)
	// and nothing is emitted for the batch.
	sink.err = errors.New("clickhouse down")
	out2 := &fakeOutbox{}
	w.opts.Outbox = out2
	if err := w.Handle(context.Background(), []kafka.Message{msg(t, p1)}); err == nil {
		t.Fatal("sink error swallowed")
	}
	if len(out2.alerts)+len(out2.events) != 0 {
		t.Fatal("alerts or events emitted before the posts were stored")
	}
}
