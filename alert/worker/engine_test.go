package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trendwatch/trendwatch/alert/cases"
	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/notify/webhook"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	goleak.VerifyTestMain(m)
}

var secret = []byte("test-secret")

// receiver is a webhook endpoint that verifies signatures, fails the first
// failFirst attempts of every idempotency key, and counts acceptances.
type receiver struct {
	t         testing.TB
	failFirst int
	mu        sync.Mutex
	attempts  map[string]int
	accepted  map[string]int // key -> accepted deliveries (receivers dedupe on these)
	got       map[string]notify.Notification
	order     map[string][]int // case -> sequence numbers in first-acceptance order
	srv       *httptest.Server
}

func newReceiver(t testing.TB, failFirst int) *receiver {
	r := &receiver{t: t, failFirst: failFirst, attempts: map[string]int{}, accepted: map[string]int{}, got: map[string]notify.Notification{}, order: map[string][]int{}}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := webhook.Verify(secret, req, time.Minute)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var n notify.Notification
	if err := json.Unmarshal(body, &n); err != nil || n.Key == "" || n.Key != req.Header.Get(webhook.HeaderIdempotencyKey) {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts[n.Key]++
	if r.attempts[n.Key] <= r.failFirst {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if r.accepted[n.Key] == 0 {
		r.order[n.CaseID] = append(r.order[n.CaseID], n.Seq)
	}
	r.accepted[n.Key]++
	r.got[n.Key] = n
}

func (r *receiver) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k := range r.accepted {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (r *receiver) channel(t testing.TB) notify.Channel {
	c, err := webhook.New(webhook.Config{URL: r.srv.URL, Secret: secret, Client: r.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clock is an injectable clock tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock    { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

func testOptions(dir string, channels map[string]notify.Channel, routes []policy.Route) Options {
	pol := policy.Default()
	pol.Cooldown = 0
	return Options{Policy: pol, Routes: routes, Channels: channels, StateDir: dir, Store: cases.NewMemoryStore(),
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Tick: 5 * time.Millisecond,
		Deadline: time.Minute, DrainTimeout: 2 * time.Second}
}

// started runs e until the test ends (or stop is called) and returns stop.
func started(t testing.TB, e *Engine) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func alert(fact, post, author string, score float64, verdict string, at time.Time) schema.Alert {
	return schema.Alert{V: 1, Key: schema.AlertKey(fact, post), FactID: fact, PostID: post, Verdict: verdict,
		Claim: "claim of " + fact, FactURL: "https://facts.example/" + fact, Score: score, Lang: "vi",
		Platform: "mastodon", Author: author, PostURL: "https://social.example/" + post, PostText: "post " + post,
		Published: at, Detected: at}
}

func command(fact, id, kind, actor string, at time.Time) schema.Alert {
	return schema.Alert{V: 1, FactID: fact, Command: &schema.CaseCommand{ID: id, Kind: kind, Actor: actor, Time: at}}
}

// TestSingleMatchOneWebhook is the walking-skeleton contract: one post
// matching a false fact gives exactly one signed webhook.
func TestSingleMatchOneWebhook(t *testing.T) {
	rcv := newReceiver(t, 0)
	opts := testOptions(t.TempDir(), map[string]notify.Channel{"hook": rcv.channel(t)},
		[]policy.Route{{Name: "all", Channels: []string{"hook"}}})
	opts.Policy = policy.Default() // the real defaults
	e, err := New(opts, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	stop := started(t, e)
	now := time.Now()
	if err := e.Handle(context.Background(), []schema.Alert{alert("fact-1", "p1", "an", 0.9, schema.VerdictFalse, now)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one webhook", func() bool { return len(rcv.keys()) == 1 })
	stop()
	cs := e.Cases()
	if len(cs) != 1 || cs[0].Status != cases.StatusOpen || cs[0].Posts != 1 {
		t.Fatalf("cases %+v", cs)
	}
	want := notify.NotificationKey(cs[0].ID, 1)
	if k := rcv.keys(); len(k) != 1 || k[0] != want || rcv.accepted[want] != 1 {
		t.Fatalf("receiver got %v, want exactly %s once", rcv.accepted, want)
	}
	n := rcv.got[want]
	if n.Kind != notify.KindOpened || n.FactID != "fact-1" || n.Posts != 1 || len(n.Samples) != 1 {
		t.Fatalf("notification %+v", n)
	}
}

// workload is ~1000 posts: three false facts spreading in bursts, plus
// posts about a true fact, a mixed one, and weak matches.
func workload(start time.Time) []schema.Alert {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []schema.Alert
	facts := []struct {
		id, verdict string
	}{{"fact-a", schema.VerdictFalse}, {"fact-b", schema.VerdictMisleading}, {"fact-c", schema.VerdictFalse}}
	for fi, f := range facts {
		for burst := range 3 {
			t0 := start.Add(time.Duration(burst)*4*time.Hour + time.Duration(fi)*17*time.Minute)
			for i := range 100 {
				post := fmt.Sprintf("%s-%d-%d", f.id, burst, i)
				author := fmt.Sprintf("user%d", rng.IntN(70))
				at := t0.Add(time.Duration(rng.IntN(40*60)) * time.Second)
				out = append(out, alert(f.id, post, author, 0.6+0.4*rng.Float64(), f.verdict, at))
			}
		}
	}
	for i := range 100 {
		at := start.Add(time.Duration(rng.IntN(12*3600)) * time.Second)
		switch i % 3 {
		case 0:
			out = append(out, alert("fact-true", fmt.Sprint("t", i), "x", 0.95, schema.VerdictTrue, at))
		case 1:
			out = append(out, alert("fact-mixed", fmt.Sprint("m", i), "y", 0.95, schema.VerdictMixed, at))
		default:
			out = append(out, alert("fact-weak", fmt.Sprint("w", i), "z", 0.3, schema.VerdictFalse, at))
		}
	}
	slices.SortStableFunc(out, func(a, b schema.Alert) int { return a.Published.Compare(b.Published) })
	return out
}

func batches(all []schema.Alert, size int) [][]schema.Alert {
	var out [][]schema.Alert
	for len(all) > 0 {
		n := min(size, len(all))
		out = append(out, all[:n])
		all = all[n:]
	}
	return out
}

// expectedKeys lists the notification keys each channel must end up with,
// from the cases' notification sequence and routing history.
func expectedKeys(cs []cases.Case, channel string) []string {
	var out []string
	for _, c := range cs {
		for _, ev := range c.History {
			if ev.Kind == cases.EventNotified && ev.Channel == channel {
				out = append(out, ev.Key)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestBurstsCrashRestart is the acceptance scenario in process:
// bursts of posts about three false facts plus unrelated posts, receivers
// that fail every notification's first two attempts, the engine abandoned
// mid-way (as by SIGKILL) and restarted on the same state dir, and one
// batch redelivered. Exactly three cases; each routed notification reaches
// its receiver; no key is ever new for the same notification.
func TestBurstsCrashRestart(t *testing.T) {
	desk, editor := newReceiver(t, 2), newReceiver(t, 2)
	dir := t.TempDir()
	channels := map[string]notify.Channel{"desk": desk.channel(t), "editor": editor.channel(t)}
	routes := []policy.Route{
		{Name: "desk", Channels: []string{"desk"}},
		{Name: "editor", MinSeverity: policy.SeverityHigh, Channels: []string{"editor"}},
	}
	opts := testOptions(dir, channels, routes)
	e1, err := New(opts, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	started(t, e1)
	bs := batches(workload(time.Now().Add(-24*time.Hour)), 40)
	half := len(bs) / 2
	for _, b := range bs[:half] {
		if err := e1.Handle(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	// Let some deliveries happen, then die without shutdown.
	waitFor(t, "first deliveries", func() bool { return len(desk.keys()) > 0 })
	e1.kill()

	e2, err := New(opts, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	before := e2.Cases()
	pendingAtRestart := e2.Pending()
	if pendingAtRestart == 0 {
		t.Fatal("nothing was pending at the kill: the test does not exercise recovery")
	}
	// The last acknowledged batch comes again (offsets were not committed).
	for _, b := range bs[half-1:] {
		if err := e2.Handle(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	stop := started(t, e2)
	cs := e2.Cases()
	if len(cs) != 3 {
		t.Fatalf("%d cases, want 3: %+v", len(cs), cs)
	}
	for _, c := range cs {
		if c.Posts != 300 {
			t.Errorf("case %s of %s counts %d posts, want 300", c.ID, c.FactID, c.Posts)
		}
		if c.Authors < 50 || c.Authors > 70 {
			t.Errorf("case %s: %d authors", c.ID, c.Authors)
		}
		if c.PeakRate < 100 || c.PeakRate > 200 {
			t.Errorf("case %s: peak rate %d", c.ID, c.PeakRate)
		}
	}
	for _, c := range before {
		for _, after := range cs {
			if after.ID == c.ID && after.NotifySeq < c.NotifySeq {
				t.Errorf("case %s went back from seq %d to %d", c.ID, c.NotifySeq, after.NotifySeq)
			}
		}
	}
	wantDesk, wantEditor := expectedKeys(cs, "desk"), expectedKeys(cs, "editor")
	waitFor(t, "all deliveries", func() bool {
		return slices.Equal(desk.keys(), wantDesk) && slices.Equal(editor.keys(), wantEditor) && e2.Pending() == 0
	})
	stop()
	if len(wantEditor) == 0 || len(wantEditor) >= len(wantDesk) {
		t.Errorf("routing: editor got %d notifications, desk %d", len(wantEditor), len(wantDesk))
	}
	dups := 0
	for _, r := range []*receiver{desk, editor} {
		for k, n := range r.accepted {
			if n > 1 {
				dups++
				t.Logf("%s accepted %d times (deduplicated by the receiver)", k, n)
			}
		}
	}
	for c, seqs := range desk.order {
		if !slices.IsSorted(seqs) {
			t.Errorf("case %s: desk received sequence %v out of order", c, seqs)
		}
	}
	// At most the deliveries in flight at the kill are repeated.
	if dups > opts.Concurrency+4 {
		t.Errorf("%d keys delivered more than once", dups)
	}
	t.Logf("cases=3 desk=%d editor=%d pending at restart=%d repeated=%d", len(wantDesk), len(wantEditor), pendingAtRestart, dups)
}
