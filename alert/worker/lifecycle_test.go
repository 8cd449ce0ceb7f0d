package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/trendwatch/trendwatch/alert/cases"
	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

// TestAckSnoozeResolve: acknowledging stops escalation, snooze silences
// until its time, resolve closes, on an injected clock.
func TestAckSnoozeResolve(t *testing.T) {
	desk, duty := newReceiver(t, 0), newReceiver(t, 0)
	clk := newClock(time.Now())
	opts := testOptions(t.TempDir(), map[string]notify.Channel{"desk": desk.channel(t), "duty": duty.channel(t)},
		[]policy.Route{{Name: "desk", Channels: []string{"desk"}, Escalate: []string{"duty"}, EscalateAfter: 10 * time.Minute}})
	opts.Now = clk.Now
	e, err := New(opts, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	stop := started(t, e)
	ctx := context.Background()
	now := clk.Now()
	if err := e.Handle(ctx, []schema.Alert{
		alert("acked", "1", "a", .9, schema.VerdictFalse, now),
		alert("snoozed", "1", "a", .9, schema.VerdictFalse, now),
		alert("resolved", "1", "a", .9, schema.VerdictFalse, now),
		alert("ignored", "1", "a", .9, schema.VerdictFalse, now),
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "four openings", func() bool { return len(desk.keys()) == 4 })
	clk.Add(time.Minute)
	snooze := command("snoozed", "s1", schema.CmdSnooze, "lan", clk.Now())
	snooze.Command.Until = clk.Now().Add(20 * time.Minute)
	if err := e.Handle(ctx, []schema.Alert{
		command("acked", "a1", schema.CmdAcknowledge, "minh", clk.Now()),
		snooze,
		command("resolved", "r1", schema.CmdResolve, "lan", clk.Now()),
	}); err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * time.Minute) // 11 minutes after opening
	waitFor(t, "escalation of the ignored case", func() bool { return len(duty.keys()) == 1 })
	time.Sleep(50 * time.Millisecond) // give wrong escalations a chance to show
	if k := duty.keys(); len(k) != 1 || duty.got[k[0]].FactID != "ignored" || duty.got[k[0]].Kind != notify.KindEscalation {
		t.Fatalf("escalations %v", k)
	}
	clk.Add(11 * time.Minute) // the snooze has ended
	waitFor(t, "escalation after the snooze", func() bool { return len(duty.keys()) == 2 })
	stop()
	status := map[string]string{}
	for _, c := range e.Cases() {
		status[c.FactID] = c.Status
		if c.FactID == "acked" && (c.AckedBy != "minh" || c.AckedAt.IsZero()) {
			t.Errorf("ack not recorded with who/when: %+v", c)
		}
	}
	want := map[string]string{"acked": cases.StatusAcknowledged, "snoozed": cases.StatusOpen, "resolved": cases.StatusResolved, "ignored": cases.StatusOpen}
	for f, s := range want {
		if status[f] != s {
			t.Errorf("%s: status %q, want %q", f, status[f], s)
		}
	}
	// The store saw every transition with who and when.
	var kinds []string
	for _, ev := range opts.Store.(*cases.MemoryStore).Events() {
		if ev.Actor != cases.ActorSystem {
			kinds = append(kinds, ev.FactID+":"+ev.Kind+":"+ev.Actor)
		}
	}
	if got := strings.Join(kinds, " "); got != "acked:acknowledged:minh snoozed:snoozed:lan resolved:resolved:lan" {
		t.Fatalf("stored events: %s", got)
	}
}

type dlq struct {
	mu  sync.Mutex
	got []string
}

func (d *dlq) DeadLetter(_ context.Context, n notify.Notification, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, n.Key+" "+reason)
	return nil
}

func (d *dlq) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.got...)
}

// TestDeadLetter: a receiver that keeps failing past the deadline, and one
// that rejects the payload, both end in the DLQ, the metrics and the
// case's history.
func TestDeadLetter(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }))
	defer down.Close()
	reject := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(400) }))
	defer reject.Close()
	downR, rejectR := &receiver{srv: down}, &receiver{srv: reject}
	sink := &dlq{}
	// Metrics are global: unique channel names keep -count=N runs apart.
	chDown, chReject := unique("dl-down"), unique("dl-reject")
	opts := testOptions(t.TempDir(), map[string]notify.Channel{chDown: downR.channel(t), chReject: rejectR.channel(t)},
		[]policy.Route{{Name: "all", Channels: []string{chDown, chReject}}})
	opts.Deadline, opts.DLQ = 150*time.Millisecond, sink
	e, err := New(opts, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	stop := started(t, e)
	if err := e.Handle(context.Background(), []schema.Alert{alert("f", "1", "a", .9, schema.VerdictFalse, time.Now())}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two dead letters", func() bool { return len(sink.list()) == 2 && e.Pending() == 0 })
	stop()
	got := strings.Join(sink.list(), "\n")
	if !strings.Contains(got, chReject+": permanent after 1 attempts") || !strings.Contains(got, chDown+": deadline after") {
		t.Fatalf("dead letters:\n%s", got)
	}
	if n := value(droppedTotal.WithLabelValues(chReject, "permanent")); n != 1 {
		t.Errorf("dropped{permanent} = %v", n)
	}
	if n := value(droppedTotal.WithLabelValues(chDown, "deadline")); n != 1 {
		t.Errorf("dropped{deadline} = %v", n)
	}
	if f, r := value(failedTotal.WithLabelValues(chDown)), value(retriedTotal.WithLabelValues(chDown)); f < 2 || r != f-1 {
		t.Errorf("failed %v retried %v", f, r)
	}
	dead := 0
	for _, ev := range e.Cases()[0].History {
		if ev.Kind == cases.EventDeadLettered {
			dead++
		}
	}
	if dead != 2 {
		t.Errorf("history has %d dead letters", dead)
	}
	// Restarting does not resend what was dead-lettered.
	e2, err := New(opts, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if e2.Pending() != 0 {
		t.Fatalf("%d pending after restart", e2.Pending())
	}
	// A second alerter on the same state dir is refused.
	if _, err := New(opts, slog.Default()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second engine on one dir: %v", err)
	}
}

// TestQueueBound: past QueueSize, new notifications are dropped and
// counted rather than growing memory without bound.
func TestQueueBound(t *testing.T) {
	rcv := newReceiver(t, 0)
	ch := unique("q-bound")
	opts := testOptions(t.TempDir(), map[string]notify.Channel{ch: rcv.channel(t)}, []policy.Route{{Name: "all", Channels: []string{ch}}})
	opts.QueueSize = 2
	e, err := New(opts, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	// Run is not started, so nothing drains.
	now := time.Now()
	if err := e.Handle(context.Background(), []schema.Alert{alert("a", "1", "x", .9, "false", now), alert("b", "1", "x", .9, "false", now), alert("c", "1", "x", .9, "false", now)}); err != nil {
		t.Fatal(err)
	}
	if e.Pending() != 2 || value(droppedTotal.WithLabelValues(ch, "queue_full")) != 1 {
		t.Fatalf("pending %d", e.Pending())
	}
	stop := started(t, e)
	waitFor(t, "delivery", func() bool { return e.Pending() == 0 })
	stop()
	if n := value(sentTotal.WithLabelValues(ch)); n != 2 {
		t.Fatalf("sent %v", n)
	}
	if latencyCount(ch) != 2 {
		t.Fatal("no latency observed")
	}
}

func TestNewValidates(t *testing.T) {
	f := func(mut func(*Options), want string) {
		t.Helper()
		o := testOptions(t.TempDir(), map[string]notify.Channel{"a": nil}, []policy.Route{{Name: "r", Channels: []string{"a"}}})
		mut(&o)
		if _, err := New(o, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("want %q, got %v", want, err)
		}
	}
	f(func(o *Options) { o.StateDir = "" }, "StateDir")
	f(func(o *Options) {}, `unknown channel "a"`)
	f(func(o *Options) { o.Policy.MinPosts = 0 }, "min_posts")
	f(func(o *Options) { o.Routes = nil }, "no routes")
}

// TestNoChannelsKeepsCases: a first `trendwatch run` has no notification
// channel; the alerter must still start and keep cases for the dashboard.
func TestNoChannelsKeepsCases(t *testing.T) {
	o := testOptions(t.TempDir(), nil, nil)
	o.Policy = policy.Default()
	e, err := New(o, nil)
	if err != nil {
		t.Fatalf("New without channels: %v", err)
	}
	stop := started(t, e)
	defer stop()
	if err := e.Handle(context.Background(), []schema.Alert{alert("fact-1", "p1", "an", 0.9, schema.VerdictFalse, time.Now())}); err != nil {
		t.Fatal(err)
	}
	if cs := e.Cases(); len(cs) != 1 || cs[0].FactID != "fact-1" {
		t.Fatalf("cases %+v, want one for fact-1", cs)
	}
}

// value reads a counter (testutil would add a module to go.sum).
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

func latencyCount(channel string) uint64 {
	var m dto.Metric
	if err := latency.WithLabelValues(channel).(prometheus.Metric).Write(&m); err != nil {
		return 0
	}
	return m.GetHistogram().GetSampleCount()
}

var uniq atomic.Int64

func unique(name string) string { return fmt.Sprintf("%s-%d", name, uniq.Add(1)) }

// batchStore is a MemoryStore with the batch write, counting its calls,
// each as slow as a database round trip.
type batchStore struct {
	*cases.MemoryStore
	mu    sync.Mutex
	calls int
}

func (b *batchStore) SaveAll(ctx context.Context, cs []cases.Case, es []cases.Event) error {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	for _, c := range cs {
		if err := b.Save(ctx, c); err != nil {
			return err
		}
	}
	for _, e := range es {
		if err := b.AppendEvent(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// TestBatchStoreMirrorsEveryCase: with a slow batch store, a burst of
// cases is delivered without waiting on it (a write per delivery would
// take 300 × 20 ms), mirrored in batches, and every case and delivery
// reaches it.
func TestBatchStoreMirrorsEveryCase(t *testing.T) {
	rcv := newReceiver(t, 0)
	o := testOptions(t.TempDir(), map[string]notify.Channel{"hook": rcv.channel(t)}, []policy.Route{{Name: "all", Channels: []string{"hook"}}})
	bs := &batchStore{MemoryStore: cases.NewMemoryStore()}
	o.Store = bs
	e, err := New(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := started(t, e)
	now := time.Now()
	var batch []schema.Alert
	for i := range 300 {
		batch = append(batch, alert(fmt.Sprintf("fact-%d", i), fmt.Sprintf("p%d", i), "an", 0.9, schema.VerdictFalse, now))
	}
	if err := e.Handle(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "300 webhooks", func() bool { return len(rcv.keys()) == 300 })
	stop() // the store catches up before Run returns
	stored, err := bs.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 300 {
		t.Fatalf("store has %d cases, want 300", len(stored))
	}
	delivered := 0
	for _, ev := range bs.Events() {
		if ev.Kind == cases.EventDelivered {
			delivered++
		}
	}
	if delivered != 300 {
		t.Errorf("store has %d delivered events, want 300", delivered)
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.calls == 0 || bs.calls > 150 { // ~20 ms writes each catch many deliveries
		t.Errorf("%d batch writes for 300 cases and their deliveries; want a few, batched", bs.calls)
	}
}
