package bus

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/schema"
)

// BenchmarkTopicEventsPipeline publishes the topic events of 1,000 posts
// (13 topic keys each) per iteration and consumes them with a consumer
// group member that decodes every event, as the analyzer and the Trends
// stage do: "single" is the format before packing (one JSON message per
// event, the Trends consumer's old 5,000-message batches), "packed" the
// current one. Metrics per 1,000 posts: msgs (messages through Kafka),
// cpu-ms (this process: producer, consumer, decoding; with the embedded
// broker its CPU too) and, when TRENDWATCH_BENCH_BROKER_PID names the
// broker process, broker-cpu-ms. Run it against the test Kafka:
//
//	TRENDWATCH_TEST_KAFKA=127.0.0.1:19092 TRENDWATCH_BENCH_BROKER_PID=$(pgrep -f kafka.Kafka) \
//	  go test -run '^$' -bench TopicEventsPipeline -benchtime 20x -count 5 ./bus/
func BenchmarkTopicEventsPipeline(b *testing.B) {
	for _, mode := range []struct {
		name     string
		single   bool
		maxBatch int
	}{{"single", true, 5000}, {"packed", false, 128}} {
		b.Run(mode.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			brokers := benchBrokers(b)
			cfg := Config{Brokers: brokers, Partitions: 6, TopicPrefix: fmt.Sprintf("bench%d.", time.Now().UnixNano()), SingleTopicEvents: mode.single}
			if err := EnsureTopics(ctx, cfg); err != nil {
				b.Fatal(err)
			}
			log := slog.New(slog.DiscardHandler)
			p := NewProducer(cfg, log)
			defer p.Close()
			for {
				if n, err := p.trendsPartitions(ctx); err == nil && n == 6 {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}

			var events, msgs atomic.Int64
			c, err := NewConsumer(ConsumerOptions{Config: cfg, Group: "bench", Topic: TopicTrends, MaxBatch: mode.maxBatch, Linger: 50 * time.Millisecond},
				func(ctx context.Context, batch []kafka.Message) error {
					var evs []schema.TopicEvent
					for _, m := range batch {
						var err error
						if evs, err = schema.DecodeTopicEvents(evs[:0], m.Value); err != nil {
							return err
						}
						events.Add(int64(len(evs)))
					}
					msgs.Add(int64(len(batch)))
					return nil
				}, log)
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); _ = c.Run(ctx) }()
			defer func() { cancel(); <-done }()

			var want int64
			round := func(evs []schema.TopicEvent) {
				if err := p.PublishTopicEvents(ctx, evs); err != nil {
					b.Fatal(err)
				}
				want += int64(len(evs))
				deadline := time.Now().Add(time.Minute)
				for events.Load() < want {
					if time.Now().After(deadline) {
						b.Fatalf("consumed %d of %d events", events.Load(), want)
					}
					time.Sleep(time.Millisecond)
				}
			}
			round(analyzerEvents(1000, 13, 20000, 1<<20)) // the group has joined and the path is warm
			// Generated beforehand: only publishing and consuming is measured.
			batches := make([][]schema.TopicEvent, b.N)
			for i := range batches {
				batches[i] = analyzerEvents(1000, 13, 20000, uint64(i))
			}

			msgs0, cpu0, broker0 := msgs.Load(), processCPU(), brokerCPU()
			b.ResetTimer()
			for i := range b.N {
				round(batches[i])
			}
			b.StopTimer()
			perK := func(v float64) float64 { return v / float64(b.N) }
			b.ReportMetric(perK(float64(msgs.Load()-msgs0)), "msgs/1kposts")
			b.ReportMetric(perK((processCPU()-cpu0).Seconds()*1000), "cpu-ms/1kposts")
			if broker0 >= 0 {
				b.ReportMetric(perK((brokerCPU()-broker0).Seconds()*1000), "broker-cpu-ms/1kposts")
			}
		})
	}
}

func benchBrokers(b *testing.B) []string {
	if s := os.Getenv("TRENDWATCH_TEST_KAFKA"); s != "" {
		br, err := ParseBrokers(s)
		if err != nil {
			b.Fatal(err)
		}
		return br
	}
	e, err := StartEmbedded("", 0, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	return e.Brokers()
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// brokerCPU is the CPU time of the process TRENDWATCH_BENCH_BROKER_PID
// names (from /proc), or -1.
func brokerCPU() time.Duration {
	pid := os.Getenv("TRENDWATCH_BENCH_BROKER_PID")
	if pid == "" {
		return -1
	}
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return -1
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 12th and 13th, in clock ticks (100 a second on Linux).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
