package cases

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

// Hit is one qualifying post inside the velocity window.
type Hit struct {
	T      time.Time
	Author string
}

// MarshalJSON writes [unix milliseconds, author]: the window travels in
// every journal record, and RFC 3339 times would triple its size and cost.
func (h Hit) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]any{h.T.UnixMilli(), h.Author})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (h *Hit) UnmarshalJSON(b []byte) error {
	var v [2]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("velocity hit: %w", err)
	}
	var ms int64
	if err := json.Unmarshal(v[0], &ms); err != nil {
		return fmt.Errorf("velocity hit time: %w", err)
	}
	h.T = time.UnixMilli(ms).UTC()
	return json.Unmarshal(v[1], &h.Author)
}

// MaxWindow bounds the hits kept for one fact's velocity window.
const MaxWindow = 5000

// Outgoing is a notification and the channels it must reach.
type Outgoing struct {
	N        notify.Notification `json:"n"`
	Channels []string            `json:"channels"`
}

// Delta is everything one fact's state gained in a step: the journal
// stores it, and Replay applies it to rebuild the Book after a restart.
type Delta struct {
	FactID       string   `json:"fact_id"`
	Case         Case     `json:"case"`
	Window       []Hit    `json:"window"`
	Seen         []string `json:"seen,omitempty"` // alert keys and command ids added
	Authors      []string `json:"authors,omitempty"`
	ResetAuthors bool     `json:"reset_authors,omitempty"` // a new case generation began
	// Events are the history entries added in the step; Case.History is
	// left empty except in snapshots, so each record stays small.
	Events []Event `json:"events,omitempty"`
}

// Effects is what a step produced.
type Effects struct {
	Deltas []Delta
	Events []Event
	Notify []Outgoing
}

// fact is one fact's state: its current case (watching, open,
// acknowledged or resolved), the velocity window and dedupe sets.
type fact struct {
	id      string
	c       Case
	window  []Hit          // sorted by time
	winAuth map[string]int // hits per author within window
	seen    map[string]struct{}
	authors map[string]struct{}
	// delta accumulation for the current step
	dirty      bool // on Book.dirty
	newEvents  []Event
	newSeen    []string
	newAuthors []string
	reset      bool
	// Indexes kept by reindex: the case's entry in Book.timers (valid
	// while queued and its gen is tgen) and the status it is counted
	// under in Book.counts ("" when not visible).
	due     time.Time
	queued  bool
	tgen    uint64
	counted string
}

// Book holds every fact's case. It is not safe for concurrent use.
//
// The alerter calls Tick, NextTimer and StatusCounts once per loop
// iteration, i.e. per delivery, so none of them may visit every fact:
// facts changed in a step go on a dirty list, and take() updates a heap of
// case timers and the status counts for those alone.
type Book struct {
	pol    policy.Config
	routes []policy.Route
	tags   func(factID string) []string
	facts  map[string]*fact
	eff    Effects

	dirty  []*fact        // changed since the last take
	timers timerHeap      // one live entry per case with a timer; stale ones are skipped
	live   int            // facts with a live entry
	counts map[string]int // visible cases per status
}

// NewBook returns an empty book. tags, when not nil, gives a fact's tags
// for routing (the alert record does not carry them).
func NewBook(pol policy.Config, routes []policy.Route, tags func(string) []string) *Book {
	return &Book{pol: pol, routes: routes, tags: tags, facts: map[string]*fact{}, counts: map[string]int{}}
}

// Policy returns the policy in force.
func (b *Book) Policy() policy.Config { return b.pol }

// SetPolicy puts pol in force for what Apply and Tick do next. Case timers
// (cooldown ends) are recomputed; cases themselves are not re-judged.
func (b *Book) SetPolicy(pol policy.Config) {
	b.pol = pol
	for _, f := range b.facts {
		b.reindex(f)
	}
}

func (b *Book) get(factID string) *fact {
	f := b.facts[factID]
	if f == nil {
		f = &fact{id: factID, seen: map[string]struct{}{}, authors: map[string]struct{}{}, winAuth: map[string]int{}}
		b.facts[factID] = f
	}
	return f
}

// deltaCase is f's case for a Delta: a copy without History (the delta
// carries the new events), which is not copied only to be dropped.
func (f *fact) deltaCase() Case {
	h := f.c.History
	f.c.History = nil
	c := f.c.Clone()
	f.c.History = h
	return c
}

// mark records that f changed in this step: take() emits its delta and
// reindexes it.
func (b *Book) mark(f *fact) {
	if !f.dirty {
		f.dirty = true
		b.dirty = append(b.dirty, f)
	}
}

// Len returns how many facts the book holds (visible or not).
func (b *Book) Len() int { return len(b.facts) }

// Seen reports whether an alert key or command id was already applied.
func (b *Book) Seen(factID, key string) bool {
	f := b.facts[factID]
	if f == nil {
		return false
	}
	_, ok := f.seen[key]
	return ok
}

// Cases returns the visible cases (not those merely watched), sorted by id.
func (b *Book) Cases() []Case {
	var out []Case
	for _, f := range b.facts {
		if f.c.Visible() {
			out = append(out, f.c.Clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// StatusCounts returns how many visible cases are in each status (the
// alerter's gauges read it after every delivery): kept up to date as cases
// change, so reading it costs nothing per case.
func (b *Book) StatusCounts() map[string]int {
	out := map[string]int{StatusOpen: 0, StatusAcknowledged: 0, StatusResolved: 0}
	for s, n := range b.counts {
		out[s] = n
	}
	return out
}

// Case returns the current case of a fact.
func (b *Book) Case(factID string) (Case, bool) {
	f := b.facts[factID]
	if f == nil || f.c.ID == "" {
		return Case{}, false
	}
	return f.c.Clone(), true
}

// Replay applies a journaled delta.
func (b *Book) Replay(d Delta) {
	f := b.get(d.FactID)
	hist := f.c.History
	if f.c.ID != d.Case.ID {
		hist = nil // a new case generation
	}
	if len(d.Case.History) > 0 {
		hist = d.Case.History // a snapshot carries the whole history
	}
	f.c = d.Case.Clone()
	f.c.History = capHistory(append(slices.Clone(hist), d.Events...))
	f.window = slices.Clone(d.Window)
	slices.SortStableFunc(f.window, func(a, b Hit) int { return a.T.Compare(b.T) })
	f.winAuth = map[string]int{}
	for _, h := range f.window {
		f.winAuth[h.Author]++
	}
	if d.ResetAuthors {
		f.authors = map[string]struct{}{}
	}
	for _, k := range d.Seen {
		f.seen[k] = struct{}{}
	}
	for _, a := range d.Authors {
		f.authors[a] = struct{}{}
	}
	b.reindex(f)
}

// Snapshot returns one delta per fact that, replayed into an empty book,
// rebuilds this one (the journal's compaction).
func (b *Book) Snapshot() []Delta {
	out := make([]Delta, 0, len(b.facts))
	for id, f := range b.facts {
		d := Delta{FactID: id, Case: f.c.Clone(), Window: slices.Clone(f.window), ResetAuthors: true}
		for k := range f.seen {
			d.Seen = append(d.Seen, k)
		}
		for a := range f.authors {
			d.Authors = append(d.Authors, a)
		}
		slices.Sort(d.Seen)
		slices.Sort(d.Authors)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FactID < out[j].FactID })
	return out
}

// take returns the effects accumulated since the last call.
func (b *Book) take() Effects {
	for _, f := range b.dirty {
		c := f.deltaCase()
		b.eff.Deltas = append(b.eff.Deltas, Delta{FactID: f.id, Case: c, Window: slices.Clone(f.window),
			Seen: f.newSeen, Authors: f.newAuthors, ResetAuthors: f.reset, Events: f.newEvents})
		f.dirty, f.newSeen, f.newAuthors, f.reset, f.newEvents = false, nil, nil, false, nil
		b.reindex(f)
	}
	clear(b.dirty)
	b.dirty = b.dirty[:0]
	// Stable: a fact's superseded case precedes its next one.
	sort.SliceStable(b.eff.Deltas, func(i, j int) bool { return b.eff.Deltas[i].FactID < b.eff.Deltas[j].FactID })
	e := b.eff
	b.eff = Effects{}
	return e
}

// Apply folds a batch of alerts and commands (in order) into the book at
// time now and returns the effects. Alerts and commands already applied
// (by key / command id) are skipped, so a redelivered batch changes nothing.
func (b *Book) Apply(batch []schema.Alert, now time.Time) Effects {
	for i := range batch {
		a := &batch[i]
		if a.Command != nil {
			b.command(a, now)
		} else {
			b.match(a, now)
		}
	}
	return b.take()
}

// Tick runs the timers at now: snooze expiry, cooldown-delayed updates and
// escalation.
func (b *Book) Tick(now time.Time) Effects {
	// Only facts whose timer is due are visited, taken from the timer
	// heap, in id order so effects do not depend on heap layout.
	due := b.popDue(now)
	slices.SortFunc(due, func(x, y *fact) int { return strings.Compare(x.id, y.id) })
	for _, f := range due {
		c := &f.c
		if !c.Visible() || c.Status == StatusResolved {
			continue
		}
		if !c.SnoozedUntil.IsZero() && !c.Snoozed(now) {
			until := c.SnoozedUntil
			c.SnoozedUntil, c.SnoozedBy = time.Time{}, ""
			b.event(f, now, Event{Kind: EventSnoozeExpired, Actor: ActorSystem, Detail: "snoozed until " + until.UTC().Format(time.RFC3339)})
		}
		if c.Snoozed(now) {
			continue
		}
		if c.PendingUpdate && !now.Before(c.NotifiedAt.Add(b.pol.Cooldown)) {
			c.PendingUpdate = false
			b.notify(f, notify.KindUpdate, now, nil)
		}
		if c.Status == StatusOpen && !c.Escalated && !c.EscalateAt.IsZero() && !now.Before(c.EscalateAt) && len(c.Escalate) > 0 {
			c.Escalated = true
			b.event(f, now, Event{Kind: EventEscalated, Actor: ActorSystem, Detail: fmt.Sprintf("not acknowledged by %s", c.EscalateAt.UTC().Format(time.RFC3339))})
			b.notify(f, notify.KindEscalation, now, c.Escalate)
		}
	}
	for _, f := range due {
		// Popped facts left their heap entry; the changed ones are
		// reindexed by take, this catches one the wall clock called due
		// but the monotonic one did not.
		b.reindex(f)
	}
	return b.take()
}

// timerAt returns when Tick next has work for c, and false when never: the
// end of a snooze (which holds every other timer), else the earlier of a
// held update's cooldown end and an unacknowledged case's escalation.
// Tick acts on c at now exactly when ok and now is not before at.
func (b *Book) timerAt(c *Case) (at time.Time, ok bool) {
	if !c.Visible() || c.Status == StatusResolved {
		return time.Time{}, false
	}
	if !c.SnoozedUntil.IsZero() {
		return c.SnoozedUntil, true
	}
	if c.PendingUpdate {
		at, ok = c.NotifiedAt.Add(b.pol.Cooldown), true
	}
	if c.Status == StatusOpen && !c.Escalated && !c.EscalateAt.IsZero() && len(c.Escalate) > 0 && (!ok || c.EscalateAt.Before(at)) {
		at, ok = c.EscalateAt, true
	}
	return at, ok
}

// reindex brings f's status count and timer entry up to date with f.c.
// Each change of the timer time bumps tgen, so the entry it had before is
// skipped when it surfaces (lazy deletion).
func (b *Book) reindex(f *fact) {
	st := ""
	if f.c.Visible() {
		st = f.c.Status
	}
	if st != f.counted {
		if f.counted != "" {
			if b.counts[f.counted]--; b.counts[f.counted] <= 0 {
				delete(b.counts, f.counted)
			}
		}
		if st != "" {
			b.counts[st]++
		}
		f.counted = st
	}
	at, ok := b.timerAt(&f.c)
	// Wall clock only: journaled times have no monotonic reading, and the
	// heap needs one consistent order.
	at = at.Round(0)
	if ok == f.queued && (!ok || at.Equal(f.due)) {
		return
	}
	f.tgen++
	if f.queued {
		b.live--
	}
	f.due, f.queued = at, ok
	if !ok {
		return
	}
	b.live++
	heap.Push(&b.timers, timerEntry{at: at, f: f, gen: f.tgen})
	if len(b.timers) > 2*b.live+1024 {
		// Mostly stale entries (acknowledged, resolved, rescheduled):
		// rebuild so the heap stays proportional to live timers.
		live := b.timers[:0]
		for _, e := range b.timers {
			if e.live() {
				live = append(live, e)
			}
		}
		clear(b.timers[len(live):])
		b.timers = live
		heap.Init(&b.timers)
	}
}

// popDue removes and returns the facts whose timer is due at now.
func (b *Book) popDue(now time.Time) []*fact {
	now = now.Round(0)
	var out []*fact
	for len(b.timers) > 0 && !b.timers[0].at.After(now) {
		e := heap.Pop(&b.timers).(timerEntry)
		if !e.live() {
			continue
		}
		e.f.queued = false
		b.live--
		out = append(out, e.f)
	}
	return out
}

// NextTimer returns the earliest time Tick has work to do, or zero.
func (b *Book) NextTimer() time.Time {
	for len(b.timers) > 0 {
		if e := b.timers[0]; e.live() {
			if e.at.IsZero() {
				// Due since the zero time (a held update with a zero
				// cooldown and no notification yet): any past time does.
				return e.at.Add(1)
			}
			return e.at
		}
		heap.Pop(&b.timers)
	}
	return time.Time{}
}

// timerEntry is a case timer in Book.timers.
type timerEntry struct {
	at  time.Time
	f   *fact
	gen uint64
}

// live reports whether e is its fact's current timer.
func (e timerEntry) live() bool { return e.f.queued && e.gen == e.f.tgen }

// timerHeap orders timer entries by time (container/heap).
type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = timerEntry{}
	*h = old[:len(old)-1]
	return e
}

// Record adds a delivery outcome (delivered, dead-lettered, dropped) to a
// case's history.
func (b *Book) Record(factID string, e Event) Effects {
	if f := b.facts[factID]; f != nil && f.c.ID == e.CaseID {
		b.event(f, e.Time, e)
	} else {
		// The case moved on (resolved and replaced): keep the event for the
		// store all the same.
		b.eff.Events = append(b.eff.Events, e)
	}
	return b.take()
}

// postTime is when the post was published; a clock far ahead of ours is
// not trusted with the velocity window.
func postTime(a *schema.Alert, now time.Time) time.Time {
	t := a.Published
	if t.IsZero() {
		t = a.Detected
	}
	if t.IsZero() || t.After(now.Add(time.Hour)) {
		t = now
	}
	return t.UTC()
}

// authorKey identifies an author for distinct counts; without one, the
// source stands in, then the post itself (an anonymous post is its own
// author rather than merging all anonymous posts into one).
func authorKey(a *schema.Alert) string {
	switch {
	case a.Author != "":
		return a.Platform + "\x00" + a.Author
	case a.Source != "":
		return "src\x00" + a.Source
	}
	return "post\x00" + a.PostID
}

func addUnique(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	list = append(list, v)
	slices.Sort(list)
	return list
}

func (b *Book) match(a *schema.Alert, now time.Time) {
	if a.Key == "" || a.FactID == "" || !b.pol.Qualifies(*a) {
		return
	}
	f := b.get(a.FactID)
	if _, dup := f.seen[a.Key]; dup {
		return
	}
	f.seen[a.Key] = struct{}{}
	f.newSeen = append(f.newSeen, a.Key)
	b.mark(f)
	c := &f.c
	if c.ID == "" || c.Status == StatusResolved {
		b.begin(f, a, now)
	}
	t := postTime(a, now)
	ak := authorKey(a)
	// Velocity window over post times: hits within Window of the newest,
	// kept sorted so pruning takes from the front (posts mostly arrive in
	// order, so insertion is usually an append).
	i := sort.Search(len(f.window), func(i int) bool { return f.window[i].T.After(t) })
	f.window = slices.Insert(f.window, i, Hit{T: t, Author: ak})
	f.winAuth[ak]++
	cut := f.window[len(f.window)-1].T.Add(-b.pol.Window)
	drop := 0
	for drop < len(f.window) && !f.window[drop].T.After(cut) {
		h := f.window[drop].Author
		if f.winAuth[h]--; f.winAuth[h] == 0 {
			delete(f.winAuth, h)
		}
		drop++
	}
	// Bound the window (and the journal record carrying it): beyond
	// MaxWindow posts an hour the rate saturates, far above any severity
	// threshold.
	for len(f.window)-drop > MaxWindow {
		h := f.window[drop].Author
		if f.winAuth[h]--; f.winAuth[h] == 0 {
			delete(f.winAuth, h)
		}
		drop++
	}
	f.window = slices.Delete(f.window, 0, drop)
	if _, ok := f.authors[ak]; !ok {
		f.authors[ak] = struct{}{}
		f.newAuthors = append(f.newAuthors, ak)
	}

	c.Claim, c.Verdict = a.Claim, a.Verdict
	if a.FactURL != "" {
		c.FactURL = a.FactURL
	}
	c.Posts++
	c.Authors = len(f.authors)
	c.Platforms = addUnique(c.Platforms, a.Platform)
	c.Langs = addUnique(c.Langs, a.Lang)
	if c.FirstSeen.IsZero() || t.Before(c.FirstSeen) {
		c.FirstSeen = t
	}
	if t.After(c.LastSeen) {
		c.LastSeen = t
	}
	c.Rate = len(f.window)
	c.PeakRate = max(c.PeakRate, c.Rate)
	c.Updated = now
	b.sample(c, a, t)
	v := policy.Velocity{Posts: c.Rate, Authors: len(f.winAuth), TotalAuthors: c.Authors}
	sev := b.pol.SeverityOf(v)
	raised := policy.SeverityRank(sev) > policy.SeverityRank(c.Severity)
	if raised {
		if c.Visible() {
			b.event(f, now, Event{Kind: EventSeverity, Actor: ActorSystem, Detail: c.Severity + " → " + sev})
		}
		c.Severity = sev
	}

	switch {
	case c.Status == StatusWatching:
		if b.pol.Opens(c.FactID, v) {
			c.Status, c.Opened = StatusOpen, now
			b.event(f, now, Event{Kind: EventOpened, Actor: ActorSystem,
				Detail: fmt.Sprintf("%d posts by %d authors within %s", v.Posts, v.Authors, b.pol.Window)})
			b.notify(f, notify.KindOpened, now, nil)
		}
	case b.pol.Renotify(c.NotifiedRate, c.Rate) || raised:
		if c.Snoozed(now) || now.Before(c.NotifiedAt.Add(b.pol.Cooldown)) {
			c.PendingUpdate = true
		} else {
			b.notify(f, notify.KindUpdate, now, nil)
		}
	}
}

// begin starts a fact's next case generation, in watching state.
func (b *Book) begin(f *fact, a *schema.Alert, now time.Time) {
	if f.c.Visible() {
		// The previous case's last state (resolved, its final events) goes
		// out before the fact moves on to the next case.
		c := f.deltaCase()
		b.eff.Deltas = append(b.eff.Deltas, Delta{FactID: a.FactID, Case: c, Window: slices.Clone(f.window),
			Seen: f.newSeen, Authors: f.newAuthors, ResetAuthors: f.reset, Events: f.newEvents})
		f.newSeen, f.newAuthors, f.newEvents, f.reset = nil, nil, nil, false
	}
	gen := f.c.Generation + 1
	var tags []string
	if b.tags != nil {
		tags = slices.Clone(b.tags(a.FactID))
	}
	f.c = Case{ID: ID(a.FactID, gen), FactID: a.FactID, Generation: gen, Status: StatusWatching,
		Severity: policy.SeverityLow, Claim: a.Claim, Verdict: a.Verdict, FactURL: a.FactURL, Tags: tags, Updated: now}
	// Posts before a resolution do not count toward the next case.
	f.window, f.winAuth = nil, map[string]int{}
	f.authors = map[string]struct{}{}
	f.newAuthors = nil
	f.reset = true
}

// sample keeps the highest-scoring posts, one per author.
func (b *Book) sample(c *Case, a *schema.Alert, t time.Time) {
	if b.pol.Samples == 0 {
		return
	}
	s := notify.Sample{PostID: a.PostID, URL: a.PostURL, Author: a.Author, Platform: a.Platform, Lang: a.Lang,
		Title: notify.Clip(a.PostTitle, 300), Text: notify.Clip(a.PostText, 500), Score: a.Score, Published: t}
	for i, x := range c.Samples {
		if x.Author != "" && x.Author == s.Author && x.Platform == s.Platform {
			if s.Score > x.Score {
				c.Samples[i] = s
			}
			return
		}
	}
	if len(c.Samples) < b.pol.Samples {
		c.Samples = append(c.Samples, s)
	} else {
		low := 0
		for i, x := range c.Samples {
			if x.Score < c.Samples[low].Score {
				low = i
			}
		}
		if s.Score <= c.Samples[low].Score {
			return
		}
		c.Samples[low] = s
	}
	sort.SliceStable(c.Samples, func(i, j int) bool { return c.Samples[i].Score > c.Samples[j].Score })
}

func (b *Book) event(f *fact, now time.Time, e Event) {
	e.CaseID, e.FactID = f.c.ID, f.c.FactID
	if e.Time.IsZero() {
		e.Time = now
	}
	f.c.History = capHistory(append(f.c.History, e))
	f.newEvents = append(f.newEvents, e)
	b.mark(f)
	b.eff.Events = append(b.eff.Events, e)
}

func capHistory(h []Event) []Event {
	if n := len(h) - MaxHistory; n > 0 {
		h = slices.Delete(h, 0, n)
	}
	return h
}

// notify queues the case's next notification to its routed channels (or
// to channels, for escalation).
func (b *Book) notify(f *fact, kind string, now time.Time, channels []string) {
	c := &f.c
	target := policy.Resolve(b.routes, c.Severity, c.Langs, c.Tags, b.pol.EscalateAfter)
	if channels == nil {
		channels = target.Channels
	}
	if kind == notify.KindOpened {
		c.Escalate = target.Escalate
		if target.EscalateAfter > 0 {
			c.EscalateAt = now.Add(target.EscalateAfter)
		}
	}
	c.NotifySeq++
	c.NotifiedAt, c.NotifiedRate = now, max(c.Rate, 1)
	c.PendingUpdate = false
	b.mark(f)
	n := notify.Notification{Key: notify.NotificationKey(c.ID, c.NotifySeq), CaseID: c.ID, Seq: c.NotifySeq, Kind: kind,
		Severity: c.Severity, FactID: c.FactID, Claim: c.Claim, Verdict: c.Verdict, FactURL: c.FactURL,
		Tags: slices.Clone(c.Tags), Posts: c.Posts, Authors: c.Authors, Rate: c.Rate, Window: b.pol.Window.String(),
		Platforms: slices.Clone(c.Platforms), Langs: slices.Clone(c.Langs), FirstSeen: c.FirstSeen, LastSeen: c.LastSeen,
		Samples: slices.Clone(c.Samples), Created: now}
	if len(channels) == 0 {
		b.event(f, now, Event{Kind: EventUnrouted, Actor: ActorSystem, Key: n.Key, Detail: "no route matches severity " + c.Severity})
		return
	}
	for _, ch := range channels {
		b.event(f, now, Event{Kind: EventNotified, Actor: ActorSystem, Key: n.Key, Channel: ch, Detail: kind})
	}
	b.eff.Notify = append(b.eff.Notify, Outgoing{N: n, Channels: slices.Clone(channels)})
}

func (b *Book) command(a *schema.Alert, now time.Time) {
	cmd := a.Command
	if cmd.ID == "" || a.FactID == "" {
		return
	}
	f := b.get(a.FactID)
	if _, dup := f.seen["cmd\x00"+cmd.ID]; dup {
		return
	}
	f.seen["cmd\x00"+cmd.ID] = struct{}{}
	f.newSeen = append(f.newSeen, "cmd\x00"+cmd.ID)
	b.mark(f)
	at := cmd.Time
	if at.IsZero() {
		at = now
	}
	actor := cmd.Actor
	if actor == "" {
		actor = "unknown"
	}
	c := &f.c
	ignore := func(why string) {
		e := Event{CaseID: cmd.CaseID, FactID: a.FactID, Kind: EventCommandIgnored, Actor: actor, Time: at, Detail: cmd.Kind + ": " + why}
		if c.Visible() && (cmd.CaseID == "" || cmd.CaseID == c.ID) {
			b.event(f, now, e)
		} else {
			b.eff.Events = append(b.eff.Events, e)
		}
	}
	if !c.Visible() {
		ignore("the fact has no case")
		return
	}
	if cmd.CaseID != "" && cmd.CaseID != c.ID {
		ignore("case " + cmd.CaseID + " is not the fact's current case " + c.ID)
		return
	}
	ev := Event{Actor: actor, Time: at}
	switch cmd.Kind {
	case schema.CmdAcknowledge:
		if c.Status != StatusOpen {
			ignore("case is " + c.Status)
			return
		}
		c.Status, c.AckedBy, c.AckedAt = StatusAcknowledged, actor, at
		c.EscalateAt = time.Time{}
		ev.Kind = EventAcknowledged
	case schema.CmdSnooze:
		if c.Status == StatusResolved {
			ignore("case is resolved")
			return
		}
		if !cmd.Until.After(now) {
			ignore("snooze time " + cmd.Until.UTC().Format(time.RFC3339) + " is not in the future")
			return
		}
		c.SnoozedUntil, c.SnoozedBy = cmd.Until, actor
		if c.EscalateAt.Before(cmd.Until) && !c.EscalateAt.IsZero() {
			// Escalation waits for the snooze to end.
			c.EscalateAt = cmd.Until
		}
		ev.Kind, ev.Detail = EventSnoozed, "until "+cmd.Until.UTC().Format(time.RFC3339)
	case schema.CmdResolve:
		if c.Status == StatusResolved {
			ignore("case is already resolved")
			return
		}
		c.Status, c.ResolvedBy, c.ResolvedAt = StatusResolved, actor, at
		c.EscalateAt, c.SnoozedUntil, c.SnoozedBy, c.PendingUpdate = time.Time{}, time.Time{}, "", false
		ev.Kind, ev.Detail = EventResolved, cmd.Note
	case schema.CmdReopen:
		if c.Status != StatusResolved {
			ignore("case is " + c.Status)
			return
		}
		c.Status, c.ResolvedBy, c.ResolvedAt = StatusOpen, "", time.Time{}
		c.AckedBy, c.AckedAt, c.Escalated = "", time.Time{}, false
		if t := policy.Resolve(b.routes, c.Severity, c.Langs, c.Tags, b.pol.EscalateAfter); t.EscalateAfter > 0 {
			c.Escalate, c.EscalateAt = t.Escalate, now.Add(t.EscalateAfter)
		}
		ev.Kind, ev.Detail = EventReopened, cmd.Note
	case schema.CmdNote:
		if cmd.Note == "" {
			ignore("empty note")
			return
		}
		c.Notes = append(c.Notes, Note{Actor: actor, Text: notify.Clip(cmd.Note, 4000), Time: at})
		ev.Kind, ev.Detail = EventNote, notify.Clip(cmd.Note, 4000)
	case schema.CmdResponse:
		u, err := url.Parse(cmd.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			ignore("response URL must be http(s)")
			return
		}
		c.Responses = append(c.Responses, Response{Actor: actor, URL: cmd.URL, Note: notify.Clip(cmd.Note, 4000), Time: at})
		ev.Kind, ev.Detail = EventResponse, cmd.URL
	default:
		ignore("unknown command")
		return
	}
	c.Updated = now
	b.event(f, now, ev)
}
