package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/enrich"
	"github.com/trendwatch/trendwatch/bench"
	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

func init() {
	register("bench", "measure the pipeline at scale: generated posts through Kafka, analyzers and ClickHouse", cmdBench)
}

// benchReport is the JSON the bench command writes.
type benchReport struct {
	Command   string               `json:"command"`
	Analyzers int                  `json:"analyzers"`
	Workers   int                  `json:"workers_per_analyzer"`
	Facts     int                  `json:"facts"`
	CPUs      int                  `json:"cpus"`
	Kafka     []string             `json:"kafka"`
	Database  string               `json:"clickhouse_database"`
	Pipeline  bench.PipelineResult `json:"pipeline"`
	EnrichPS  float64              `json:"enrich_only_per_s"` // the analyzer's CPU work alone, same rows
	Ceiling   *bench.CeilingResult `json:"ceiling,omitempty"`
	Ratio     float64              `json:"ratio_sustained_to_store"`
	RatioRaw  float64              `json:"ratio_sustained_to_plain"`
	Gen       bench.GenOptions     `json:"generator"`
	Run       bench.RunOptions     `json:"run"`
	// Stages is where the analyzers' batch time went during the
	// measured run (sums over all analyzers, from their own metrics).
	Stages *stageTimes `json:"analyzer_stages,omitempty"`
	// Webhook is publish→webhook through the alerter, per case opened.
	Webhook  *webhookResult `json:"webhook,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	c := bindConfig(fs)
	var (
		ro         bench.RunOptions
		gopts      bench.GenOptions
		analyzers  int
		jsonPath   string
		cpuProfile string
		benchDB    string
		keep       bool
		noCeiling  bool
	)
	fs.Float64Var(&ro.Rate, "rate", 0, "target posts/s; 0 publishes as fast as possible")
	fs.DurationVar(&ro.Duration, "duration", 30*time.Second, "how long to publish")
	fs.DurationVar(&ro.Drain, "drain", 2*time.Minute, "how long to wait for the pipeline to store every post after publishing")
	fs.IntVar(&ro.Batch, "publish-batch", 500, "posts per publish call")
	fs.IntVar(&ro.Keep, "ceiling-rows", 100000, "generated rows re-inserted straight into ClickHouse for the ceiling")
	fs.IntVar(&gopts.Facts, "facts", 15000, "facts generated from templates and loaded before the run")
	fs.Float64Var(&gopts.MatchShare, "match-share", 0.02, "share of posts restating a fact")
	fs.Uint64Var(&gopts.Seed, "seed", 1, "generator seed")
	fs.IntVar(&gopts.Hashtags, "hashtags", 2000, "hashtag vocabulary (Zipf popularity)")
	fs.IntVar(&analyzers, "analyzers", 1, "in-process analyzer workers (each is `trendwatch analyze`: own facts index, same consumer group)")
	fs.StringVar(&jsonPath, "json", "", "write the full result as JSON to this file")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the publishing window to this file")
	fs.StringVar(&benchDB, "bench-database", "", "ClickHouse database for the run; empty makes a fresh trendwatch_bench_<time> (dropped afterwards unless --keep)")
	fs.BoolVar(&keep, "keep", false, "keep the bench databases")
	fs.BoolVar(&noCeiling, "no-ceiling", false, "skip the raw ClickHouse insert measurement")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if analyzers < 1 || analyzers > 64 {
		return usagef("--analyzers %d is not between 1 and 64", analyzers)
	}
	if ro.Rate < 0 || math.IsNaN(ro.Rate) || math.IsInf(ro.Rate, 0) {
		return usagef("--rate must be 0 (maximum) or a positive number")
	}
	if gopts.Facts < 1 || gopts.MatchShare <= 0 || gopts.MatchShare > 1 {
		return usagef("--facts must be positive and --match-share within (0, 1]")
	}
	// Every run is isolated: its own topics and consumer groups (prefix)
	// and its own database, so a bench never touches a deployment's data.
	runID := fmt.Sprintf("b%d", time.Now().Unix())
	if c.KafkaTopicPrefix == "" {
		c.KafkaTopicPrefix = "bench-" + runID + "."
	}
	generatedDB := benchDB == ""
	if generatedDB {
		benchDB = "trendwatch_bench_" + runID
	}
	c.ClickHouseDatabase = benchDB
	if err := c.validate(); err != nil {
		return usagef("invalid configuration:\n%w", err)
	}
	log := c.logger(stderr).With(slog.String("process", "bench"))
	gopts.RunID = runID

	if c.ClickHouseAddr == "" {
		addr, stop, err := startLocalClickHouse(ctx, c, log)
		if err != nil {
			return err
		}
		defer stop()
		c.ClickHouseAddr = addr
	}
	chAddrs := strings.Split(c.ClickHouseAddr, ",")
	in, err := connect(ctx, c, log, true, true)
	if err != nil {
		return err
	}
	defer in.close()
	if generatedDB && !keep {
		defer func() {
			dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for _, db := range []string{benchDB, benchDB + "_ceiling"} {
				if err := bench.DropDatabase(dctx, chAddrs, c.ClickHouseUser, c.ClickHousePassword, db); err != nil {
					log.Warn("cannot drop bench database", slog.String("db", db), slog.Any("err", err))
				}
			}
		}()
	}

	rep := benchReport{Command: "trendwatch bench " + strings.Join(args, " "), Analyzers: analyzers, Workers: c.Workers,
		Facts: gopts.Facts, CPUs: runtime.NumCPU(), Kafka: in.brokers, Database: benchDB, Gen: gopts, Run: ro}
	if rep.Workers == 0 {
		rep.Workers = runtime.GOMAXPROCS(0)
	}

	// 1. Facts, through the facts topic like the API's import.
	start := time.Now()
	gen := bench.NewGenerator(gopts, start)
	facts := gen.Facts()
	for lo := 0; lo < len(facts); lo += 1000 {
		if err := in.producer.PutFacts(ctx, facts[lo:min(lo+1000, len(facts))]); err != nil {
			return fmt.Errorf("cannot load facts: %w", err)
		}
	}
	log.Info("facts published", slog.Int("facts", len(facts)), slog.Duration("took", time.Since(start)))

	// 2. Analyzers, exactly as `trendwatch analyze` builds them.
	var actors []actor
	for i := 0; i < analyzers; i++ {
		aa, _, err := analyzeStage(c, in)
		if err != nil {
			return err
		}
		actors = append(actors, aa...)
	}
	// 3a. The alerter, exactly as `trendwatch alert` builds it, delivering
	// to a local signed-webhook receiver: publish→webhook is the latency the
	// rapid-response team sees. Its journal lives in a temporary directory.
	hookSecret := "bench-" + runID
	hook := newBenchHook(hookSecret)
	defer hook.srv.Close()
	alertDir, err := os.MkdirTemp("", "trendwatch-bench-alert-")
	if err != nil {
		return fmt.Errorf("cannot create the alerter's directory: %w", err)
	}
	defer os.RemoveAll(alertDir)
	ac := *c
	ac.DataDir, ac.WebhookURL, ac.WebhookSecret = alertDir, hook.srv.URL, hookSecret
	ac.SlackWebhookURL, ac.TelegramToken, ac.SMTPAddr, ac.AlertRoutes = "", "", "", "" // only the bench's receiver
	alerters, err := alertStage(&ac, in)
	if err != nil {
		return err
	}
	actors = append(actors, alerters...)
	// 3b. The alert observer: a consumer of trendwatch.alerts in its own group.
	var (
		runMu   sync.Mutex
		run     *bench.Run
		alerted atomic.Int64
	)
	observer, err := bus.NewConsumer(bus.ConsumerOptions{Config: in.bus, Group: "bench-observer", Topic: schema.TopicAlerts, MaxBatch: 1000, Linger: 5 * time.Millisecond},
		func(ctx context.Context, batch []kafka.Message) error {
			now := time.Now()
			runMu.Lock()
			r := run
			runMu.Unlock()
			for _, m := range batch {
				a, err := schema.DecodeAlert(m.Value)
				if err != nil || a.Command != nil {
					continue
				}
				alerted.Add(1)
				if r != nil {
					r.ObserveAlert(a.PostID, a.Detected, now)
				}
			}
			return nil
		}, log)
	if err != nil {
		return err
	}
	actors = append(actors, actor{"bench-observer", observer.Run})
	gctx, cancelGroup := context.WithCancel(ctx)
	groupDone := make(chan struct{})
	go func() {
		defer close(groupDone)
		if err := runGroup(gctx, log, actors...); err != nil {
			log.Error("pipeline stopped", slog.Any("err", err))
		}
	}()
	stopGroup := func() {
		cancelGroup()
		<-groupDone
	}
	defer stopGroup()

	// 4. Warm-up: posts that all restate facts, from another seed, until
	// one alert has come back and every one is stored. This proves the
	// facts are loaded and the path works before the clock starts.
	warmOpts := gopts
	warmOpts.Seed, warmOpts.MatchShare = gopts.Seed+1_000_003, 1
	warm := bench.NewGenerator(warmOpts, start)
	var warmPosts []schema.Post
	for range 200 {
		warmPosts = append(warmPosts, warm.Next(time.Now()).Post)
	}
	if err := in.producer.Publish(ctx, warmPosts...); err != nil {
		return fmt.Errorf("cannot publish warm-up posts: %w", err)
	}
	if err := waitUntil(ctx, 5*time.Minute, func() (bool, error) {
		n, err := in.store.CountPosts(ctx)
		if err != nil {
			return false, nil
		}
		return n >= int64(len(warmPosts)) && alerted.Load() > 0, nil
	}); err != nil {
		return fmt.Errorf("warm-up: the pipeline did not store %d posts and emit an alert: %w", len(warmPosts), err)
	}
	base, err := in.store.CountPosts(ctx)
	if err != nil {
		return fmt.Errorf("cannot count posts: %w", err)
	}
	log.Info("warm-up done; measuring", slog.Float64("rate", ro.Rate), slog.Duration("duration", ro.Duration))

	// 5. The measured run.
	gen = bench.NewGenerator(gopts, time.Now())
	r := bench.NewRun(ro, gen, in.producer, offsetCounter{in.store, base})
	runMu.Lock()
	run = r
	runMu.Unlock()
	var stopProfile func()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("cannot create --cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("cannot start CPU profile: %w", err)
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
	}
	before := gatherStages(c.AnalyzeGroup)
	hook.measureFrom(time.Now())
	_, runErr := r.Execute(ctx)
	after := gatherStages(c.AnalyzeGroup)
	if stopProfile != nil {
		stopProfile()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Alerts of the last posts may still be on their way.
	_ = waitUntil(ctx, 10*time.Second, func() (bool, error) {
		res := r.Result()
		return res.Alerts >= res.Restating, nil
	})
	// Cases opened by the last alerts may still be on their way to the
	// receiver: wait until no new one arrived for two seconds.
	for last, quiet := hook.opens(), 0; quiet < 4 && ctx.Err() == nil; {
		time.Sleep(500 * time.Millisecond)
		if n := hook.opens(); n != last {
			last, quiet = n, 0
		} else {
			quiet++
		}
	}
	rep.Webhook = hook.result()
	rep.Pipeline = r.Result()
	rep.Stages = after.minus(before, rep.Pipeline.PublishSecs+rep.Pipeline.DrainSecs, analyzers)
	if runErr != nil {
		rep.Warnings = append(rep.Warnings, runErr.Error())
	}
	if rep.Pipeline.Alerts < rep.Pipeline.Restating {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d of %d restating posts raised no alert (the matcher's recall on generated paraphrases)", rep.Pipeline.Restating-rep.Pipeline.Alerts, rep.Pipeline.Restating))
	}
	stopGroup() // the ceiling gets the machine to itself

	// 6. The ceiling: the same rows, enriched by the same code outside the
	// clock, inserted straight into ClickHouse by one client.
	if !noCeiling {
		if err := measureCeiling(ctx, c, log, chAddrs, benchDB+"_ceiling", facts, r.Kept(), &rep); err != nil {
			rep.Warnings = append(rep.Warnings, err.Error())
		}
	}
	if rep.Ceiling != nil && rep.Ceiling.StorePerS > 0 {
		rep.Ratio = rep.Pipeline.SustainedRate / rep.Ceiling.StorePerS
		rep.RatioRaw = rep.Pipeline.SustainedRate / rep.Ceiling.PlainPerS
	}

	fmt.Fprintln(stdout, summaryLine(&rep))
	if jsonPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("cannot encode the report: %w", err)
		}
		if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("cannot write --json: %w", err)
		}
	}
	if runErr != nil && !errors.Is(runErr, bench.ErrNotDrained) {
		return runErr
	}
	return nil
}

func measureCeiling(ctx context.Context, c *config, log *slog.Logger, addrs []string, db string, facts []schema.Fact, kept []bench.Generated, rep *benchReport) error {
	th, _ := parseThresholds(c.Thresholds)
	ix := claims.NewIndex(claims.Options{Thresholds: th})
	for _, f := range facts {
		ix.Upsert(f)
	}
	en := enrich.New(enrich.Options{Index: ix, Verdicts: splitList(c.AlertVerdicts), KeysLabels: topicKeys})
	rows := make([]schema.Analyzed, len(kept))
	workers := rep.Workers
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(kept); i += workers {
				rows[i] = en.Enrich(kept[i].Post)
			}
		}(w)
	}
	wg.Wait()
	if len(rows) > 0 {
		rep.EnrichPS = float64(len(rows)) / time.Since(start).Seconds()
	}
	st, err := clickhouse.Open(ctx, clickhouse.Options{Addrs: addrs, Database: db, Username: c.ClickHouseUser, Password: c.ClickHousePassword}, log)
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	res := bench.CeilingResult{Rows: len(rows), Batch: c.BatchSize}
	if res.StorePerS, err = bench.MeasureStore(ctx, st, rows, c.BatchSize); err != nil {
		return err
	}
	if res.PlainPerS, err = bench.MeasurePlain(ctx, addrs, db, c.ClickHouseUser, c.ClickHousePassword, "posts_plain", true, rows, c.BatchSize); err != nil {
		return err
	}
	if res.UnpartitionedPerS, err = bench.MeasurePlain(ctx, addrs, db, c.ClickHouseUser, c.ClickHousePassword, "posts_plain_unpartitioned", false, rows, c.BatchSize); err != nil {
		return err
	}
	rep.Ceiling = &res
	return nil
}

func summaryLine(rep *benchReport) string {
	p := rep.Pipeline
	target := "max"
	if p.TargetRate > 0 {
		target = fmt.Sprintf("%.0f/s", p.TargetRate)
	}
	s := fmt.Sprintf("bench: target %s, published %d in %.1fs (%.0f/s); sustained %.0f posts/s into ClickHouse (end-to-end %.0f/s, drained=%v in %.1fs); lag max %d end %d slope %.0f/s stable=%v; alert latency p50 %.0fms p99 %.0fms (%d/%d restating posts alerted, %d chatter posts falsely); enrich-only %.0f/s",
		target, p.Published, p.PublishSecs, p.PublishedRate, p.SustainedRate, p.EndToEndRate, p.Drained, p.DrainSecs,
		p.LagMax, p.LagEnd, p.LagSlope, p.LagStable, p.LatencyP50Ms, p.LatencyP99Ms, p.Alerts, p.Restating, p.FalseAlerts, rep.EnrichPS)
	if w := rep.Webhook; w != nil {
		s += fmt.Sprintf("; publish→webhook p50 %.0fms p99 %.0fms (%d cases opened, %d other notifications, %d duplicate deliveries)",
			w.P50Ms, w.P99Ms, w.CasesOpened, w.Notifications, w.Duplicates)
	}
	if st := rep.Stages; st != nil {
		s += fmt.Sprintf("; analyzer time: enrich %.0f%%, ClickHouse %.0f%%, outbox %.0f%%, fetch/commit/idle %.0f%% (%.0f batches of %.0f)",
			100*st.EnrichShare, 100*st.SinkShare, 100*st.OtherShare, 100*st.OutsideShare, st.Batches, st.MeanBatch)
	}
	if rep.Ceiling != nil {
		s += fmt.Sprintf("; ceiling WriteAnalyzed %.0f/s, plain INSERT %.0f rows/s (unpartitioned %.0f); ratio %.2f (to plain %.2f)",
			rep.Ceiling.StorePerS, rep.Ceiling.PlainPerS, rep.Ceiling.UnpartitionedPerS, rep.Ratio, rep.RatioRaw)
	}
	return s
}

// stageTimes splits the analyzers' time: the handler (enrich, ClickHouse
// write, then decoding and the Kafka outbox, the rest) and, outside it,
// fetching and committing.
type stageTimes struct {
	Batches       float64 `json:"batches"`
	MeanBatch     float64 `json:"mean_batch_posts"`
	HandleSecs    float64 `json:"handle_seconds"`
	EnrichSecs    float64 `json:"enrich_seconds"`
	SinkSecs      float64 `json:"clickhouse_write_seconds"`
	OtherSecs     float64 `json:"decode_and_outbox_seconds"`
	OutsideSecs   float64 `json:"fetch_and_commit_seconds"` // wall × analyzers − handle
	WallSecs      float64 `json:"wall_seconds"`
	EnrichShare   float64 `json:"enrich_share"`
	SinkShare     float64 `json:"clickhouse_share"`
	OtherShare    float64 `json:"outbox_share"`
	OutsideShare  float64 `json:"fetch_commit_share"`
	batchSizeSum  float64
	batchSizeObsv float64
}

// gatherStages reads the worker's and consumer's histograms from this
// process's registry (the analyzers run in-process).
func gatherStages(group string) stageTimes {
	var st stageTimes
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return st
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h == nil {
				continue
			}
			groupOK := false
			for _, l := range m.GetLabel() {
				if l.GetName() == "group" && l.GetValue() == group {
					groupOK = true
				}
			}
			switch mf.GetName() {
			case "trendwatch_analyze_enrich_batch_seconds":
				st.EnrichSecs += h.GetSampleSum()
			case "trendwatch_analyze_sink_batch_seconds":
				st.SinkSecs += h.GetSampleSum()
			case "trendwatch_bus_handle_seconds":
				if groupOK {
					st.HandleSecs += h.GetSampleSum()
					st.Batches += float64(h.GetSampleCount())
				}
			case "trendwatch_bus_batch_size":
				if groupOK {
					st.batchSizeSum += h.GetSampleSum()
					st.batchSizeObsv += float64(h.GetSampleCount())
				}
			}
		}
	}
	return st
}

// minus is the change since b over wall seconds of n analyzers.
func (a stageTimes) minus(b stageTimes, wall float64, n int) *stageTimes {
	d := &stageTimes{
		Batches: a.Batches - b.Batches, HandleSecs: a.HandleSecs - b.HandleSecs,
		EnrichSecs: a.EnrichSecs - b.EnrichSecs, SinkSecs: a.SinkSecs - b.SinkSecs, WallSecs: wall,
	}
	if obs := a.batchSizeObsv - b.batchSizeObsv; obs > 0 {
		d.MeanBatch = (a.batchSizeSum - b.batchSizeSum) / obs
	}
	d.OtherSecs = max(d.HandleSecs-d.EnrichSecs-d.SinkSecs, 0)
	d.OutsideSecs = max(wall*float64(n)-d.HandleSecs, 0)
	if total := wall * float64(n); total > 0 {
		d.EnrichShare, d.SinkShare = d.EnrichSecs/total, d.SinkSecs/total
		d.OtherShare, d.OutsideShare = d.OtherSecs/total, d.OutsideSecs/total
	}
	return d
}

// offsetCounter counts the posts stored since the measured run began.
type offsetCounter struct {
	st   *clickhouse.Store
	base int64
}

func (o offsetCounter) CountPosts(ctx context.Context) (int64, error) {
	n, err := o.st.CountPosts(ctx)
	return n - o.base, err
}

// waitUntil polls cond every 100ms until it holds, ctx ends or timeout.
func waitUntil(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
