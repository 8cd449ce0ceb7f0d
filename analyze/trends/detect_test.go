package trends

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func ev(sec float64, topic, id, author string) Event {
	return Event{Time: t0.Add(time.Duration(sec * float64(time.Second))), Topic: topic, PostID: id, Author: author}
}

// run feeds events in order and returns every flag.
func run(d *Detector, evs []Event) []Flag {
	var out []Flag
	for _, e := range evs {
		out = append(out, d.Observe(e)...)
	}
	return append(out, d.Flush()...)
}

func TestEmergingNeedsDistinctAuthors(t *testing.T) {
	f := func(name string, evs []Event, wantKinds ...string) {
		t.Helper()
		flags := run(NewDetector(DefaultConfig()), evs)
		var kinds []string
		for _, fl := range flags {
			kinds = append(kinds, fl.Kind)
		}
		if !reflect.DeepEqual(kinds, wantKinds) {
			t.Errorf("%s: flags %v, want %v", name, kinds, wantKinds)
		}
	}
	var five, spam, four, slow []Event
	for i := range 5 {
		five = append(five, ev(float64(i*10), "#x", fmt.Sprint("p", i), fmt.Sprint("a", i)))
		four = append(four, ev(float64(i*10), "#x", fmt.Sprint("p", i), fmt.Sprint("a", i%4)))
		slow = append(slow, ev(float64(i*50), "#x", fmt.Sprint("p", i), fmt.Sprint("a", i)))
	}
	for i := range 100 {
		spam = append(spam, ev(float64(i), "#x", fmt.Sprint("p", i), "bot"))
	}
	f("five authors in 40s", five, KindEmerging)
	f("one author a hundred times", spam)
	f("four distinct authors", four)
	f("five authors over 200s: below every emerging rule", slow)
}

func TestEmergingFlagContents(t *testing.T) {
	var evs []Event
	for i := range 8 {
		evs = append(evs, ev(float64(i*5), "story:a1", fmt.Sprintf("p%d", 7-i), fmt.Sprint("a", i)))
	}
	flags := run(NewDetector(DefaultConfig()), evs)
	if len(flags) != 1 {
		t.Fatalf("got %d flags, want 1 (cooldown): %+v", len(flags), flags)
	}
	want := Flag{Time: t0.Add(20 * time.Second), Topic: "story:a1", Kind: KindEmerging, Score: 1, Count: 5,
		PostIDs: []string{"p7", "p6", "p5", "p4", "p3"}, Trigger: "p3", Authors: 5, Accel: 1}
	if !reflect.DeepEqual(flags[0], want) {
		t.Errorf("flag\n got %+v\nwant %+v", flags[0], want)
	}
}

// TestWarmup: an established steady topic is never flagged, a burst on it
// is flagged as a burst, and nothing is flagged as a burst before the key
// has a baseline.
func TestWarmupAndBurst(t *testing.T) {
	cfg := DefaultConfig()
	var evs []Event
	n := 0
	add := func(sec float64, author string) {
		evs = append(evs, ev(sec, "#meteo", fmt.Sprint("p", n), author))
		n++
	}
	for i := range 240 { // every 90 s for 6 h, 50 authors
		add(float64(i*90), fmt.Sprint("s", i%50))
	}
	steady := run(NewDetector(cfg), slices.Clone(evs))
	if len(steady) != 0 {
		t.Fatalf("steady topic flagged: %+v", steady)
	}
	for i := range 20 { // 20 new authors within 4 minutes at hour 6
		add(6*3600+float64(i*12), fmt.Sprint("w", i))
	}
	flags := run(NewDetector(cfg), evs)
	if len(flags) != 1 || flags[0].Kind != KindBurst || flags[0].Score < cfg.BurstZ {
		t.Fatalf("want one burst, got %+v", flags)
	}
	if got := flags[0].Time.Sub(t0); got < 6*time.Hour || got > 6*time.Hour+4*time.Minute {
		t.Errorf("burst flagged at +%v, want within 4 minutes of +6h", got)
	}
	// Before the warm-up ends, a rise of a young topic that does not meet
	// an emerging rule is no burst: there is no baseline yet.
	var young []Event
	for i := range 8 {
		young = append(young, ev(float64(i*30), "#y", fmt.Sprint("y", i), fmt.Sprint("a", i)))
	}
	if fl := run(NewDetector(cfg), young); len(fl) != 0 {
		t.Errorf("young topic flagged without meeting an emerging rule: %+v", fl)
	}
}

func TestIdleTopicStartsAnew(t *testing.T) {
	cfg := DefaultConfig()
	var evs []Event
	for i := range 5 {
		evs = append(evs, ev(float64(i), "#x", fmt.Sprint("a", i), fmt.Sprint("u", i)))
	}
	for i := range 5 {
		evs = append(evs, ev(7*3600+float64(i), "#x", fmt.Sprint("b", i), fmt.Sprint("u", i)))
	}
	d := NewDetector(cfg)
	flags := run(d, evs)
	if len(flags) != 2 || flags[1].Count != 5 || flags[1].PostIDs[0] != "b0" {
		t.Fatalf("want a second emerging flag counting from the return, got %+v", flags)
	}
	if s := d.Stats(); s.Topics != 0 || s.Pending != 0 || s.Events != 10 {
		t.Errorf("stats after the end of input %+v", s)
	}
}

func TestEvictionBoundsState(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxTopics = 100
	d := NewDetector(cfg)
	for i := range 10000 {
		d.Observe(ev(float64(i), fmt.Sprint("kw:t", i), fmt.Sprint("p", i), "a"))
		if s := d.Stats(); s.Topics > cfg.MaxTopics+1 {
			t.Fatalf("after %d events %d topics held, cap %d", i, s.Topics, cfg.MaxTopics)
		}
	}
	d.Flush()
	if s := d.Stats(); s.Evicted == 0 {
		t.Errorf("nothing evicted: %+v", s)
	}
	// Idle topics go without the cap.
	d = NewDetector(DefaultConfig())
	d.Observe(ev(0, "kw:old", "p0", "a"))
	d.Advance(t0.Add(7 * time.Hour))
	if s := d.Stats(); s.Topics != 0 {
		t.Errorf("idle topic kept: %+v", s)
	}
}

func TestLateEvents(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lateness = time.Minute
	d := NewDetector(cfg)
	// Out of order within the lateness: same flags as sorted input.
	var evs []Event
	for i := range 6 {
		evs = append(evs, ev(float64(i*5), "#x", fmt.Sprint("p", i), fmt.Sprint("a", i)))
	}
	want := run(NewDetector(cfg), evs)
	shuffled := slices.Clone(evs)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if got := run(d, shuffled); !reflect.DeepEqual(got, want) {
		t.Errorf("shuffled within lateness:\n got %+v\nwant %+v", got, want)
	}
	// Beyond the lateness, once its key has moved on: dropped and counted.
	d = NewDetector(cfg)
	d.Observe(ev(0, "#x", "p1", "a"))
	d.Observe(ev(600, "#x", "p2", "b"))
	d.Observe(ev(0, "#x", "p0", "c")) // sorts before p1, which already counted
	if s := d.Stats(); s.Late != 1 {
		t.Errorf("late = %d, want 1", s.Late)
	}
}

// TestPartitionedEqualsSingle: splitting the events by hash(topic) over
// three detectors, with interleaving across keys shuffled within the
// lateness, gives exactly the flags of one detector.
func TestPartitionedEqualsSingle(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lateness = 2 * time.Minute
	rng := rand.New(rand.NewPCG(42, 7))
	var evs []Event
	topics := []string{"#a", "#b", "kw:c", "story:d", "url:e.com/f", "fact:g", "ent:h"}
	for i := range 20000 {
		sec := float64(i) * 10
		evs = append(evs, ev(sec, topics[rng.IntN(len(topics))], fmt.Sprintf("p%05d", i), fmt.Sprint("u", rng.IntN(3000))))
		if i%300 == 0 { // a burst of new voices on one topic, some sharing a timestamp
			tp := topics[rng.IntN(len(topics))]
			for j := range 20 {
				evs = append(evs, ev(sec+float64(j/2)*4, tp, fmt.Sprintf("b%05d-%02d", i, j), fmt.Sprintf("n%d-%d", i, j)))
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return a.Time.Compare(b.Time) })
	key := func(f Flag) string { return fmt.Sprintf("%+v", f) }
	single := run(NewDetector(cfg), jitter(evs, rng, 90*time.Second))
	t.Logf("%d flags", len(single))
	if len(single) < 10 {
		t.Fatalf("only %d flags: the test would prove little", len(single))
	}
	var parts [3][]Event
	for _, e := range jitter(evs, rng, 90*time.Second) {
		h := fnv.New32a()
		h.Write([]byte(e.Topic))
		parts[h.Sum32()%3] = append(parts[h.Sum32()%3], e)
	}
	var split []Flag
	for _, p := range parts {
		split = append(split, run(NewDetector(cfg), p)...)
	}
	a, b := mapSlice(single, key), mapSlice(split, key)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Fatalf("3 detectors gave %d flags, 1 gave %d;\nfirst diff: %s", len(b), len(a), firstDiff(a, b))
	}
}

// jitter delays each event's arrival by up to max, so keys interleave
// differently, while keeping the event times.
func jitter(evs []Event, rng *rand.Rand, max time.Duration) []Event {
	type arr struct {
		at time.Time
		e  Event
	}
	as := make([]arr, len(evs))
	for i, e := range evs {
		as[i] = arr{e.Time.Add(time.Duration(rng.Int64N(int64(max)))), e}
	}
	slices.SortStableFunc(as, func(x, y arr) int { return x.at.Compare(y.at) })
	return mapSlice(as, func(a arr) Event { return a.e })
}

func mapSlice[T, U any](s []T, f func(T) U) []U {
	out := make([]U, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] + "\n" + b[i]
		}
	}
	return strings.Join(append(a[min(len(a), len(b)):], b[min(len(a), len(b)):]...), "\n")
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Emerging = []Window{{0, 3}}
	c.IdleTTL = time.Minute
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "positive span") || !strings.Contains(err.Error(), "idle TTL") {
		t.Errorf("Validate = %v", err)
	}
}

// FuzzDetector: any event sequence is handled without panic; flags are
// well-formed; and splitting by topic over two detectors changes nothing
// when the disorder stays within the lateness.
func FuzzDetector(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"), int64(60))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xff\xff\xff\xff"), int64(0))
	f.Fuzz(func(t *testing.T, b []byte, lateSec int64) {
		cfg := DefaultConfig()
		cfg.Lateness = time.Duration(min(max(lateSec, 0), 3600)) * time.Second
		var evs []Event
		sec := 0.0
		for i := 0; i+2 < len(b) && len(evs) < 2000; i += 3 {
			sec += float64(b[i] % 16)
			evs = append(evs, ev(sec, fmt.Sprint("kw:", b[i+1]%3), fmt.Sprint("p", i), fmt.Sprint("u", b[i+2]%32)))
		}
		all := run(NewDetector(cfg), evs)
		for _, fl := range all {
			if fl.Count < 1 || len(fl.PostIDs) == 0 || len(fl.PostIDs) > cfg.MaxPostIDs || fl.Authors < 1 || fl.Trigger == "" {
				t.Fatalf("malformed flag %+v", fl)
			}
		}
		var parts [2][]Event
		for _, e := range evs {
			parts[int(e.Topic[3])%2] = append(parts[int(e.Topic[3])%2], e)
		}
		var split []Flag
		for _, p := range parts {
			split = append(split, run(NewDetector(cfg), p)...)
		}
		key := func(f Flag) string { return fmt.Sprintf("%+v", f) }
		a, c := mapSlice(all, key), mapSlice(split, key)
		slices.Sort(a)
		slices.Sort(c)
		if !slices.Equal(a, c) {
			t.Fatalf("split changed the flags: %d vs %d", len(a), len(c))
		}
	})
}

// TestRedeliveredEventsCountOnce: a batch redelivered after a failure
// repeats events, some while their originals still wait for the watermark
// (adjacent copies) and some after it passed (late copies). The flags must
// equal those of the stream without copies: same count, same post ids.
func TestRedeliveredEventsCountOnce(t *testing.T) {
	var once, twice []Event
	for i := range 8 {
		e := ev(float64(i*5), "story:a1", fmt.Sprintf("p%d", i), fmt.Sprint("a", i))
		once = append(once, e)
		twice = append(twice, e, e) // copy while the original is pending
		if i == 4 {
			twice = append(twice, once[1]) // a late copy
		}
	}
	want := run(NewDetector(DefaultConfig()), once)
	got := run(NewDetector(DefaultConfig()), twice)
	if len(want) == 0 {
		t.Fatal("no flag from the stream without copies")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with copies\n got %+v\nwant %+v", got, want)
	}
}
