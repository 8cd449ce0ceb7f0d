package main

// Fault-injection suite (issue 8): the distributed pipeline on PRIVATE
// Kafka and ClickHouse servers (own ports and state directory, so the
// shared test servers other packages use are never disturbed), fed by the
// bench generator, through four faults back to back:
//
//  1. SIGKILL the analyzer while posts flow, then restart it;
//  2. restart the Kafka broker while posts flow;
//  3. stop ClickHouse for 60 s while posts flow;
//  4. take the webhook receiver down for 60 s while alerts are raised.
//
// After each: ClickHouse holds exactly the published posts (FINAL,
// distinct ids, no duplicate row), every hashtag aggregate (each topic's
// Timeline, and the store's Trends query the API serves) equals the count
// computed from what was published, and every
// notification key reached the receiver exactly once, none missing.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/bench"
	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/internal/testsvc"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// privateServices are Kafka and ClickHouse started by scripts/kafka.sh and
// scripts/clickhouse.sh with their port and state overrides.
type privateServices struct {
	env               []string
	kafka, clickhouse string
}

func portOf(t *testing.T) string {
	_, p, _ := net.SplitHostPort(freePort(t))
	return p
}

func startPrivateServices(t *testing.T) *privateServices {
	t.Helper()
	state, err := os.MkdirTemp("", "tw-fault-")
	if err != nil {
		t.Fatal(err)
	}
	kp, kcp, cp, chp := portOf(t), portOf(t), portOf(t), portOf(t)
	s := &privateServices{
		env: []string{"TRENDWATCH_STATE=" + state, "TRENDWATCH_KAFKA_PORT=" + kp, "TRENDWATCH_KAFKA_CONTROLLER_PORT=" + kcp,
			"TRENDWATCH_CLICKHOUSE_PORT=" + cp, "TRENDWATCH_CLICKHOUSE_HTTP_PORT=" + chp},
		kafka: "127.0.0.1:" + kp, clickhouse: "127.0.0.1:" + cp,
	}
	t.Cleanup(func() {
		s.script(t, "kafka", "stop")
		s.script(t, "clickhouse", "stop")
		if !t.Failed() {
			os.RemoveAll(state)
		} else {
			t.Logf("private services' state kept in %s", state)
		}
	})
	for _, name := range []string{"kafka", "clickhouse"} {
		if err := s.script(t, name, "start"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("cannot start private %s: %v", name, err)
			}
			t.Skipf("skipping: cannot start private %s: %v", name, err)
		}
	}
	return s
}

// script runs scripts/<name>.sh action against the private instance.
func (s *privateServices) script(t *testing.T, name, action string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(testsvc.ScriptsDir(), name+".sh"), action)
	cmd.Env = append(cleanEnv(), s.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s.sh %s: %w\n%s", name, action, err, tail(out.String(), 2000))
	}
	return nil
}

func (s *privateServices) must(t *testing.T, name, action string) {
	t.Helper()
	if err := s.script(t, name, action); err != nil {
		t.Fatal(err)
	}
}

// switchableReceiver serves a receiver's handler on a fixed address that
// can be taken down and brought back (same port, so the alerter's URL
// stays valid).
type switchableReceiver struct {
	*receiver
	addr string
	mu   sync.Mutex
	srv  *http.Server
}

func newSwitchableReceiver(t *testing.T, secret string) *switchableReceiver {
	rc := newReceiver(t, secret)
	s := &switchableReceiver{receiver: rc, addr: freePort(t)}
	s.up(t)
	t.Cleanup(s.down)
	return s
}

func (s *switchableReceiver) up(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after down
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("cannot listen again on %s: %v", s.addr, err)
	}
	srv := &http.Server{Handler: s.receiver.srv.Config.Handler, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

func (s *switchableReceiver) down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		_ = s.srv.Close() // refuses connections from now on
		s.srv = nil
	}
}

// faultRig is the pipeline under test and the exact expectations.
type faultRig struct {
	t        *testing.T
	svc      *privateServices
	env      []string
	db       string
	prefix   string
	gen      *bench.Generator
	tally    *bench.Tally
	producer *bus.Producer
	rc       *switchableReceiver
	analyzer *proc
	start    time.Time
	alerted  sync.Map // fact id → true: qualifying alerts on trendwatch.alerts
	genMu    sync.Mutex
}

func TestFaultSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: real services, minutes")
	}
	svc := startPrivateServices(t)
	r := &faultRig{t: t, svc: svc, db: "faults", prefix: "faults.", start: time.Now()}
	r.rc = newSwitchableReceiver(t, "fault-secret")
	r.env = []string{
		"TRENDWATCH_KAFKA_BROKERS=" + svc.kafka,
		"TRENDWATCH_CLICKHOUSE_ADDR=" + svc.clickhouse,
		"TRENDWATCH_CLICKHOUSE_DATABASE=" + r.db,
		"TRENDWATCH_KAFKA_TOPIC_PREFIX=" + r.prefix,
		"TRENDWATCH_KAFKA_PARTITIONS=4",
		"TRENDWATCH_DATA_DIR=" + t.TempDir(),
		"TRENDWATCH_BATCH_LINGER=50ms",
		"TRENDWATCH_BATCH_SIZE=1000",
	}
	if out, err := execEnv(r.env, "migrate").CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := bus.Config{Brokers: []string{svc.kafka}, TopicPrefix: r.prefix, Partitions: 4}
	r.producer = bus.NewProducer(cfg, log)
	t.Cleanup(func() { _ = r.producer.Close() })

	// Few facts and a high restating share, so that alerts (one case per
	// fact) keep coming in every phase.
	r.gen = bench.NewGenerator(bench.GenOptions{Seed: 7, RunID: "fault", Facts: 300, MatchShare: 0.05, Hashtags: 150,
		BurstEvery: 20 * time.Second, BurstLen: 4 * time.Second}, time.Now())
	r.tally = bench.NewTally()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.producer.PutFacts(ctx, r.gen.Facts()); err != nil {
		t.Fatalf("cannot publish facts: %v", err)
	}
	r.observeAlerts(cfg, log)

	r.analyzer = r.startAnalyzer()
	startProc(t, "alert", append(r.env, "TRENDWATCH_WEBHOOK_URL=http://"+r.rc.addr+"/hook", "TRENDWATCH_WEBHOOK_SECRET=fault-secret"),
		"alert", "--metrics-listen", freePort(t))

	t.Logf("pipeline up; publishing the baseline")
	r.publish(2000, 1000)
	r.check("baseline")

	t.Run("sigkill-analyzer", func(t *testing.T) {
		done := r.publishAsync(8000, 1000)
		time.Sleep(3 * time.Second)
		if err := r.analyzer.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("cannot kill the analyzer: %v", err)
		}
		err := <-r.analyzer.done
		r.analyzer.done <- err
		time.Sleep(time.Second)
		r.analyzer = r.startAnalyzer()
		<-done
		r.check("after SIGKILL of the analyzer")
	})
	t.Run("restart-kafka", func(t *testing.T) {
		done := r.publishAsync(6000, 1000)
		time.Sleep(2 * time.Second)
		r.svc.must(t, "kafka", "stop")
		time.Sleep(2 * time.Second)
		r.svc.must(t, "kafka", "start")
		<-done
		r.check("after a Kafka broker restart")
	})
	t.Run("clickhouse-down-60s", func(t *testing.T) {
		r.svc.must(t, "clickhouse", "stop")
		down := time.Now()
		r.publish(5000, 1000)
		time.Sleep(time.Until(down.Add(60 * time.Second)))
		r.svc.must(t, "clickhouse", "start")
		r.check("after ClickHouse was down for 60s")
	})
	t.Run("webhook-down-60s", func(t *testing.T) {
		// Fresh facts, restated often, so that new cases (and their
		// notifications) open while the receiver is down.
		fresh := bench.NewGenerator(bench.GenOptions{Seed: 8, RunID: "fault2", Facts: 60, MatchShare: 0.3, Hashtags: 150}, time.Now())
		if err := r.producer.PutFacts(context.Background(), fresh.Facts()); err != nil {
			t.Fatalf("cannot publish fresh facts: %v", err)
		}
		time.Sleep(2 * time.Second) // analyzers follow the facts topic live
		before, _ := r.rc.deliveries()
		r.rc.down()
		down := time.Now()
		r.genMu.Lock()
		r.gen = fresh
		r.genMu.Unlock()
		r.publish(3000, 1000)
		time.Sleep(time.Until(down.Add(60 * time.Second)))
		r.rc.up(t)
		r.check("after the webhook receiver was down for 60s")
		if after, _ := r.rc.deliveries(); len(after)-len(before) < 10 {
			t.Errorf("only %d notifications were raised while the receiver was down; the fault was not exercised", len(after)-len(before))
		}
	})
}

func (r *faultRig) startAnalyzer() *proc {
	return startProc(r.t, "analyze", r.env, "analyze", "--metrics-listen", freePort(r.t))
}

// observeAlerts records which facts must be notified: those with an alert
// on the alerts topic (read in its own consumer group) that qualifies under
// the alerter's policy (the default one, as the alert process runs here).
func (r *faultRig) observeAlerts(cfg bus.Config, log *slog.Logger) {
	pol := policy.Default()
	pol.Verdicts = splitList("false,misleading")
	c, err := bus.NewConsumer(bus.ConsumerOptions{Config: cfg, Group: "fault-observer", Topic: schema.TopicAlerts, Linger: 10 * time.Millisecond},
		func(ctx context.Context, batch []kafka.Message) error {
			for _, m := range batch {
				if a, err := schema.DecodeAlert(m.Value); err == nil && a.Command == nil && pol.Qualifies(a) {
					r.alerted.Store(a.FactID, true)
				}
			}
			return nil
		}, log)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	r.t.Cleanup(func() { cancel(); <-done })
}

// publish sends n generated posts at rate posts/s, retrying each batch
// until Kafka acknowledges it (through broker restarts).
func (r *faultRig) publish(n int, rate float64) {
	r.t.Helper()
	if err := r.publishN(n, rate); err != nil {
		r.t.Fatal(err)
	}
}

func (r *faultRig) publishAsync(n int, rate float64) <-chan error {
	done := make(chan error, 1)
	go func() { done <- r.publishN(n, rate) }()
	return done
}

func (r *faultRig) publishN(n int, rate float64) error {
	const batch = 100
	start := time.Now()
	for sent := 0; sent < n; sent += batch {
		time.Sleep(time.Until(start.Add(time.Duration(float64(sent) / rate * float64(time.Second)))))
		posts := make([]schema.Post, 0, batch)
		r.genMu.Lock()
		for i := 0; i < batch && sent+i < n; i++ {
			g := r.gen.Next(time.Now())
			r.tally.Add(g)
			posts = append(posts, g.Post)
		}
		r.genMu.Unlock()
		deadline := time.Now().Add(3 * time.Minute)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := r.producer.Publish(ctx, posts...)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("cannot publish for 3 minutes: %w", err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return nil
}

// check waits for the pipeline to catch up, then asserts the three
// invariants.
func (r *faultRig) check(phase string) {
	t := r.t
	t.Helper()
	want := r.tally.Posts()
	t.Logf("%s: checking %d published posts", phase, want)
	var conn ch.Conn
	waitFor(t, phase+": ClickHouse answers", 2*time.Minute, func() (bool, string) {
		c, err := ch.Open(&ch.Options{Addr: []string{r.svc.clickhouse}, Auth: ch.Auth{Database: r.db, Username: "default"}})
		if err != nil {
			return false, err.Error()
		}
		if err := c.Ping(context.Background()); err != nil {
			c.Close()
			return false, err.Error()
		}
		conn = c
		return true, ""
	})
	defer conn.Close()
	ctx := context.Background()
	count := func(q string) (uint64, error) {
		var n uint64
		err := conn.QueryRow(ctx, q).Scan(&n)
		return n, err
	}

	// 1. Every published post stored, none twice.
	waitFor(t, phase+": all posts stored", 4*time.Minute, func() (bool, string) {
		n, err := count("SELECT uniqExact(id) FROM posts FINAL")
		if err != nil {
			return false, err.Error()
		}
		return int64(n) >= want, fmt.Sprintf("%d of %d stored", n, want)
	})
	if n, err := count("SELECT uniqExact(id) FROM posts FINAL"); err != nil || int64(n) != want {
		t.Errorf("%s: %d distinct posts in ClickHouse (err %v), published %d", phase, n, err, want)
	}
	if n, err := count("SELECT count() FROM posts FINAL"); err != nil || int64(n) != want {
		t.Errorf("%s: %d post rows after FINAL (err %v), want %d: a post is stored twice", phase, n, err, want)
	}

	// 2. Every hashtag aggregate exact, through the store's queries the
	// API serves (so the check follows the schema as it evolves): each
	// topic's Timeline summed over the run, and Trends' post counts.
	exp := r.tally.Hashtags()
	st, err := clickhouse.Open(ctx, clickhouse.Options{Addrs: []string{r.svc.clickhouse}, Database: r.db}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("%s: %v", phase, err)
	}
	defer st.Close()
	from, to := r.start.Add(-time.Hour).Truncate(time.Hour), time.Now().Add(2*time.Hour).Truncate(time.Hour)
	var bad []string
	for topic, n := range exp {
		pts, err := st.Timeline(ctx, topic, from, to, time.Hour)
		if err != nil {
			t.Fatalf("%s: Timeline(%s): %v", phase, topic, err)
		}
		var got int64
		for _, p := range pts {
			got += p.Posts
		}
		if got != n {
			bad = append(bad, fmt.Sprintf("%s: %d, want %d", topic, got, n))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%s: %d of %d hashtag timelines wrong: %s", phase, len(bad), len(exp), strings.Join(bad[:min(len(bad), 10)], "; "))
	}
	trends, err := st.Trends(ctx, clickhouse.TrendsQuery{Window: 3 * time.Hour, Now: time.Now().Add(2 * time.Minute), Limit: 1000})
	if err != nil {
		t.Fatalf("%s: Trends: %v", phase, err)
	}
	checked := 0
	for _, tr := range trends {
		if n, ok := exp[tr.Topic]; ok {
			checked++
			if tr.Posts != n {
				t.Errorf("%s: Trends says %s has %d posts, published %d", phase, tr.Topic, tr.Posts, n)
			}
		} else if strings.HasPrefix(tr.Topic, schema.TopicHashtag) {
			t.Errorf("%s: Trends has hashtag %s (%d posts) that was never published", phase, tr.Topic, tr.Posts)
		}
	}
	if checked == 0 {
		t.Errorf("%s: Trends returned none of the %d published hashtags", phase, len(exp))
	}

	// 3. Every notification delivered once; every fact alerted on has
	// been notified. New alerts may still be in the alerter's retry
	// backoff (up to ~64 s after an outage), so wait for completeness.
	var missing []string
	waitFor(t, phase+": every alerted fact notified", 3*time.Minute, func() (bool, string) {
		good, _ := r.rc.deliveries()
		notified := map[string]bool{}
		for _, d := range good {
			if id, ok := d.body["fact_id"].(string); ok {
				notified[id] = true
			}
		}
		missing = missing[:0]
		r.alerted.Range(func(k, _ any) bool {
			if !notified[k.(string)] {
				missing = append(missing, k.(string))
			}
			return true
		})
		return len(missing) == 0, fmt.Sprintf("%d alerted facts not notified yet, e.g. %v", len(missing), missing[:min(len(missing), 3)])
	})
	time.Sleep(2 * time.Second) // a duplicate would arrive by now
	good, refused := r.rc.deliveries()
	if len(refused) > 0 {
		t.Errorf("%s: receiver refused %d deliveries: %v", phase, len(refused), refused[:min(len(refused), 3)])
	}
	seen := map[string]int{}
	for _, d := range good {
		if d.key == "" {
			t.Errorf("%s: delivery without idempotency key", phase)
		}
		seen[d.key]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s: notification %s delivered %d times", phase, k, n)
		}
	}
	nFacts := 0
	r.alerted.Range(func(_, _ any) bool { nFacts++; return true })
	if nFacts == 0 {
		t.Errorf("%s: no alert raised at all; the scenario does not exercise notifications", phase)
	}
	t.Logf("%s: %d posts, %d hashtags exact, %d facts alerted, %d notifications each delivered once", phase, want, len(exp), nFacts, len(seen))
}

// TestBenchCommand runs `trendwatch bench` briefly against the shared test
// services (its own topic prefix and scratch database) and checks the
// summary line and the JSON report are consistent.
func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Kafka and ClickHouse")
	}
	brokers := testsvc.Kafka(t)
	chAddr := testsvc.ClickHouse(t)
	out := filepath.Join(t.TempDir(), "bench.json")
	cmd := execEnv([]string{"TRENDWATCH_DATA_DIR=" + t.TempDir()}, "bench", "--kafka-brokers", brokers, "--clickhouse-addr", chAddr,
		"--rate", "500", "--duration", "6s", "--facts", "300", "--match-share", "0.1", "--ceiling-rows", "2000",
		"--metrics-listen", "", "--log-level", "warn", "--json", out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "bench: target 500/s") || !strings.Contains(string(b), "ceiling WriteAnalyzed") {
		t.Errorf("no summary line in:\n%s", b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Pipeline bench.PipelineResult `json:"pipeline"`
		Ceiling  *bench.CeilingResult `json:"ceiling"`
		Ratio    float64              `json:"ratio_sustained_to_store"`
		Database string               `json:"clickhouse_database"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("bad JSON report: %v\n%s", err, raw)
	}
	p := rep.Pipeline
	if !p.Drained || p.Stored != p.Published || p.Published < 2500 || p.Published > 3600 {
		t.Errorf("published %d (want ~3000), stored %d, drained %v", p.Published, p.Stored, p.Drained)
	}
	if p.Restating == 0 || p.Alerts == 0 || math.IsNaN(p.LatencyP99Ms) || p.LatencyP99Ms < p.LatencyP50Ms {
		t.Errorf("alerts %d of %d restating, latency p50 %v p99 %v", p.Alerts, p.Restating, p.LatencyP50Ms, p.LatencyP99Ms)
	}
	if rep.Ceiling == nil || rep.Ceiling.Rows != 2000 || rep.Ceiling.StorePerS <= 0 || rep.Ceiling.PlainPerS <= 0 || rep.Ratio <= 0 {
		t.Errorf("ceiling %+v ratio %v", rep.Ceiling, rep.Ratio)
	}
	// The scratch database is dropped afterwards.
	conn, err := ch.Open(&ch.Options{Addr: []string{chAddr}, Auth: ch.Auth{Database: "default", Username: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.databases WHERE name = '"+rep.Database+"'").Scan(&n); err != nil || n != 0 {
		t.Errorf("bench database %q left behind (count %d, err %v)", rep.Database, n, err)
	}
}

func TestBenchFlags(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		var stderr bytes.Buffer
		err := cmdBench(context.Background(), args, io.Discard, &stderr)
		if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), want) {
			t.Errorf("bench %v: %v, want a usage error with %q", args, err, want)
		}
	}
	f("--analyzers", "--analyzers", "0")
	f("--rate", "--rate", "-5")
	f("--facts", "--facts", "0")
	f("--match-share", "--match-share", "1.5")
	f("unexpected arguments", "extra")
	f("invalid value", "--duration", "soon")
}
