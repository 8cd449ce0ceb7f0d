package trends

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Event is one post counted under one topic key.
type Event struct {
	Time   time.Time
	Topic  string
	PostID string
	Author string
}

// Flag kinds.
const (
	KindEmerging = "emerging" // a young key (no baseline yet) gathering authors fast
	KindBurst    = "burst"    // an established key far above its own baseline
)

// Flag says that a topic is rising.
type Flag struct {
	Time    time.Time // event time of the post that tipped the rule
	Topic   string
	Kind    string
	Score   float64 // burst: standard deviations above baseline; emerging: window count over its threshold
	Count   int     // posts of the topic seen up to Time (since it appeared or was last idle)
	PostIDs []string
	Trigger string  // the post that tipped the rule
	Authors int     // distinct authors in the rule's window
	Accel   float64 // change of the per-minute author rate between the last two burst windows
}

// Window is an emerging-topic rule: at least Min distinct authors within
// Span.
type Window struct {
	Span time.Duration
	Min  int
}

// Config tunes the Detector. The zero value of a field takes the default
// from DefaultConfig.
type Config struct {
	// Lateness is how far behind the newest event an event may arrive and
	// still be counted; events are processed in event-time order once the
	// watermark (newest time minus Lateness) passes them.
	Lateness time.Duration
	// Bucket is the baseline's time step.
	Bucket time.Duration
	// HalfLife of the EWMA baseline of per-bucket author counts.
	HalfLife time.Duration
	// Warmup is how long after a key first appears it is judged by the
	// Emerging rules only, because its baseline does not exist yet.
	Warmup time.Duration
	// Emerging rules for keys younger than Warmup; any one fires.
	Emerging []Window
	// BurstWindow, BurstZ and BurstMin: an established key is flagged when
	// the authors in the last BurstWindow reach BurstMin and exceed the
	// baseline's expectation by BurstZ standard deviations.
	BurstWindow time.Duration
	BurstZ      float64
	BurstMin    int
	// VarFloor is the per-bucket variance below which the baseline is not
	// trusted (Poisson noise of a quiet topic).
	VarFloor float64
	// Cooldown silences a key after a flag.
	Cooldown time.Duration
	// AuthorWindow: an author counts at most once per topic within it.
	AuthorWindow time.Duration
	// IdleTTL: a key without events for this long is forgotten (and starts
	// anew, with a new warm-up, if it comes back).
	IdleTTL time.Duration
	// MaxTopics caps the keys held; beyond it the least recently active
	// are evicted first.
	MaxTopics int
	// MaxAuthors caps the authors remembered per key for de-duplication.
	MaxAuthors int
	// MaxPostIDs is how many of the earliest posts a flag carries.
	MaxPostIDs int
}

// DefaultConfig returns the defaults, tuned on the real Twitter cascades of
// the shared data (see shared_test.go) through these general parameters
// only, and sensible for a news stream: five people sharing one new thing
// within a minute, seven within two or ten within five is early news; an
// established topic must rise five standard deviations above its own level
// with at least eight authors in five minutes.
func DefaultConfig() Config {
	return Config{
		Lateness:     0,
		Bucket:       time.Minute,
		HalfLife:     35 * time.Minute,
		Warmup:       time.Hour,
		Emerging:     []Window{{time.Minute, 5}, {2 * time.Minute, 7}, {5 * time.Minute, 10}},
		BurstWindow:  5 * time.Minute,
		BurstZ:       5,
		BurstMin:     8,
		VarFloor:     0.05,
		Cooldown:     time.Hour,
		AuthorWindow: time.Hour,
		IdleTTL:      6 * time.Hour,
		MaxTopics:    1 << 20,
		MaxAuthors:   4096,
		MaxPostIDs:   5,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Lateness < 0 {
		c.Lateness = 0
	}
	if c.Bucket <= 0 {
		c.Bucket = d.Bucket
	}
	if c.HalfLife <= 0 {
		c.HalfLife = d.HalfLife
	}
	if c.Warmup <= 0 {
		c.Warmup = d.Warmup
	}
	if len(c.Emerging) == 0 {
		c.Emerging = d.Emerging
	}
	if c.BurstWindow <= 0 {
		c.BurstWindow = d.BurstWindow
	}
	if c.BurstZ <= 0 {
		c.BurstZ = d.BurstZ
	}
	if c.BurstMin <= 0 {
		c.BurstMin = d.BurstMin
	}
	if c.VarFloor <= 0 {
		c.VarFloor = d.VarFloor
	}
	if c.Cooldown <= 0 {
		c.Cooldown = d.Cooldown
	}
	if c.AuthorWindow <= 0 {
		c.AuthorWindow = d.AuthorWindow
	}
	if c.IdleTTL <= 0 {
		c.IdleTTL = d.IdleTTL
	}
	if c.MaxTopics <= 0 {
		c.MaxTopics = d.MaxTopics
	}
	if c.MaxAuthors <= 0 {
		c.MaxAuthors = d.MaxAuthors
	}
	if c.MaxPostIDs <= 0 {
		c.MaxPostIDs = d.MaxPostIDs
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	for _, w := range c.Emerging {
		if w.Span <= 0 || w.Min <= 0 {
			errs = append(errs, fmt.Errorf("emerging rule %v/%d needs a positive span and count", w.Span, w.Min))
		}
	}
	if c.Warmup < c.Bucket {
		errs = append(errs, fmt.Errorf("warm-up %v is shorter than one bucket %v", c.Warmup, c.Bucket))
	}
	if c.IdleTTL < c.Warmup {
		errs = append(errs, fmt.Errorf("idle TTL %v is shorter than the warm-up %v", c.IdleTTL, c.Warmup))
	}
	return errors.Join(errs...)
}

// Stats counts what the detector did.
type Stats struct {
	Events  int64 // events accepted
	Late    int64 // events dropped: their key had already processed later ones
	Evicted int64 // keys evicted by the MaxTopics cap (idle expiry is not counted)
	Topics  int   // keys held now
	Pending int   // events waiting for the watermark
}

// Detector flags rising topics. It is not safe for concurrent use: the
// analyzer owns one per partition of the repartitioned topic events.
type Detector struct {
	cfg       Config
	bucket    int64 // ns
	alpha     float64
	maxSpan   int64 // ns: longest window any rule looks at
	topics    map[string]*topic
	pending   pendQueue
	maxTime   int64 // newest event time seen (ns); math.MinInt64 before any
	watermark int64 // events strictly before it are processed
	nextSweep int64
	out       []Flag
	stats     Stats
	tables    tablePool
}

type pend struct {
	t      int64
	tp     *topic
	id     string
	author uint64
}

// before orders pending events by time then post id. That is all the
// order a key's state depends on: keys never interact while events are
// handled (flags are sorted afterwards), so events of different keys at the
// same instant may be handled in any order, and comparing ids rather than
// keys spares long common key prefixes on every comparison.
func (a *pend) before(b *pend) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	return a.id < b.id
}

// pendQueue holds the events waiting for the watermark. Input is mostly in
// time order, so events that do not go before the newest queued one are
// appended to a sorted FIFO in O(1); only the others go to a heap, and
// the two are merged when popping.
type pendQueue struct {
	fifo []pend // sorted by before from head on
	head int
	late evHeap
}

func (q *pendQueue) len() int { return len(q.fifo) - q.head + len(q.late) }

func (q *pendQueue) push(p pend) {
	if n := len(q.fifo); n == q.head || !p.before(&q.fifo[n-1]) {
		q.fifo = append(q.fifo, p)
		return
	}
	q.late.push(p)
}

// popBefore removes and returns the earliest pending event if it is
// strictly before wm.
func (q *pendQueue) popBefore(wm int64) (pend, bool) {
	fromFIFO := q.head < len(q.fifo)
	if len(q.late) > 0 && (!fromFIFO || q.late[0].before(&q.fifo[q.head])) {
		if q.late[0].t >= wm {
			return pend{}, false
		}
		return q.late.pop(), true
	}
	if !fromFIFO || q.fifo[q.head].t >= wm {
		return pend{}, false
	}
	p := q.fifo[q.head]
	q.fifo[q.head] = pend{} // let the id and topic go
	q.head++
	if q.head == len(q.fifo) {
		q.fifo, q.head = q.fifo[:0], 0
	} else if q.head >= 1024 && q.head > len(q.fifo)/2 {
		n := copy(q.fifo, q.fifo[q.head:])
		clear(q.fifo[n:])
		q.fifo, q.head = q.fifo[:n], 0
	}
	return p, true
}

// evHeap is a binary min-heap of pending events, written out rather than
// through container/heap so that pushing does not box each event.
type evHeap []pend

func (h evHeap) less(i, j int) bool { return h[i].before(&h[j]) }

func (h *evHeap) push(p pend) {
	*h = append(*h, p)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *evHeap) pop() pend {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = pend{}
	q = q[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(q) && q.less(l, small) {
			small = l
		}
		if r := l + 1; r < len(q) && q.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*h = q
	return top
}

type postRef struct {
	t  int64
	id string
}

// topic is the state of one key since it (re)appeared.
type topic struct {
	key      string
	birth    int64
	last     postRef // last processed event, for ordering and late detection
	npending int
	count    int
	win      []int64 // times of counted (author-distinct) events within maxSpan
	winHead  int
	authors  authorSet // author hash -> time it last counted
	pruneAt  int
	bucket   int64 // current bucket index
	cur      float64
	mean     float64
	vari     float64
	quiet    int64 // no flag before this time
	first    []postRef
	gone     bool // deleted from Detector.topics: a holder of the pointer must look the key up again
}

// NewDetector returns a detector; invalid settings fall back to defaults
// (call Config.Validate to report them).
func NewDetector(cfg Config) *Detector {
	cfg = cfg.withDefaults()
	d := &Detector{
		cfg:       cfg,
		bucket:    int64(cfg.Bucket),
		alpha:     1 - math.Exp2(-float64(cfg.Bucket)/float64(cfg.HalfLife)),
		topics:    make(map[string]*topic),
		maxTime:   math.MinInt64,
		watermark: math.MinInt64,
		nextSweep: math.MinInt64,
	}
	d.maxSpan = int64(cfg.BurstWindow) * 2 // acceleration compares two windows
	for _, w := range cfg.Emerging {
		d.maxSpan = max(d.maxSpan, int64(w.Span))
	}
	return d
}

// Config returns the effective configuration.
func (d *Detector) Config() Config { return d.cfg }

// Stats returns counters and sizes.
func (d *Detector) Stats() Stats {
	s := d.stats
	s.Topics = len(d.topics)
	s.Pending = d.pending.len()
	return s
}

// Observe adds one event and returns the flags of the events the watermark
// has now passed, ordered by time then topic.
func (d *Detector) Observe(ev Event) []Flag {
	if ev.Topic == "" || ev.Time.IsZero() {
		return nil
	}
	return d.observe(d.topic(ev.Topic), ev.Time.UnixNano(), ev.PostID, hashString(ev.Author))
}

// topic returns the state of key, creating it if needed.
func (d *Detector) topic(key string) *topic {
	tp := d.topics[key]
	if tp == nil {
		tp = &topic{key: key, last: postRef{t: math.MinInt64}}
		d.topics[key] = tp
	}
	return tp
}

// observe is Observe once the key's state is known: tp must be live (held
// by d.topics, not gone).
func (d *Detector) observe(tp *topic, t int64, id string, author uint64) []Flag {
	if cmpRef(postRef{t, id}, tp.last) <= 0 {
		d.stats.Late++ // its key has moved past it: counting it now would depend on arrival order
		return d.advanceTo(d.maxTime)
	}
	d.stats.Events++
	tp.npending++
	d.pending.push(pend{t: t, tp: tp, id: id, author: author})
	if t > d.maxTime {
		d.maxTime = t
	}
	return d.advanceTo(d.maxTime)
}

// Advance moves the event-time clock to now and returns the flags that
// became due. On a live stream call it with the consumer's low watermark
// (the oldest of the partitions' latest event times), so that a quiet
// period does not hold back the last events; not with the wall clock,
// since posts are often collected long after they were published.
func (d *Detector) Advance(now time.Time) []Flag {
	return d.advanceTo(now.UnixNano())
}

// Flush processes every pending event (end of input).
func (d *Detector) Flush() []Flag {
	return d.process(math.MaxInt64)
}

func (d *Detector) advanceTo(now int64) []Flag {
	if now == math.MinInt64 {
		return nil
	}
	return d.process(now - int64(d.cfg.Lateness))
}

// process handles every pending event strictly before wm. Strictly, so
// that events sharing a timestamp are all present and sorted before any of
// them counts, whatever their arrival order.
func (d *Detector) process(wm int64) []Flag {
	if wm > d.watermark {
		d.watermark = wm
	}
	d.out = d.out[:0]
	for {
		p, ok := d.pending.popBefore(d.watermark)
		if !ok {
			break
		}
		p.tp.npending--
		d.handle(p)
	}
	if d.watermark >= d.nextSweep || len(d.topics) > d.cfg.MaxTopics {
		d.sweep()
	}
	if len(d.out) == 0 {
		return nil
	}
	return sortFlags(slices.Clone(d.out))
}

func sortFlags(flags []Flag) []Flag {
	if len(flags) == 0 {
		return nil
	}
	slices.SortStableFunc(flags, func(a, b Flag) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Topic, b.Topic))
	})
	return flags
}

func (d *Detector) handle(p pend) {
	tp, t := p.tp, p.t
	// A redelivered copy of the event just handled: pending events leave in
	// (time, post id) order, so copies of one topic's event are adjacent.
	// Later copies are dropped as late; this one would count twice.
	if tp.last == (postRef{t, p.id}) {
		return
	}
	if tp.last.t != math.MinInt64 && t-tp.last.t >= int64(d.cfg.IdleTTL) {
		tp.reset(&d.tables) // idle too long: a new life, the same whether or not it was evicted meanwhile
	}
	if tp.count == 0 {
		tp.birth = t
		tp.bucket = floorDiv(t, d.bucket)
	}
	tp.last = postRef{t, p.id}
	tp.count++
	tp.addFirst(postRef{t, p.id}, d.cfg.MaxPostIDs)
	d.roll(tp, floorDiv(t, d.bucket))
	if !d.countAuthor(tp, p.author, t) {
		return
	}
	tp.cur++
	tp.win = append(tp.win, t)
	for tp.winHead < len(tp.win) && tp.win[tp.winHead] <= t-d.maxSpan {
		tp.winHead++
	}
	if tp.winHead > 64 && tp.winHead > len(tp.win)/2 {
		tp.win = append(tp.win[:0], tp.win[tp.winHead:]...)
		tp.winHead = 0
	}
	if t < tp.quiet {
		return
	}
	if f, ok := d.judge(tp, t, p.id); ok {
		tp.quiet = t + int64(d.cfg.Cooldown)
		d.out = append(d.out, f)
	}
}

// judge applies the emerging or burst rule after an author-distinct event
// at t.
func (d *Detector) judge(tp *topic, t int64, trigger string) (Flag, bool) {
	flag := func(kind string, score float64, authors int) (Flag, bool) {
		ids := make([]string, len(tp.first))
		for i, r := range tp.first {
			ids[i] = r.id
		}
		w := int64(d.cfg.BurstWindow)
		now, prev := tp.inWindow(t, w), tp.inWindow(t, 2*w)-tp.inWindow(t, w)
		accel := float64(now-prev) / (float64(w) / float64(time.Minute))
		return Flag{
			Time: time.Unix(0, t).UTC(), Topic: tp.key, Kind: kind, Score: score,
			Count: tp.count, PostIDs: ids, Trigger: trigger, Authors: authors, Accel: accel,
		}, true
	}
	if t-tp.birth < int64(d.cfg.Warmup) {
		best, bestAuthors := 0.0, 0
		for _, r := range d.cfg.Emerging {
			n := tp.inWindow(t, int64(r.Span))
			if n >= r.Min {
				if s := float64(n) / float64(r.Min); s > best {
					best, bestAuthors = s, n
				}
			}
		}
		if best > 0 {
			return flag(KindEmerging, best, bestAuthors)
		}
		return Flag{}, false
	}
	n := tp.inWindow(t, int64(d.cfg.BurstWindow))
	if n < d.cfg.BurstMin {
		return Flag{}, false
	}
	k := float64(d.cfg.BurstWindow) / float64(d.cfg.Bucket)
	// Counts are at least Poisson-dispersed: a variance estimate below the
	// mean is the EWMA's noise, not a calmer topic.
	sd := math.Sqrt(k*max(tp.vari, tp.mean) + k*d.cfg.VarFloor)
	z := (float64(n) - k*tp.mean) / sd
	if z < d.cfg.BurstZ {
		return Flag{}, false
	}
	return flag(KindBurst, z, n)
}
