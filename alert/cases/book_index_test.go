package cases

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

// scanDue is the condition Tick used to test on every fact before the
// timer heap: the reference the heap must agree with.
func scanDue(pol policy.Config, c *Case, now time.Time) bool {
	if !c.Visible() || c.Status == StatusResolved {
		return false
	}
	if !c.SnoozedUntil.IsZero() && !c.Snoozed(now) {
		return true
	}
	if c.Snoozed(now) {
		return false
	}
	if c.PendingUpdate && !now.Before(c.NotifiedAt.Add(pol.Cooldown)) {
		return true
	}
	return c.Status == StatusOpen && !c.Escalated && !c.EscalateAt.IsZero() && !now.Before(c.EscalateAt) && len(c.Escalate) > 0
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// checkIndex compares the book's incremental indexes with a scan of every
// fact: status counts, each fact's heap entry, and NextTimer as the first
// instant the scan finds a case due.
func checkIndex(t testing.TB, b *Book) {
	t.Helper()
	want := map[string]int{StatusOpen: 0, StatusAcknowledged: 0, StatusResolved: 0}
	for _, f := range b.facts {
		if f.c.Visible() {
			want[f.c.Status]++
		}
	}
	if got := b.StatusCounts(); !maps.Equal(got, want) {
		t.Fatalf("status counts %v, scan %v", got, want)
	}
	queued := 0
	for id, f := range b.facts {
		if !f.queued {
			if scanDue(b.pol, &f.c, farFuture) {
				t.Fatalf("%s: no timer queued, but the scan finds it due: %+v", id, f.c)
			}
			continue
		}
		queued++
		if !scanDue(b.pol, &f.c, f.due) || scanDue(b.pol, &f.c, f.due.Add(-time.Nanosecond)) {
			t.Fatalf("%s: timer queued at %v, not when the scan first finds it due: %+v", id, f.due, f.c)
		}
	}
	live := 0
	for _, e := range b.timers {
		if e.live() {
			live++
			if !e.at.Equal(e.f.due) {
				t.Fatalf("%s: live entry at %v, fact due %v", e.f.id, e.at, e.f.due)
			}
		}
	}
	if live != queued || b.live != queued {
		t.Fatalf("%d live heap entries, %d counted, %d facts queued", live, b.live, queued)
	}
	dueAt := func(at time.Time) (n int) {
		for _, f := range b.facts {
			if scanDue(b.pol, &f.c, at) {
				n++
			}
		}
		return n
	}
	next := b.NextTimer()
	switch {
	case next.IsZero():
		if n := dueAt(farFuture); n > 0 {
			t.Fatalf("NextTimer is zero, but %d cases have a timer", n)
		}
	case dueAt(next) == 0:
		t.Fatalf("nothing due at NextTimer %v", next)
	case dueAt(next.Add(-time.Nanosecond)) > 0:
		t.Fatalf("a case is due before NextTimer %v", next)
	}
}

// TestTimerIndex walks cases through the transitions that move, cancel or
// supersede a timer and checks what Tick does and what NextTimer says.
func TestTimerIndex(t *testing.T) {
	type step struct {
		at   time.Duration  // since t0
		do   []schema.Alert // applied at t0+at; none: Tick at t0+at
		want []string       // notifications produced (keys())
		next time.Duration  // NextTimer afterwards, since t0; -1: none
	}
	snooze := func(id string, until time.Duration) schema.Alert {
		a := cmd("f", id, schema.CmdSnooze, t0)
		a.Command.Until = t0.Add(until)
		return a
	}
	open := []schema.Alert{match("f", "1", "a", .9, t0)}
	id1, id2 := ID("f", 1), ID("f", 2)
	f := func(name string, pol func(*policy.Config), steps ...step) {
		t.Helper()
		b := newBook(pol)
		var deltas []Delta
		for i, s := range steps {
			now := t0.Add(s.at)
			var eff Effects
			if s.do != nil {
				eff = b.Apply(s.do, now)
			} else {
				eff = b.Tick(now)
			}
			deltas = append(deltas, eff.Deltas...)
			if got := keys(eff.Notify); !slices.Equal(got, s.want) {
				t.Errorf("%s: step %d: notified %v, want %v", name, i, got, s.want)
			}
			want := time.Time{}
			if s.next >= 0 {
				want = t0.Add(s.next)
			}
			if got := b.NextTimer(); !got.Equal(want) {
				t.Errorf("%s: step %d: NextTimer %v, want %v", name, i, got, want)
			}
			checkIndex(t, b)
		}
		// The journal's deltas and a snapshot rebuild the same timers.
		for _, src := range [][]Delta{deltas, b.Snapshot()} {
			r := newBook(pol)
			for _, d := range src {
				r.Replay(d)
			}
			checkIndex(t, r)
			if !r.NextTimer().Equal(b.NextTimer()) || !maps.Equal(r.StatusCounts(), b.StatusCounts()) {
				t.Errorf("%s: replayed book: NextTimer %v, counts %v; want %v, %v", name, r.NextTimer(), r.StatusCounts(), b.NextTimer(), b.StatusCounts())
			}
		}
	}
	esc := func(id string, seq int) string { return fmt.Sprintf("escalation:%s-%d>[duty]", id, seq) }
	upd := func(id string, seq int) string { return fmt.Sprintf("update:%s-%d>[desk]", id, seq) }
	opened := func(id string) string { return "opened:" + id + "-1>[desk]" }

	f("escalation when unacknowledged", nil,
		step{0, open, []string{opened(id1)}, 30 * time.Minute},
		step{29 * time.Minute, nil, nil, 30 * time.Minute},
		step{30 * time.Minute, nil, []string{esc(id1, 2)}, -1},
		step{2 * time.Hour, nil, nil, -1})
	f("acknowledged: the escalation entry is ignored", nil,
		step{0, open, []string{opened(id1)}, 30 * time.Minute},
		step{time.Minute, []schema.Alert{cmd("f", "ack", schema.CmdAcknowledge, t0)}, nil, -1},
		step{31 * time.Minute, nil, nil, -1})
	f("snooze extended", nil,
		step{0, open, []string{opened(id1)}, 30 * time.Minute},
		step{time.Minute, []schema.Alert{snooze("s1", 40*time.Minute)}, nil, 40 * time.Minute},
		step{2 * time.Minute, []schema.Alert{snooze("s2", 90*time.Minute)}, nil, 90 * time.Minute},
		step{40 * time.Minute, nil, nil, 90 * time.Minute},
		step{90 * time.Minute, nil, []string{esc(id1, 2)}, -1})
	f("snooze shortened: escalation keeps the later time", nil,
		step{0, open, []string{opened(id1)}, 30 * time.Minute},
		step{time.Minute, []schema.Alert{snooze("s1", 90*time.Minute)}, nil, 90 * time.Minute},
		step{2 * time.Minute, []schema.Alert{snooze("s2", 20*time.Minute)}, nil, 20 * time.Minute},
		step{20 * time.Minute, nil, nil, 90 * time.Minute},
		step{90 * time.Minute, nil, []string{esc(id1, 2)}, -1})
	f("resolved then a new generation: the old entry is ignored", nil,
		step{0, open, []string{opened(id1)}, 30 * time.Minute},
		step{5 * time.Minute, []schema.Alert{cmd("f", "r", schema.CmdResolve, t0)}, nil, -1},
		step{10 * time.Minute, []schema.Alert{match("f", "2", "b", .9, t0.Add(10*time.Minute))}, []string{opened(id2)}, 40 * time.Minute},
		step{30 * time.Minute, nil, nil, 40 * time.Minute},
		step{40 * time.Minute, nil, []string{esc(id2, 2)}, -1})
	f("reopened: escalation restarts", nil,
		step{0, open, []string{opened(id1)}, 30 * time.Minute},
		step{5 * time.Minute, []schema.Alert{cmd("f", "r", schema.CmdResolve, t0)}, nil, -1},
		step{50 * time.Minute, []schema.Alert{cmd("f", "o", schema.CmdReopen, t0)}, nil, 80 * time.Minute},
		step{80 * time.Minute, nil, []string{esc(id1, 2)}, -1})
	// Cooldown 10m: posts at 5m double the rate, the update waits for 10m;
	// the escalation at 30m follows.
	jump := []schema.Alert{match("f", "2", "b", .9, t0), match("f", "3", "c", .9, t0)}
	f("held update after the cooldown", nil,
		step{0, open, []string{opened(id1)}, 30 * time.Minute},
		step{5 * time.Minute, jump, nil, 10 * time.Minute},
		step{10 * time.Minute, nil, []string{upd(id1, 2)}, 30 * time.Minute},
		step{30 * time.Minute, nil, []string{esc(id1, 3)}, -1})
	// A snooze holds every timer: NextTimer is its end, not the earlier
	// cooldown end Tick could do nothing about.
	f("held update inside a snooze", nil,
		step{0, open, []string{opened(id1)}, 30 * time.Minute},
		step{time.Minute, []schema.Alert{snooze("s", time.Hour)}, nil, time.Hour},
		step{5 * time.Minute, jump, nil, time.Hour},
		step{10 * time.Minute, nil, nil, time.Hour},
		step{time.Hour, nil, []string{upd(id1, 2), esc(id1, 3)}, -1})
}

// TestIndexMatchesScan drives random matches, commands, deliveries and
// ticks through a book, and a second one rebuilt from its deltas as the
// journal would: after every step their indexes agree with a scan of every
// fact, and a book replayed from a snapshot ticks exactly like the
// original.
func TestIndexMatchesScan(t *testing.T) {
	kinds := []string{schema.CmdAcknowledge, schema.CmdSnooze, schema.CmdResolve, schema.CmdReopen, schema.CmdNote}
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 1))
		cooldown, minPosts := time.Duration(rng.IntN(3))*5*time.Minute, 1+rng.IntN(3)
		pol := func(p *policy.Config) { p.Cooldown, p.MinPosts = cooldown, minPosts }
		b := newBook(pol)
		r := newBook(pol)
		now := t0
		for step := range 1500 {
			var eff Effects
			fact := fmt.Sprint("f", rng.IntN(20))
			switch op := rng.IntN(10); {
			case op < 4:
				eff = b.Apply([]schema.Alert{match(fact, fmt.Sprint(step), fmt.Sprint("u", rng.IntN(8)), .9, now)}, now)
			case op < 6:
				c := cmd(fact, fmt.Sprint("c", step), kinds[rng.IntN(len(kinds))], now)
				c.Command.Until, c.Command.Note = now.Add(time.Duration(rng.IntN(90)-10)*time.Minute), "n"
				eff = b.Apply([]schema.Alert{c}, now)
			case op < 7:
				c, _ := b.Case(fact)
				eff = b.Record(fact, Event{CaseID: c.ID, FactID: fact, Kind: EventDelivered, Actor: ActorSystem, Time: now})
			default:
				now = now.Add(time.Duration(rng.IntN(8)) * time.Minute)
				eff = b.Tick(now)
			}
			for _, d := range eff.Deltas {
				r.Replay(d)
			}
			checkIndex(t, b)
			checkIndex(t, r)
			if !r.NextTimer().Equal(b.NextTimer()) {
				t.Fatalf("seed %d step %d: replayed NextTimer %v, want %v", seed, step, r.NextTimer(), b.NextTimer())
			}
		}
		s := newBook(pol)
		for _, d := range b.Snapshot() {
			s.Replay(d)
		}
		for range 20 {
			now = now.Add(time.Duration(rng.IntN(20)) * time.Minute)
			x, _ := json.Marshal(b.Tick(now))
			y, _ := json.Marshal(s.Tick(now))
			if string(x) != string(y) {
				t.Fatalf("seed %d: snapshot book ticks\n%s\nwant\n%s", seed, y, x)
			}
		}
	}
}

// TestTimerHeapStaysSmall: timers cancelled by acknowledgement leave
// stale heap entries; the heap is rebuilt before they outnumber the live
// ones by much, so a churn of cases cannot grow it without bound.
func TestTimerHeapStaysSmall(t *testing.T) {
	b := newBook(nil)
	for round := range 5 {
		var open, ack []schema.Alert
		for i := range 1000 {
			f := fmt.Sprint("f", round, "-", i)
			open = append(open, match(f, "1", "a", .9, t0))
			ack = append(ack, cmd(f, "ack", schema.CmdAcknowledge, t0))
		}
		b.Apply(open, t0)
		b.Apply(ack, t0)
		checkIndex(t, b)
	}
	if b.live != 0 || len(b.timers) > 2*b.live+1024 {
		t.Fatalf("%d heap entries for %d live timers", len(b.timers), b.live)
	}
	if !b.NextTimer().IsZero() {
		t.Fatalf("NextTimer %v after every case was acknowledged", b.NextTimer())
	}
}
