// Package worker is the alerter: it folds alert messages (matches and case
// commands from trendwatch.alerts) into cases, journals every effect before
// the caller commits Kafka offsets, and delivers notifications through the
// configured channels with retries, a deadline, a dead-letter sink and
// metrics.
//
// Its sender follows Prometheus' notifier: a bounded queue, counters of
// sent/failed/retried/dropped notifications, an injectable clock and
// channels, and a drain on shutdown. Durability is a write-ahead journal
// (JSON lines, one fsync per batch, compaction into a snapshot) under
// StateDir: after SIGKILL, a new Engine on the same directory has every
// acknowledged batch's cases, dedupe keys and pending notifications, so
// nothing is lost and no notification gets a new idempotency key.
// Delivery is at-least-once per (notification, channel); receivers drop
// repeats by the idempotency key.
//
// One Engine owns a state dir (an flock refuses a second). Case state is
// local to the alerter that owns a fact's partition: with several alerter
// processes in one consumer group, a rebalance would leave a fact's state
// behind, so run one alerter (the embedded default), or pin partitions with
// a state dir each. A fresh state dir is seeded from Store.Load so case ids
// and notification sequences continue.
//
// It imports neither Kafka nor ClickHouse: the caller feeds Handle and
// supplies the case Store and dead-letter sink. Standard library plus
// client_golang for metrics.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trendwatch/trendwatch/alert/cases"
	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

// DeadLetterSink receives notifications that could not be delivered.
type DeadLetterSink interface {
	DeadLetter(ctx context.Context, n notify.Notification, reason string) error
}

// DeadLetterFunc adapts a function to DeadLetterSink.
type DeadLetterFunc func(ctx context.Context, n notify.Notification, reason string) error

// DeadLetter calls f.
func (f DeadLetterFunc) DeadLetter(ctx context.Context, n notify.Notification, reason string) error {
	return f(ctx, n, reason)
}

// Options configure an Engine. Zero values take the defaults noted.
type Options struct {
	Policy   policy.Config // zero value: policy.Default()
	Routes   []policy.Route
	Channels map[string]notify.Channel
	StateDir string         // required: journal and snapshot
	DLQ      DeadLetterSink // nil logs dead letters at error level
	Store    cases.Store    // nil keeps cases in memory only
	Now      func() time.Time
	// Tags gives a fact's tags for routing; nil means none.
	Tags func(factID string) []string
	// PublicURL, when set, links notifications to PublicURL/cases/<id>.
	PublicURL string

	QueueSize    int           // pending deliveries; 10000
	Concurrency  int           // sends in flight; 16
	PerChannel   int           // sends in flight per channel; half of Concurrency, so a slow channel cannot hold every slot
	MinBackoff   time.Duration // first retry delay; 1s
	MaxBackoff   time.Duration // retry delay cap; 5m
	Deadline     time.Duration // from creation to dead letter; 1h
	SendTimeout  time.Duration // per attempt; 30s
	Tick         time.Duration // timer resolution; 1s
	DrainTimeout time.Duration // on shutdown; 10s
	CompactBytes int64         // journal size that triggers compaction; 16 MiB
	// Jitter returns a number in [0,1); nil uses math/rand/v2.
	Jitter func() float64
}

func (o *Options) defaults() error {
	if o.StateDir == "" {
		return errors.New("alert worker: StateDir is required")
	}
	if len(o.Policy.Verdicts) == 0 && o.Policy.Window == 0 && o.Policy.MinPosts == 0 {
		o.Policy = policy.Default() // a zero Config means "the defaults"
	}
	if err := o.Policy.Validate(); err != nil {
		return err
	}
	// With no channel at all the alerter still keeps cases for the
	// dashboard (a first `trendwatch run`); routes are checked once there
	// is somewhere to deliver.
	if len(o.Routes) > 0 || len(o.Channels) > 0 {
		if err := policy.ValidateRoutes(o.Routes, func(c string) bool { return o.Channels[c] != nil }); err != nil {
			return err
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, 5*time.Minute)
	def(&o.Deadline, time.Hour)
	def(&o.SendTimeout, 30*time.Second)
	def(&o.Tick, time.Second)
	def(&o.DrainTimeout, 10*time.Second)
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.Concurrency <= 0 {
		// A burst of new cases must reach a receiver within seconds; two
		// sends per channel capped a webhook at ~200 notifications/s.
		o.Concurrency = 16
	}
	if o.PerChannel <= 0 {
		o.PerChannel = max(1, o.Concurrency/2)
	}
	if o.CompactBytes <= 0 {
		o.CompactBytes = 16 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	return nil
}

// Engine is the alerter. Handle and Run may be called concurrently.
type Engine struct {
	opts      Options
	log       *slog.Logger
	wake      chan struct{}
	mirror    sync.Mutex  // orders store writes
	mirroring atomic.Bool // a background store write is running (mirrorSoon)
	mirrorWG  sync.WaitGroup

	mu      sync.Mutex
	book    *cases.Book
	journal *journal
	pending map[string]*delivery
	sched   *sched // pending deliveries indexed for the loop
	broken  error  // a journal write failed: memory is ahead of disk
	backlog []any  // store writes that failed, retried before new ones
	// policySet: SetPolicy replaced Options.Policy (now or in a journaled
	// run); the journaled policy is kept across restarts.
	policySet bool

	// killed simulates SIGKILL in tests: Run returns at once, nothing more
	// reaches the journal.
	killed chan struct{}
}

// New loads the state in opts.StateDir (snapshot + journal) and returns
// an engine ready for Handle and Run.
func New(opts Options, logger *slog.Logger) (*Engine, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{opts: opts, log: logger, wake: make(chan struct{}, 1), pending: map[string]*delivery{}, sched: newSched(),
		killed: make(chan struct{}), book: cases.NewBook(opts.Policy, opts.Routes, opts.Tags)}
	j, err := openJournal(opts.StateDir, e.replay)
	if err != nil {
		return nil, err
	}
	e.journal = j
	if e.book.Len() == 0 && opts.Store != nil {
		// Fresh state dir: carry on the open cases the store knows.
		list, err := opts.Store.Load(context.Background())
		if err != nil {
			j.Close()
			return nil, fmt.Errorf("cannot load cases: %w", err)
		}
		latest := map[string]cases.Case{}
		for _, c := range list {
			if c.Generation >= latest[c.FactID].Generation {
				latest[c.FactID] = c
			}
		}
		for _, c := range latest {
			e.book.Replay(cases.Delta{FactID: c.FactID, Case: c, ResetAuthors: true})
		}
	}
	// Retry everything that was pending at once: the process that queued
	// it is gone, and its backoff timers with it.
	now := opts.Now()
	for _, d := range e.pending {
		if d.Next.After(now) {
			d.Next = now
		}
		e.sched.add(d)
	}
	if err := e.compactLocked(); err != nil {
		j.Close()
		return nil, err
	}
	e.gauges()
	logger.Info("alerter state loaded", slog.String("dir", opts.StateDir), slog.Int("cases", len(e.book.Cases())),
		slog.Int("pending", len(e.pending)))
	return e, nil
}

func (e *Engine) replay(r record) error {
	switch r.Op {
	case "delta":
		if r.Delta != nil {
			e.book.Replay(*r.Delta)
		}
	case "queue":
		if r.Delivery != nil {
			d := *r.Delivery
			e.pending[d.ID] = &d
		}
	case "done":
		delete(e.pending, r.ID)
	case "policy":
		if r.Policy != nil {
			e.book.SetPolicy(*r.Policy)
			e.policySet = true
		}
	default:
		return fmt.Errorf("unknown journal op %q", r.Op)
	}
	return nil
}

func (e *Engine) compactLocked() error {
	s := snapshot{Facts: e.book.Snapshot()}
	if e.policySet {
		pol := e.book.Policy()
		s.Policy = &pol
	}
	ids := slices.Sorted(maps.Keys(e.pending))
	for _, id := range ids {
		s.Deliveries = append(s.Deliveries, e.pending[id])
	}
	return e.journal.Compact(s)
}

// Close releases the state dir of an engine whose Run was never started
// (Run releases it when it returns). Handle fails afterwards.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.broken == nil {
		e.broken = errors.New("engine closed")
	}
	return e.journal.Close()
}

// SetPolicy puts pol in force between two batches: it is journaled (and
// kept in snapshots) before it applies, so a restart replays every batch
// under the policy it was decided with, and starts with pol. Alerts
// already counted are not re-judged; timers follow the new cooldown.
func (e *Engine) SetPolicy(pol policy.Config) error {
	if err := pol.Validate(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.broken != nil {
		return fmt.Errorf("alert engine stopped after a journal failure, restart it: %w", e.broken)
	}
	if reflect.DeepEqual(pol, e.book.Policy()) {
		return nil // a restart re-reads the settings: nothing to journal
	}
	if err := e.journal.Append([]record{{Op: "policy", Policy: &pol}}); err != nil {
		journalErrors.Inc()
		e.broken = err
		return err
	}
	e.book.SetPolicy(pol)
	e.policySet = true
	e.signal()
	return nil
}

// Policy returns the policy in force.
func (e *Engine) Policy() policy.Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.book.Policy()
}

// Cases returns the visible cases.
func (e *Engine) Cases() []cases.Case {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.book.Cases()
}

// Pending returns how many deliveries wait.
func (e *Engine) Pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.pending)
}

// Handle applies a batch of alert messages. It returns once their effects
// (case state, dedupe keys, queued notifications) are fsynced to the
// journal and mirrored to the Store; the caller may then commit offsets.
// Replaying a batch after a crash is harmless: alert keys and command ids
// already applied are skipped.
func (e *Engine) Handle(ctx context.Context, batch []schema.Alert) error {
	e.mu.Lock()
	if e.broken != nil {
		e.mu.Unlock()
		return fmt.Errorf("alert engine stopped after a journal failure, restart it: %w", e.broken)
	}
	eff := e.book.Apply(batch, e.opts.Now())
	err := e.commitLocked(eff)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	e.signal()
	return e.flushStore(ctx, eff)
}

// commitLocked journals eff and queues its notifications.
func (e *Engine) commitLocked(eff cases.Effects) error {
	now := e.opts.Now()
	var recs []record
	var queued []*delivery
	for _, o := range eff.Notify {
		if e.opts.PublicURL != "" {
			o.N.CaseURL = strings.TrimRight(e.opts.PublicURL, "/") + "/cases/" + url.PathEscape(o.N.CaseID)
		}
		for _, ch := range o.Channels {
			d := &delivery{ID: o.N.Key + "/" + ch, FactID: o.N.FactID, Channel: ch, N: o.N,
				Deadline: o.N.Created.Add(e.opts.Deadline), Next: now}
			if _, dup := e.pending[d.ID]; dup {
				continue
			}
			if len(e.pending)+len(queued) >= e.opts.QueueSize {
				droppedTotal.WithLabelValues(ch, "queue_full").Inc()
				e.log.Error("notification dropped: queue full", slog.String("key", o.N.Key), slog.String("channel", ch),
					slog.Int("queue", e.opts.QueueSize))
				more := e.book.Record(o.N.FactID, cases.Event{CaseID: o.N.CaseID, FactID: o.N.FactID, Kind: cases.EventDropped,
					Actor: cases.ActorSystem, Time: now, Key: o.N.Key, Channel: ch, Detail: "queue full"})
				eff.Deltas = append(eff.Deltas, more.Deltas...)
				eff.Events = append(eff.Events, more.Events...)
				continue
			}
			queued = append(queued, d)
		}
	}
	for i := range eff.Deltas {
		recs = append(recs, record{Op: "delta", Delta: &eff.Deltas[i]})
	}
	for _, d := range queued {
		recs = append(recs, record{Op: "queue", Delivery: d})
	}
	if err := e.journal.Append(recs); err != nil {
		journalErrors.Inc()
		e.broken = err
		e.log.Error("journal write failed; the engine refuses further batches", slog.Any("err", err))
		return err
	}
	for _, d := range queued {
		e.pending[d.ID] = d
		e.sched.add(d)
	}
	if e.journal.size > e.opts.CompactBytes {
		if err := e.compactLocked(); err != nil {
			// The journal is intact; compaction can wait.
			e.log.Warn("journal compaction failed", slog.Any("err", err))
		}
	}
	e.gauges()
	e.storeLocked(eff)
	return nil
}

// storeLocked queues eff's visible cases and events for the Store.
func (e *Engine) storeLocked(eff cases.Effects) {
	if e.opts.Store == nil {
		return
	}
	for _, d := range eff.Deltas {
		if d.Case.Visible() {
			c := d.Case.Clone()
			c.History = nil // events are stored on their own
			e.backlog = append(e.backlog, c)
		}
	}
	for _, ev := range eff.Events {
		e.backlog = append(e.backlog, ev)
	}
}

// flushStore writes the backlog to the Store, in order. What fails stays
// queued for the next call.
func (e *Engine) flushStore(ctx context.Context, _ cases.Effects) error {
	if e.opts.Store == nil {
		return nil
	}
	e.mirror.Lock()
	defer e.mirror.Unlock()
	e.mu.Lock()
	items := e.backlog
	e.backlog = nil
	e.mu.Unlock()
	if bs, ok := e.opts.Store.(cases.BatchStore); ok && len(items) > 0 {
		var cs []cases.Case
		var es []cases.Event
		for _, it := range items {
			switch v := it.(type) {
			case cases.Case:
				cs = append(cs, v)
			case cases.Event:
				es = append(es, v)
			}
		}
		if err := bs.SaveAll(ctx, cs, es); err != nil {
			storeErrors.Inc()
			e.mu.Lock()
			e.backlog = append(items, e.backlog...)
			e.mu.Unlock()
			return fmt.Errorf("cannot mirror cases to the store: %w", err)
		}
		return nil
	}
	for i, it := range items {
		var err error
		switch v := it.(type) {
		case cases.Case:
			err = e.opts.Store.Save(ctx, v)
		case cases.Event:
			err = e.opts.Store.AppendEvent(ctx, v)
		}
		if err != nil {
			storeErrors.Inc()
			e.mu.Lock()
			e.backlog = append(slices.Clone(items[i:]), e.backlog...)
			e.mu.Unlock()
			return fmt.Errorf("cannot mirror cases to the store: %w", err)
		}
	}
	return nil
}

func (e *Engine) gauges() {
	queueLength.Set(float64(len(e.pending)))
	for s, n := range e.book.StatusCounts() {
		casesGauge.WithLabelValues(s).Set(float64(n))
	}
}

func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// backoff is the delay before retry number attempt (1-based): exponential
// from MinBackoff, capped, with "equal jitter" (half fixed, half random)
// so retries of many notifications do not synchronise.
func (e *Engine) backoff(attempt int) time.Duration {
	d := e.opts.MinBackoff
	for i := 1; i < attempt && d < e.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, e.opts.MaxBackoff)
	return d/2 + time.Duration(e.opts.Jitter()*float64(d/2))
}

// Run delivers notifications and runs case timers until ctx is cancelled,
// then drains: sends already due are attempted for up to DrainTimeout;
// what remains stays journaled for the next start.
func (e *Engine) Run(ctx context.Context) error {
	results := make(chan result, e.opts.Concurrency)
	inFlight := 0
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var drainBy <-chan time.Time
	draining, stopLaunch := false, false
	for {
		if !draining {
			e.tick(ctx)
		}
		if !stopLaunch {
			for _, d := range e.due(e.opts.Concurrency - inFlight) {
				inFlight++
				go e.send(sendCtx, d, results)
			}
		}
		if draining && inFlight == 0 && (stopLaunch || !e.anyDue()) {
			break
		}
		timer.Reset(e.sleep())
		select {
		case <-ctx.Done():
			draining = true
			drainBy = time.After(e.opts.DrainTimeout)
			// Timers and store writes during the drain must not see the
			// cancelled context.
			ctx = context.WithoutCancel(ctx)
		case <-drainBy:
			// Out of time: abort sends in flight; they stay journaled.
			cancelSends()
			stopLaunch, drainBy = true, nil
		case <-e.killed:
			cancelSends()
			e.mirrorWG.Wait()
			return nil
		case <-e.wake:
		case <-timer.C:
		case r := <-results:
			inFlight--
			e.finish(sendCtx, r)
		}
	}
	// The store catches up before the alerter stops.
	e.mirrorWG.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.DrainTimeout)
	if err := e.flushStore(fctx, cases.Effects{}); err != nil {
		e.log.Warn("case store write failed at shutdown; the journal keeps the cases", slog.Any("err", err))
	}
	cancel()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.broken == nil {
		if err := e.compactLocked(); err != nil {
			return fmt.Errorf("cannot compact alerter journal on shutdown: %w", err)
		}
	}
	return e.journal.Close()
}

// sleep is how long the loop may wait: until the next delivery or case
// timer, at most Tick (the clock may be injected and jump). Deliveries
// ready but held by a busy channel wake the loop through their results.
func (e *Engine) sleep() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.opts.Now()
	e.sched.promote(now)
	next := e.sched.next()
	if t := e.book.NextTimer(); !t.IsZero() && (next.IsZero() || t.Before(next)) {
		next = t
	}
	d := e.opts.Tick
	if !next.IsZero() {
		d = min(d, max(next.Sub(now), time.Millisecond))
	}
	return d
}

// tick runs the case timers and journals what they produced.
func (e *Engine) tick(ctx context.Context) {
	e.mu.Lock()
	if e.broken != nil {
		e.mu.Unlock()
		return
	}
	eff := e.book.Tick(e.opts.Now())
	if len(eff.Deltas) == 0 && len(eff.Notify) == 0 {
		e.mu.Unlock()
		return
	}
	err := e.commitLocked(eff)
	e.mu.Unlock()
	if err == nil {
		e.mirrorSoon(context.WithoutCancel(ctx))
	}
}

// anyDue reports whether a delivery may be attempted now.
func (e *Engine) anyDue() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sched.promote(e.opts.Now())
	return e.sched.anyReady()
}

// older orders deliveries oldest first, ties by id. Wall clock only: the
// ready heaps need one consistent order, and journaled times have no
// monotonic reading.
func older(a, b *delivery) bool {
	if c := a.N.Created.Round(0).Compare(b.N.Created.Round(0)); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

// due marks up to n ready deliveries in flight, oldest first, at most
// PerChannel per channel so one slow receiver cannot take every slot, and
// returns copies. Per (case, channel) only the lowest pending sequence
// may go, so a reader never sees an update before the opening it updates.
func (e *Engine) due(n int) []delivery {
	if n <= 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sched.promote(e.opts.Now())
	var out []delivery
	for _, d := range e.sched.take(n, e.opts.PerChannel) {
		out = append(out, *d)
	}
	return out
}

type result struct {
	d   delivery
	err error
	dlq error // when d.Dead: the sink's answer
}

func (e *Engine) send(ctx context.Context, d delivery, out chan<- result) {
	r := result{d: d}
	if d.Dead != "" {
		r.dlq = e.deadLetter(ctx, d)
		out <- r
		return
	}
	if d.Attempts > 0 {
		retriedTotal.WithLabelValues(d.Channel).Inc()
	}
	actx, cancel := context.WithTimeout(ctx, e.opts.SendTimeout)
	defer cancel()
	ch := e.opts.Channels[d.Channel]
	if ch == nil {
		r.err = notify.Permanent(fmt.Errorf("channel %q is no longer configured", d.Channel))
	} else {
		r.err = ch.Send(actx, d.N)
	}
	out <- r
}

func (e *Engine) deadLetter(ctx context.Context, d delivery) error {
	if e.opts.DLQ == nil {
		e.log.Error("notification dead-lettered", slog.String("key", d.N.Key), slog.String("channel", d.Channel),
			slog.String("reason", d.Dead))
		return nil
	}
	actx, cancel := context.WithTimeout(ctx, e.opts.SendTimeout)
	defer cancel()
	return e.opts.DLQ.DeadLetter(actx, d.N, d.Channel+": "+d.Dead)
}

// finish records a send's outcome.
func (e *Engine) finish(ctx context.Context, r result) {
	e.mu.Lock()
	now := e.opts.Now()
	d := e.pending[r.d.ID]
	if d == nil {
		e.mu.Unlock()
		return
	}
	if r.err != nil && ctx.Err() != nil {
		// Aborted by shutdown, not refused by the receiver: it stays
		// pending, uncounted, for the next start.
		e.sched.setInFlight(d, false)
		e.mu.Unlock()
		return
	}
	var ev *cases.Event
	done := false
	switch {
	case r.d.Dead != "":
		if r.dlq != nil {
			e.log.Warn("dead-letter sink failed; will retry", slog.String("key", d.N.Key), slog.Any("err", r.dlq))
			d.Next = now.Add(e.backoff(2))
			break
		}
		done = true
		ev = &cases.Event{Kind: cases.EventDeadLettered, Detail: d.Dead}
	case r.err == nil:
		done = true
		sentTotal.WithLabelValues(d.Channel).Inc()
		latency.WithLabelValues(d.Channel).Observe(now.Sub(d.N.Created).Seconds())
		if !d.N.LastSeen.IsZero() && !now.Before(d.N.LastSeen) {
			postLatency.WithLabelValues(d.Channel).Observe(now.Sub(d.N.LastSeen).Seconds())
		}
		ev = &cases.Event{Kind: cases.EventDelivered, Detail: fmt.Sprintf("attempt %d", d.Attempts+1)}
	default:
		failedTotal.WithLabelValues(d.Channel).Inc()
		d.Attempts++
		wait := max(e.backoff(d.Attempts), notify.RetryAfterOf(r.err))
		reason := ""
		switch {
		case notify.IsPermanent(r.err):
			reason = "permanent"
		case now.Add(wait).After(d.Deadline):
			reason = "deadline"
		}
		if reason == "" {
			d.Next = now.Add(wait)
			// The first failure is worth a warning; the retries are in the
			// failed/retried counters, not the log.
			lvl := slog.LevelDebug
			if d.Attempts == 1 {
				lvl = slog.LevelWarn
			}
			e.log.Log(ctx, lvl, "notification failed; will retry", slog.String("key", d.N.Key), slog.String("channel", d.Channel),
				slog.Int("attempt", d.Attempts), slog.Duration("wait", wait), slog.Any("err", r.err))
			break
		}
		droppedTotal.WithLabelValues(d.Channel, reason).Inc()
		d.Dead = fmt.Sprintf("%s after %d attempts: %v", reason, d.Attempts, r.err)
		e.log.Error("notification undeliverable; sending it to the dead-letter sink", slog.String("key", d.N.Key),
			slog.String("channel", d.Channel), slog.String("reason", d.Dead))
		d.Next = now
		// Journal the verdict so a restart does not retry the channel.
		if err := e.journal.Append([]record{{Op: "queue", Delivery: d}}); err != nil {
			journalErrors.Inc()
			e.log.Error("journal write failed", slog.Any("err", err))
		}
		e.signal()
	}
	// Back in the index only now that its Next and Dead are final: a
	// queued delivery's heap position depends on them.
	e.sched.setInFlight(d, false)
	var eff cases.Effects
	if ev != nil {
		ev.CaseID, ev.FactID, ev.Actor, ev.Time, ev.Key, ev.Channel = d.N.CaseID, d.FactID, cases.ActorSystem, now, d.N.Key, d.Channel
		eff = e.book.Record(d.FactID, *ev)
	}
	if done {
		recs := []record{{Op: "done", ID: d.ID}}
		for i := range eff.Deltas {
			recs = append(recs, record{Op: "delta", Delta: &eff.Deltas[i]})
		}
		if err := e.journal.AppendLazy(recs); err != nil {
			// Not fatal: the worst case is one more delivery of the same key.
			journalErrors.Inc()
			e.log.Error("journal write failed", slog.Any("err", err))
		}
		delete(e.pending, d.ID)
		e.sched.remove(d)
		e.storeLocked(eff)
	}
	e.gauges()
	e.mu.Unlock()
	if done {
		e.mirrorSoon(context.WithoutCancel(ctx))
	}
}

// mirrorSoon writes the store backlog in the background: the delivery
// loop must not wait on the database between sends (the journal, not the
// store, is what makes cases durable). One writer at a time; what arrives
// while it writes goes in its next round, so writes batch under load.
func (e *Engine) mirrorSoon(ctx context.Context) {
	if e.opts.Store == nil || !e.mirroring.CompareAndSwap(false, true) {
		return
	}
	e.mirrorWG.Add(1)
	go func() {
		defer e.mirrorWG.Done()
		for {
			if err := e.flushStore(ctx, cases.Effects{}); err != nil {
				e.log.Warn("case store write failed; will retry", slog.Any("err", err))
				e.mirroring.Store(false)
				return // the backlog is kept; the next delivery or tick retries
			}
			e.mirroring.Store(false)
			e.mu.Lock()
			more := len(e.backlog) > 0
			e.mu.Unlock()
			if !more || !e.mirroring.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}
