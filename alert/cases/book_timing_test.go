package cases

import (
	"fmt"
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
