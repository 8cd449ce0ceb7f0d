package worker

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

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
