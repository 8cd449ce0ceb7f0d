package worker

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/cases"
	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

type discard struct{}

func (discard) Send(context.Context, notify.Notification) error { return nil }

// BenchmarkHandle measures Handle with its fsync: batches of 100 matches
// over 20 facts into an engine whose state dir is on the test's disk.
func BenchmarkHandle(b *testing.B) {
	opts := testOptions(b.TempDir(), map[string]notify.Channel{"null": discard{}}, []policy.Route{{Name: "all", Channels: []string{"null"}}})
	opts.Store = nil
	e, err := New(opts, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	start := time.Now().Add(-time.Hour)
	batch := make([]schema.Alert, 100)
	n := 0
	for b.Loop() {
		for i := range batch {
			n++
			// One post a second, wrapping within the hour so no clamping.
			at := start.Add(time.Duration(n%3600) * time.Second)
			batch[i] = alert(fmt.Sprint("f", n%20), fmt.Sprint(n), fmt.Sprint("u", n%500), .9, schema.VerdictFalse, at)
		}
		if err := e.Handle(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkDeliveryLoop is one iteration of Run's loop per delivery (run
// the timers, take a due delivery, record its success, compute the sleep)
// with n open cases and up to n deliveries pending. It must not grow with
// n. The clock stands still, so no timer fires.
func BenchmarkDeliveryLoop(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint("cases=", n), func(b *testing.B) {
			opts := testOptions(b.TempDir(), map[string]notify.Channel{"null": discard{}},
				[]policy.Route{{Name: "all", Channels: []string{"null"}, Escalate: []string{"null"}, EscalateAfter: 30 * time.Minute}})
			opts.Store, opts.QueueSize = nil, 2*n
			clk := newClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
			opts.Now = clk.Now
			e, err := New(opts, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			ctx := context.Background()
			batch := make([]schema.Alert, n)
			for i := range batch {
				batch[i] = alert(fmt.Sprint("f", i), "p", "u", .9, schema.VerdictFalse, clk.Now())
			}
			if err := e.Handle(ctx, batch); err != nil {
				b.Fatal(err)
			}
			cs := e.Cases()
			round := 1
			runtime.GC()
			for b.Loop() {
				if e.Pending() == 0 {
					// Queue the next round: one notification per case.
					b.StopTimer()
					round++
					var eff cases.Effects
					for _, c := range cs {
						n := notify.Notification{Key: notify.NotificationKey(c.ID, round), CaseID: c.ID, FactID: c.FactID, Seq: round,
							Kind: notify.KindUpdate, Created: clk.Now()}
						eff.Notify = append(eff.Notify, cases.Outgoing{N: n, Channels: []string{"null"}})
					}
					e.mu.Lock()
					err := e.commitLocked(eff)
					e.mu.Unlock()
					if err != nil {
						b.Fatal(err)
					}
					runtime.GC() // the round's garbage is not the loop's
					b.StartTimer()
				}
				e.tick(ctx)
				ds := e.due(1)
				if len(ds) != 1 {
					b.Fatalf("%d due", len(ds))
				}
				e.finish(ctx, result{d: ds[0]})
				e.sleep()
			}
		})
	}
}
