package cases

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

// BenchmarkApply folds batches of 100 matches spread over 20 facts, with
// 500 authors and one post a second (180 per fact in the hour window),
// into one book: the alerter's per-batch CPU cost.
func BenchmarkApply(b *testing.B) {
	book := NewBook(policy.Default(), []policy.Route{{Name: "desk", Channels: []string{"desk"}}}, nil)
	batch := make([]schema.Alert, 100)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			n++
			fact := fmt.Sprint("f", n%20)
			batch[i] = match(fact, fmt.Sprint(n), fmt.Sprint("u", n%500), .9, t0.Add(time.Duration(n)*time.Second))
		}
		book.Apply(batch, t0.Add(time.Duration(n)*time.Second))
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkLoop is the book's share of one alerter loop iteration (one per
// delivery) with n visible cases and no timer due: a delivery recorded,
// the timers run, the next timer and the status gauges read. It must not
// grow with n.
func BenchmarkLoop(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint("cases=", n), func(b *testing.B) {
			book := newBook(nil)
			facts := make([]string, n)
			batch := make([]schema.Alert, n)
			for i := range n {
				facts[i] = fmt.Sprint("f", i)
				batch[i] = match(facts[i], "p", "u", .9, t0)
			}
			book.Apply(batch, t0)
			// A mix of timers: every tenth case snoozed for a day, every
			// tenth acknowledged; the rest escalate in 30 minutes.
			var cmds []schema.Alert
			for i := 0; i < n; i += 10 {
				s := cmd(facts[i], "s", schema.CmdSnooze, t0)
				s.Command.Until = t0.Add(24 * time.Hour)
				cmds = append(cmds, s, cmd(facts[i+5], "a", schema.CmdAcknowledge, t0))
			}
			book.Apply(cmds, t0)
			now := t0.Add(time.Minute)
			i := 0
			runtime.GC() // the setup's garbage is not the loop's
			for b.Loop() {
				f := facts[i%n]
				i++
				book.Record(f, Event{CaseID: ID(f, 1), FactID: f, Kind: EventDelivered, Actor: ActorSystem, Time: now, Channel: "desk"})
				book.Tick(now)
				book.NextTimer()
				book.StatusCounts()
			}
		})
	}
}
