package bench

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/enrich"
	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/analyze/trends"
	"github.com/trendwatch/trendwatch/schema"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestGeneratorDeterministic(t *testing.T) {
	a := NewGenerator(GenOptions{Seed: 42, Facts: 50}, t0)
	b := NewGenerator(GenOptions{Seed: 42, Facts: 50}, t0)
	c := NewGenerator(GenOptions{Seed: 43, Facts: 50}, t0)
	same := 0
	for i := 0; i < 500; i++ {
		now := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		x, y, z := a.Next(now), b.Next(now), c.Next(now)
		if x.Post != y.Post || strings.Join(x.Hashtags, ",") != strings.Join(y.Hashtags, ",") || x.FactID != y.FactID {
			t.Fatalf("post %d differs between two generators with one seed:\n%+v\n%+v", i, x, y)
		}
		if x.Post.ID == z.Post.ID {
			t.Fatalf("post %d has the same id under two seeds", i)
		}
		if x.Post.Text == z.Post.Text {
			same++
		}
	}
	if same > 100 {
		t.Errorf("%d of 500 texts equal under two seeds", same)
	}
}

// The stream must look like the issue asks: three languages in the
// configured proportions, Zipf hashtags, the restating share, valid posts.
func TestGeneratorShape(t *testing.T) {
	const n = 20000
	g := NewGenerator(GenOptions{Seed: 1, Facts: 300, MatchShare: 0.1, Langs: [3]float64{0.5, 0.3, 0.2}, BurstEvery: time.Hour, BurstLen: time.Nanosecond}, t0.Add(-time.Minute))
	ids := map[string]bool{}
	tags := map[string]int{}
	restating, viDiacritics := 0, 0
	for i := 0; i < n; i++ {
		x := g.Next(t0)
		p := x.Post
		if err := p.Validate(); err != nil {
			t.Fatalf("post %d invalid: %v (%+v)", i, err, p)
		}
		if ids[p.ID] {
			t.Fatalf("post id %s repeated", p.ID)
		}
		ids[p.ID] = true
		for _, h := range x.Hashtags {
			if !strings.HasPrefix(h, "#") || !strings.Contains(p.Text, h) {
				t.Fatalf("hashtag %q not in text %q", h, p.Text)
			}
			tags[h]++
		}
		if x.FactID != "" {
			restating++
		}
		if strings.ContainsAny(p.Text, "ạảấầậểếệỉịọồộớờợụủứừựỳ") {
			viDiacritics++
		}
	}
	if got := float64(restating) / n; math.Abs(got-0.1) > 0.01 {
		t.Errorf("restating share %.3f, want 0.1", got)
	}
	// Vietnamese is half the posts (French ones name Hanoi's streets).
	if got := float64(viDiacritics) / n; got < 0.4 || got > 0.65 {
		t.Errorf("share of posts with Vietnamese diacritics %.3f, want about 0.5", got)
	}
	// Zipf: the most popular tag is far more common than the median one.
	var counts []int
	top := 0
	for _, c := range tags {
		counts = append(counts, c)
		top = max(top, c)
	}
	if len(tags) < 200 || top < 20*median(counts) {
		t.Errorf("hashtags not Zipf-like: %d distinct, top %d, median %d", len(tags), top, median(counts))
	}
}

func median(xs []int) int {
	f := make([]float64, len(xs))
	for i, x := range xs {
		f[i] = float64(x)
	}
	return int(Quantile(f, 0.5))
}

// A fifth of Vietnamese posts come without diacritics by default.
func TestGeneratorFoldShare(t *testing.T) {
	share := func(fold float64) float64 {
		g := NewGenerator(GenOptions{Seed: 2, Facts: 30, MatchShare: -1, Langs: [3]float64{1, 0, 0}, FoldShare: fold}, t0)
		ascii := 0
		for i := 0; i < 5000; i++ {
			txt := g.Next(t0).Post.Text
			if strings.IndexFunc(txt, func(r rune) bool { return r > 0x7f }) < 0 {
				ascii++
			}
		}
		return float64(ascii) / 5000
	}
	if got := share(-1); got != 0 {
		t.Errorf("with folding disabled, %.3f of Vietnamese posts are ASCII", got)
	}
	if got := share(0); math.Abs(got-0.2) > 0.03 {
		t.Errorf("default: %.3f of Vietnamese posts folded, want 0.2", got)
	}
}

// TestFoldVietnamese: the generator folds Vietnamese as typed without an
// input method, with the analyzer's own folding.
func TestFoldVietnamese(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := text.FoldDiacritics(in); got != want {
			t.Errorf("FoldDiacritics(%q) = %q, want %q", in, got, want)
		}
	}
	f("Uống nước chanh nóng chữa khỏi bệnh cúm", "Uong nuoc chanh nong chua khoi benh cum")
	f("Đống Đa, đường Giải Phóng", "Dong Da, duong Giai Phong")
	f("plain ASCII #tag", "plain ASCII #tag")
	f("", "")
}

func TestBurstTag(t *testing.T) {
	g := NewGenerator(GenOptions{Seed: 3, Facts: 10, BurstEvery: 10 * time.Second, BurstLen: 2 * time.Second, BurstShare: 1}, t0)
	f := func(offset time.Duration, want string) {
		t.Helper()
		got, ok := g.burstTag(t0.Add(offset))
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("burst at %s: %q, want %q", offset, got, want)
		}
	}
	f(-time.Second, "")
	f(0, "burstbenchx0")
	f(1999*time.Millisecond, "burstbenchx0")
	f(2*time.Second, "")
	f(9*time.Second, "")
	f(10*time.Second, "burstbenchx1")
	f(31*time.Second, "burstbenchx3")
	x := g.Next(t0.Add(500 * time.Millisecond))
	found := false
	for _, h := range x.Hashtags {
		found = found || h == "#burstbenchx0"
	}
	if !found {
		t.Errorf("post during a burst with share 1 lacks the burst tag: %v", x.Hashtags)
	}
}

func TestMakeFactsDistinct(t *testing.T) {
	facts := MakeFacts(40000, "r")
	claimsSeen := map[string]bool{}
	langs := map[string]int{}
	for _, f := range facts {
		if err := f.Validate(); err != nil {
			t.Fatalf("fact %s invalid: %v", f.ID, err)
		}
		if !f.Alerting() {
			t.Fatalf("fact %s (%s → %s) would not alert", f.ID, f.Rating, f.Verdict)
		}
		if claimsSeen[f.Lang+f.Claim] {
			t.Fatalf("claim repeated: %s", f.Claim)
		}
		claimsSeen[f.Lang+f.Claim] = true
		langs[f.Lang]++
	}
	if langs["vi"] == 0 || langs["fr"] == 0 || langs["en"] == 0 {
		t.Errorf("languages %v", langs)
	}
}

// The tally's hashtag keys must be exactly the topic keys the analyzer
// derives, or the fault suite's aggregate checks would compare different
// things; and restated claims must reach their fact.
func TestGeneratedPostsThroughEnricher(t *testing.T) {
	g := NewGenerator(GenOptions{Seed: 9, Facts: 600, MatchShare: 0.2}, t0)
	ix := claims.NewIndex(claims.Options{})
	for _, f := range g.Facts() {
		ix.Upsert(f)
	}
	en := enrich.New(enrich.Options{Index: ix, Keys: trends.Keys})
	restating, matched := 0, 0
	for i := 0; i < 600; i++ {
		x := g.Next(t0.Add(time.Duration(i) * time.Second))
		a := en.Enrich(x.Post)
		topics := map[string]bool{}
		for _, k := range a.Topics {
			topics[k] = true
		}
		for _, h := range x.Hashtags {
			if !topics[h] {
				t.Fatalf("generated hashtag %s missing from the analyzer's topics %v (text %q)", h, a.Topics, x.Post.Text)
			}
		}
		for k := range topics {
			if strings.HasPrefix(k, schema.TopicHashtag) && !contains(x.Hashtags, k) {
				t.Fatalf("analyzer found hashtag %s the generator did not record (text %q)", k, x.Post.Text)
			}
		}
		if x.FactID != "" {
			restating++
			for _, m := range en.Alerting(&a) {
				if m.FactID == x.FactID {
					matched++
					break
				}
			}
		}
	}
	// Restatements are the claim plus a few words: the matcher should
	// alert on most of them (the bench reports the exact share).
	if restating == 0 || float64(matched) < 0.5*float64(restating) {
		t.Errorf("%d of %d restating posts alerted on their fact", matched, restating)
	}
	t.Logf("%d of %d restating posts alerted on their fact", matched, restating)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestQuantileAndSlope(t *testing.T) {
	f := func(xs []float64, q, want float64) {
		t.Helper()
		if got := Quantile(append([]float64(nil), xs...), q); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("Quantile(%v, %v) = %v, want %v", xs, q, got, want)
		}
	}
	f(nil, 0.5, math.NaN())
	f([]float64{7}, 0.99, 7)
	f([]float64{3, 1, 2}, 0.5, 2)
	f([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.99, 10)
	f([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5, 5)
	f([]float64{1, 2, 3, 4}, 0, 1)
	if s := slope([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}); math.Abs(s-2) > 1e-9 {
		t.Errorf("slope = %v, want 2", s)
	}
	if s := slope([]float64{1, 1}, []float64{1, 2}); s != 0 {
		t.Errorf("degenerate slope = %v, want 0", s)
	}
}

// fakePipeline stores what is published after a delay and emits an alert
// for restating posts, like the real one but in memory.
type fakePipeline struct {
	mu     sync.Mutex
	stored map[string]bool
	fail   atomic.Int32 // Publish calls to refuse
	alert  func(id string, detected time.Time)
	delay  time.Duration
}

func (f *fakePipeline) Publish(ctx context.Context, posts ...schema.Post) error {
	if f.fail.Load() > 0 {
		f.fail.Add(-1)
		return errors.New("broker unavailable")
	}
	ps := append([]schema.Post(nil), posts...)
	time.AfterFunc(f.delay, func() {
		f.mu.Lock()
		for _, p := range ps {
			f.stored[p.ID] = true
		}
		f.mu.Unlock()
		// Alert on every post, twice (two facts): the run measures the
		// restating ones once and counts the chatter ones as false alerts.
		for _, p := range ps {
			f.alert(p.ID, time.Now())
			f.alert(p.ID, time.Now())
		}
	})
	return nil
}

func (f *fakePipeline) CountPosts(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.stored)), nil
}

func TestRunMeasures(t *testing.T) {
	fp := &fakePipeline{stored: map[string]bool{}, delay: 30 * time.Millisecond}
	fp.fail.Store(2) // two refused publishes are retried, not lost
	g := NewGenerator(GenOptions{Seed: 5, Facts: 30, MatchShare: 0.3}, time.Now())
	// 3s, not less: the lag's slope is fitted over the second half, and on
	// a loaded machine (the whole suite runs at once) scheduling jitter over
	// 0.75s alone once read as a growing lag (93/s against 80).
	r := NewRun(RunOptions{Rate: 4000, Duration: 3 * time.Second, Batch: 100, Sample: 50 * time.Millisecond, Drain: 5 * time.Second, Keep: 1000}, g, fp, fp)
	fp.alert = func(id string, detected time.Time) { r.ObserveAlert(id, detected, time.Now()) }
	res, err := r.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Drained || res.Stored != res.Published || res.Published != r.Tally().Posts() {
		t.Errorf("published %d, stored %d, tally %d, drained %v", res.Published, res.Stored, r.Tally().Posts(), res.Drained)
	}
	if res.PublishErrors != 2 {
		t.Errorf("publish errors %d, want 2", res.PublishErrors)
	}
	// 4000/s for 3s; the schedule allows for a loaded machine.
	if res.Published < 8000 || res.Published > 12100 {
		t.Errorf("published %d posts at 4000/s for 3s", res.Published)
	}
	if len(r.Kept()) != 1000 {
		t.Errorf("kept %d rows, want 1000", len(r.Kept()))
	}
	if !res.LagStable || res.SustainedRate < 2000 {
		t.Errorf("a pipeline that keeps up: sustained %.0f/s, lag slope %.0f, stable %v", res.SustainedRate, res.LagSlope, res.LagStable)
	}
	res = r.Result()
	// The fake alerts on every post: the chatter ones are false alerts.
	if res.FalseAlerts != res.Published-res.Restating {
		t.Errorf("false alerts %d, want %d", res.FalseAlerts, res.Published-res.Restating)
	}
	if res.Alerts != res.Restating || res.Restating == 0 {
		t.Fatalf("alerts %d of %d restating", res.Alerts, res.Restating)
	}
	// The fake stores after 30ms: latencies sit just above it.
	if res.LatencyP50Ms < 30 || res.LatencyP99Ms < res.LatencyP50Ms {
		t.Errorf("latency p50 %.1fms p99 %.1fms", res.LatencyP50Ms, res.LatencyP99Ms)
	}
}

// A run too short for the second-half window still reports a rate.
func TestRunShort(t *testing.T) {
	fp := &fakePipeline{stored: map[string]bool{}, delay: time.Millisecond, alert: func(string, time.Time) {}}
	g := NewGenerator(GenOptions{Seed: 5, Facts: 30}, time.Now())
	r := NewRun(RunOptions{Rate: 2000, Duration: 300 * time.Millisecond, Batch: 100, Sample: 100 * time.Millisecond, Drain: 2 * time.Second}, g, fp, fp)
	res, err := r.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.SustainedRate <= 0 {
		t.Errorf("short run: sustained %.0f/s from %d samples", res.SustainedRate, len(res.Samples))
	}
}

func TestRunNotDrained(t *testing.T) {
	fp := &fakePipeline{stored: map[string]bool{}, delay: time.Hour, alert: func(string, time.Time) {}}
	g := NewGenerator(GenOptions{Seed: 5, Facts: 30}, time.Now())
	r := NewRun(RunOptions{Rate: 1000, Duration: 200 * time.Millisecond, Batch: 50, Drain: 200 * time.Millisecond, Sample: 20 * time.Millisecond}, g, fp, fp)
	res, err := r.Execute(context.Background())
	if !errors.Is(err, ErrNotDrained) {
		t.Fatalf("err = %v, want ErrNotDrained", err)
	}
	if res.Drained || res.Stored != 0 || res.Published == 0 {
		t.Errorf("result %+v", res)
	}
}

// FuzzAppendTag: whatever the input, a tag is ASCII lower-case
// alphanumerics, never empty, never repeated.
func FuzzAppendTag(f *testing.F) {
	for _, s := range []string{"Hanoi", "#tin_tức", "", "ÉTÉ2026", "a a", "\xff\xfe", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags := appendTag(appendTag(nil, s), s)
		if len(tags) > 1 {
			t.Fatalf("tag %q added twice: %v", s, tags)
		}
		for _, tag := range tags {
			if tag == "" || !utf8.ValidString(tag) {
				t.Fatalf("bad tag %q from %q", tag, s)
			}
			for _, r := range tag {
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
					t.Fatalf("tag %q from %q has %q", tag, s, r)
				}
			}
		}
	})
}

// FuzzGenerator: any seed and options give valid posts with unique ids
// whose recorded hashtags appear in the text.
func FuzzGenerator(f *testing.F) {
	f.Add(uint64(1), 0.02, 10, uint16(100))
	f.Add(uint64(0), 1.0, 0, uint16(1))
	f.Add(uint64(99), -3.0, 3, uint16(2))
	f.Fuzz(func(t *testing.T, seed uint64, share float64, facts int, tagsN uint16) {
		if facts > 2000 {
			facts = 2000
		}
		g := NewGenerator(GenOptions{Seed: seed, MatchShare: share, Facts: facts, Hashtags: int(tagsN)}, t0)
		ids := map[string]bool{}
		for i := 0; i < 50; i++ {
			x := g.Next(t0.Add(time.Duration(i) * time.Second))
			if err := x.Post.Validate(); err != nil {
				t.Fatalf("invalid post: %v", err)
			}
			if ids[x.Post.ID] {
				t.Fatalf("repeated id")
			}
			ids[x.Post.ID] = true
			for _, h := range x.Hashtags {
				if !strings.Contains(x.Post.Text, h) {
					t.Fatalf("hashtag %s not in %q", h, x.Post.Text)
				}
			}
		}
	})
}
