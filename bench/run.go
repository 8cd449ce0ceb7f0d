package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// Publisher sends posts into the pipeline (bus.Producer).
type Publisher interface {
	Publish(ctx context.Context, posts ...schema.Post) error
}

// Counter reports how many distinct posts the pipeline has stored
// (clickhouse.Store.CountPosts).
type Counter interface {
	CountPosts(ctx context.Context) (int64, error)
}

// RunOptions shape a measurement.
type RunOptions struct {
	Rate     float64       // target posts/s; 0 publishes as fast as possible
	Duration time.Duration // publishing time; default 30s
	Batch    int           // posts per Publish call; default 500
	// Drain bounds the wait for the pipeline to store every published
	// post after publishing stops; default 2m.
	Drain time.Duration
	// Sample is the period of the stored-count samples; default 1s.
	Sample time.Duration
	// Keep is how many generated posts are kept for the ceiling
	// measurement (the first ones); default 100,000.
	Keep int
}

func (o *RunOptions) defaults() {
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Drain <= 0 {
		o.Drain = 2 * time.Minute
	}
	if o.Sample <= 0 {
		o.Sample = time.Second
	}
	if o.Keep <= 0 {
		o.Keep = 100_000
	}
}

// Sample is one observation of the pipeline during a run.
type Sample struct {
	T         float64 `json:"t_s"` // seconds since the first publish
	Published int64   `json:"published"`
	Stored    int64   `json:"stored"`
	Lag       int64   `json:"lag"` // published − stored
}

// PipelineResult is what the run measured of the pipeline.
type PipelineResult struct {
	TargetRate    float64 `json:"target_rate"` // 0 = maximum
	Published     int64   `json:"published"`
	Stored        int64   `json:"stored"`
	PublishSecs   float64 `json:"publish_seconds"`
	PublishedRate float64 `json:"published_per_s"`
	// SustainedRate is the slope of the stored count over the second half
	// of the publishing window (warm-up excluded), posts/s.
	SustainedRate float64 `json:"sustained_per_s"`
	// EndToEndRate is published posts over the time from the first
	// publish until the last one was stored.
	EndToEndRate float64 `json:"end_to_end_per_s"`
	DrainSecs    float64 `json:"drain_seconds"` // after publishing stopped
	Drained      bool    `json:"drained"`
	// LagSlope is the slope of the lag over the second half of the
	// publishing window (posts/s); LagStable means it stayed below 2% of
	// the publish rate, i.e. the pipeline kept up.
	LagSlope  float64 `json:"lag_slope_per_s"`
	LagMax    int64   `json:"lag_max"`
	LagEnd    int64   `json:"lag_at_publish_end"`
	LagStable bool    `json:"lag_stable"`
	// Alert latency: alert Detected (set by the analyzer) minus the time
	// the post's Publish call started.
	Restating int64 `json:"restating_posts"`
	Alerts    int64 `json:"alerts"`
	// FalseAlerts counts chatter posts (restating no fact) that alerted.
	FalseAlerts    int64     `json:"false_alerts"`
	LatencyP50Ms   float64   `json:"alert_latency_p50_ms"`
	LatencyP99Ms   float64   `json:"alert_latency_p99_ms"`
	LatencyMaxMs   float64   `json:"alert_latency_max_ms"`
	ArrivalP99Ms   float64   `json:"alert_arrival_p99_ms"` // publish → alert read from Kafka
	Samples        []Sample  `json:"samples"`
	PublishErrors  int64     `json:"publish_errors"`
	Started        time.Time `json:"started"`
	latencies      []float64
	arrivals       []float64
	matchedAlerted map[string]bool
}

// Run measures the pipeline: it publishes the generator's posts at the
// target rate for the duration, samples the stored count, waits for the
// pipeline to drain and returns the figures. ObserveAlert must be fed
// (from any goroutine) with the alerts the pipeline emits.
type Run struct {
	opts RunOptions
	gen  *Generator
	pub  Publisher
	cnt  Counter

	mu        sync.Mutex
	published map[string]time.Time // restating post id → publish start; zero once alerted
	res       PipelineResult
	kept      []Generated
	tally     *Tally
	falseSeen map[string]struct{}
}

// NewRun prepares a measurement.
func NewRun(opts RunOptions, gen *Generator, pub Publisher, cnt Counter) *Run {
	opts.defaults()
	return &Run{opts: opts, gen: gen, pub: pub, cnt: cnt, published: map[string]time.Time{}, tally: NewTally(), falseSeen: map[string]struct{}{}}
}

// Kept returns the first generated posts (RunOptions.Keep), for the
// ceiling measurement.
func (r *Run) Kept() []Generated { return r.kept }

// Tally returns the exact expectations of everything published.
func (r *Run) Tally() *Tally { return r.tally }

// ObserveAlert records an alert the analyzer emitted for postID at
// detected; arrived is when the observer read it.
func (r *Run) ObserveAlert(postID string, detected, arrived time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t0, ok := r.published[postID]
	if ok && t0.IsZero() {
		return // a restating post's further alert (another fact, or a re-delivery)
	}
	if !ok {
		// Chatter that matched a fact: a false alert (counted once per
		// post; re-deliveries and other runs' posts are ignored).
		if _, done := r.falseSeen[postID]; !done && r.tally.Has(postID) {
			r.falseSeen[postID] = struct{}{}
			r.res.FalseAlerts++
		}
		return
	}
	r.published[postID] = time.Time{} // latency measured once per post
	r.res.Alerts++
	r.res.latencies = append(r.res.latencies, float64(detected.Sub(t0))/float64(time.Millisecond))
	r.res.arrivals = append(r.res.arrivals, float64(arrived.Sub(t0))/float64(time.Millisecond))
}

// Execute runs the measurement until done or ctx ends.
func (r *Run) Execute(ctx context.Context) (PipelineResult, error) {
	o := r.opts
	start := time.Now()
	r.res.TargetRate, r.res.Started = o.Rate, start.UTC()
	var published int64
	var pubMu sync.Mutex
	sampleDone := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(o.Sample)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			pubMu.Lock()
			p := published
			pubMu.Unlock()
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			n, err := r.cnt.CountPosts(cctx)
			cancel()
			if err != nil {
				continue // ClickHouse busy or down: skip the sample
			}
			r.mu.Lock()
			r.res.Samples = append(r.res.Samples, Sample{T: time.Since(start).Seconds(), Published: p, Stored: n, Lag: p - n})
			r.mu.Unlock()
		}
	}()

	// Publish in batches on a schedule: batch i is due at start + i·Batch/Rate,
	// so a slow batch is caught up by the next ones (no coordinated omission
	// of the offered load).
	end := start.Add(o.Duration)
	batch := make([]schema.Post, 0, o.Batch)
	for i := 0; ; i++ {
		now := time.Now()
		if !now.Before(end) || ctx.Err() != nil {
			break
		}
		if o.Rate > 0 {
			due := start.Add(time.Duration(float64(i*o.Batch) / o.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(d):
				}
				now = time.Now()
			}
		}
		batch = batch[:0]
		r.mu.Lock()
		for range o.Batch {
			g := r.gen.Next(now)
			batch = append(batch, g.Post)
			r.tally.Add(g)
			if g.FactID != "" {
				r.published[g.Post.ID] = now
				r.res.Restating++
			}
			if len(r.kept) < o.Keep {
				r.kept = append(r.kept, g)
			}
		}
		r.mu.Unlock()
		if !r.publish(ctx, batch) {
			break
		}
		pubMu.Lock()
		published += int64(len(batch))
		pubMu.Unlock()
	}
	pubEnd := time.Now()
	r.mu.Lock()
	r.res.Published = published
	r.res.PublishSecs = pubEnd.Sub(start).Seconds()
	if r.res.PublishSecs > 0 {
		r.res.PublishedRate = float64(published) / r.res.PublishSecs
	}
	r.mu.Unlock()

	// Drain: wait until every published post is stored.
	deadline := pubEnd.Add(o.Drain)
	var stored int64
	var lastErr error
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := r.cnt.CountPosts(cctx)
		cancel()
		if err == nil {
			stored = n
			if n >= published {
				r.res.Drained = true
				break
			}
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	done := time.Now()
	close(stopSampling)
	<-sampleDone
	r.mu.Lock()
	r.res.Stored = stored
	r.res.DrainSecs = done.Sub(pubEnd).Seconds()
	if r.res.Drained {
		r.res.EndToEndRate = float64(published) / done.Sub(start).Seconds()
	}
	r.summarise(r.res.PublishSecs)
	res := r.res
	r.mu.Unlock()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if !res.Drained {
		return res, fmt.Errorf("%w: %d of %d stored after %.0fs (last count error: %v)", ErrNotDrained, stored, published, res.DrainSecs, lastErr)
	}
	return res, nil
}

// Result returns the figures so far (alerts may keep arriving after
// Execute; call again to include them).
func (r *Run) Result() PipelineResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.summarise(r.res.PublishSecs)
	return r.res
}

// publish sends batch until Kafka acknowledges it. A failed call may
// still have stored some of it; sending the same posts again is harmless
// (stable ids, idempotent sinks), and retrying keeps the published count
// exact. False when ctx ended first.
func (r *Run) publish(ctx context.Context, batch []schema.Post) bool {
	backoff := 100 * time.Millisecond
	for {
		err := r.pub.Publish(ctx, batch...)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		r.mu.Lock()
		r.res.PublishErrors++
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// summarise derives the figures from the samples; r.mu must be held.
func (r *Run) summarise(pubSecs float64) {
	res := &r.res
	var xs, stored, lag []float64
	for _, s := range res.Samples {
		if s.T <= pubSecs {
			res.LagMax = max(res.LagMax, s.Lag)
			res.LagEnd = s.Lag
			if s.T >= pubSecs/2 {
				xs = append(xs, s.T)
				stored = append(stored, float64(s.Stored))
				lag = append(lag, float64(s.Lag))
			}
		}
	}
	if len(xs) < 3 { // a short run: use the whole publishing window
		xs, stored, lag = xs[:0], stored[:0], lag[:0]
		for _, s := range res.Samples {
			if s.T <= pubSecs {
				xs = append(xs, s.T)
				stored = append(stored, float64(s.Stored))
				lag = append(lag, float64(s.Lag))
			}
		}
	}
	if len(xs) >= 2 {
		res.SustainedRate = slope(xs, stored)
		res.LagSlope = slope(xs, lag)
		res.LagStable = res.LagSlope <= 0.02*max(res.PublishedRate, 1)
	} else if res.Drained {
		res.SustainedRate = res.EndToEndRate // too short to sample: the best estimate left
	}
	lat := slices.Clone(res.latencies)
	arr := slices.Clone(res.arrivals)
	res.LatencyP50Ms, res.LatencyP99Ms, res.LatencyMaxMs = Quantile(lat, 0.5), Quantile(lat, 0.99), Quantile(lat, 1)
	res.ArrivalP99Ms = Quantile(arr, 0.99)
}

// slope is the least-squares slope of y over x.
func slope(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// Quantile returns the q-quantile (nearest rank) of xs, sorting xs; NaN
// when xs is empty.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

// Tally is the exact expectation of what was published: distinct post
// ids, posts per hashtag key, and posts restating each fact.
type Tally struct {
	mu       sync.Mutex
	ids      map[string]struct{}
	hashtags map[string]int64
	facts    map[string]int64
}

// NewTally returns an empty tally.
func NewTally() *Tally {
	return &Tally{ids: map[string]struct{}{}, hashtags: map[string]int64{}, facts: map[string]int64{}}
}

// Add records a published post (again: counted once).
func (t *Tally) Add(g Generated) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.ids[g.Post.ID]; dup {
		return
	}
	t.ids[g.Post.ID] = struct{}{}
	for _, h := range g.Hashtags {
		t.hashtags[h]++
	}
	if g.FactID != "" {
		t.facts[g.FactID]++
	}
}

// Has reports whether post id was published.
func (t *Tally) Has(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.ids[id]
	return ok
}

// Posts is the number of distinct posts published.
func (t *Tally) Posts() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int64(len(t.ids))
}

// Hashtags returns a copy of the posts per hashtag key.
func (t *Tally) Hashtags() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.hashtags)
}

// Facts returns a copy of the restating posts per fact id.
func (t *Tally) Facts() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.facts)
}

// ErrNotDrained is returned when the pipeline did not store every post in time.
var ErrNotDrained = errors.New("pipeline did not store every published post in time")
