package claims

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// scaleFacts grows the real facts to n by recombining claims and titles of
// different facts, so the synthetic ones keep real vocabulary, lengths and
// term statistics.
func scaleFacts(facts []schema.Fact, n int) []schema.Fact {
	out := make([]schema.Fact, 0, n)
	out = append(out, facts...)
	for i := 0; len(out) < n; i++ {
		a, b := facts[i%len(facts)], facts[(i*7919+13)%len(facts)]
		out = append(out, schema.Fact{ID: fmt.Sprintf("synthetic-%d", i), Claim: a.Claim + " " + b.Title,
			Title: b.Title, Summary: a.Summary, Lang: "en"})
	}
	return out[:n]
}

func benchMatch(b *testing.B, n int) {
	set := checkThat(b, "2022", "devtest")
	ix := buildIndex(scaleFacts(set.facts, n))
	qs := set.queries
	lat := make([]time.Duration, 0, 1<<16)
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		ix.Match(qs[i%len(qs)].Text, "", 10)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	// On a shared machine wall time includes waiting for a core; process
	// CPU time per post is the figure that compares across runs.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}

func BenchmarkMatch15k(b *testing.B)  { benchMatch(b, 15000) }
func BenchmarkMatch100k(b *testing.B) { benchMatch(b, 100000) }

// cpuTime returns the CPU time this process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
