package worker

import (
	"container/heap"
	"slices"
	"strings"
	"time"
)

// sched indexes the pending deliveries so the loop's questions (which may
// go now, when does the next one, how busy is each channel) cost what the
// answer holds, not a pass over every pending delivery: the loop asks
// them once per delivery, and a burst of thousands of cases made that
// quadratic.
//
// A delivery is eligible when it is not in flight and either dead (it only
// waits for the dead-letter sink) or holds the lowest sequence pending on
// its (case, channel) stream, so a reader never sees an update before the
// opening it updates. Every eligible delivery sits in exactly one heap:
// waiting (by Next) until its time comes, then its channel's ready heap
// (oldest first). Ineligible ones are in none.
type sched struct {
	streams map[streamKey][]*delivery // pending per stream, by sequence then id
	waiting delHeap
	ready   map[string]*delHeap // per channel
	busy    map[string]int      // sends in flight per channel
	last    time.Time           // latest promote time (wall clock)
}

type streamKey struct{ caseID, channel string }

func newSched() *sched {
	return &sched{streams: map[streamKey][]*delivery{}, waiting: delHeap{byNext: true}, ready: map[string]*delHeap{}, busy: map[string]int{}}
}

func keyOf(d *delivery) streamKey { return streamKey{d.N.CaseID, d.Channel} }

func bySeq(a, b *delivery) int {
	if a.N.Seq != b.N.Seq {
		return a.N.Seq - b.N.Seq
	}
	return strings.Compare(a.ID, b.ID)
}

// add indexes a delivery that just became pending.
func (s *sched) add(d *delivery) {
	k := keyOf(d)
	st := s.streams[k]
	oldMin := 0
	if len(st) > 0 {
		oldMin = st[0].N.Seq
	}
	i, _ := slices.BinarySearchFunc(st, d, bySeq)
	st = slices.Insert(st, i, d)
	s.streams[k] = st
	if d.inFlight {
		s.busy[d.Channel]++
	}
	if len(st) > 1 && d.N.Seq < oldMin {
		// The former heads are no longer first in their stream.
		for _, o := range st[1:] {
			if o.N.Seq != oldMin {
				break
			}
			s.update(o, st)
		}
	}
	s.update(d, st)
}

// remove unindexes a delivery that is no longer pending.
func (s *sched) remove(d *delivery) {
	k := keyOf(d)
	st := s.streams[k]
	i, found := slices.BinarySearchFunc(st, d, bySeq)
	if !found || st[i] != d {
		return
	}
	if d.inFlight {
		s.dec(d.Channel)
	}
	s.unqueue(d)
	st = slices.Delete(st, i, i+1)
	if len(st) == 0 {
		delete(s.streams, k)
		return
	}
	s.streams[k] = st
	if d.N.Seq < st[0].N.Seq {
		// The next sequence becomes the stream's head.
		for _, o := range st {
			if o.N.Seq != st[0].N.Seq {
				break
			}
			s.update(o, st)
		}
	}
}

// setInFlight marks d as being sent or back from a send.
func (s *sched) setInFlight(d *delivery, on bool) {
	if d.inFlight == on {
		return
	}
	d.inFlight = on
	if on {
		s.busy[d.Channel]++
	} else {
		s.dec(d.Channel)
	}
	s.update(d, s.streams[keyOf(d)])
}

func (s *sched) dec(ch string) {
	if s.busy[ch]--; s.busy[ch] <= 0 {
		delete(s.busy, ch)
	}
}

// update puts d in a heap or takes it out, by its eligibility. An eligible
// delivery already queued stays where it is: its Next only changes while
// it is in flight, out of every heap.
func (s *sched) update(d *delivery, st []*delivery) {
	eligible := !d.inFlight && (d.Dead != "" || (len(st) > 0 && d.N.Seq == st[0].N.Seq))
	switch {
	case eligible && d.heap == nil:
		heap.Push(&s.waiting, d)
	case !eligible && d.heap != nil:
		s.unqueue(d)
	}
}

func (s *sched) unqueue(d *delivery) {
	if d.heap != nil {
		heap.Remove(d.heap, d.hidx)
	}
}

// promote moves the eligible deliveries whose time has come at now to
// their channel's ready heap. A clock that went back returns the ready
// ones to waiting first, so "ready" always means Next is not after now.
func (s *sched) promote(now time.Time) {
	now = now.Round(0)
	if now.Before(s.last) {
		for _, h := range s.ready {
			for h.Len() > 0 {
				d := heap.Pop(h).(*delivery)
				heap.Push(&s.waiting, d)
			}
		}
	}
	s.last = now
	for s.waiting.Len() > 0 && !s.waiting.items[0].Next.Round(0).After(now) {
		d := heap.Pop(&s.waiting).(*delivery)
		h := s.ready[d.Channel]
		if h == nil {
			h = &delHeap{}
			s.ready[d.Channel] = h
		}
		heap.Push(h, d)
	}
}

// next returns the earliest future time an eligible delivery may go, or
// zero; call promote first.
func (s *sched) next() time.Time {
	if s.waiting.Len() == 0 {
		return time.Time{}
	}
	return s.waiting.items[0].Next
}

// anyReady reports whether a delivery may go; call promote first.
func (s *sched) anyReady() bool {
	for _, h := range s.ready {
		if h.Len() > 0 {
			return true
		}
	}
	return false
}

// take marks up to n ready deliveries in flight, oldest first, at most
// perChannel in flight per channel, and returns them; call promote first.
func (s *sched) take(n, perChannel int) []*delivery {
	if n <= 0 {
		return nil
	}
	// The oldest of each channel that has room, then the oldest n of
	// those: what a sort of every ready delivery would pick.
	var picks []*delivery
	for ch, h := range s.ready {
		free := min(perChannel-s.busy[ch], n)
		for ; free > 0 && h.Len() > 0; free-- {
			picks = append(picks, heap.Pop(h).(*delivery))
		}
	}
	slices.SortFunc(picks, func(a, b *delivery) int {
		if older(a, b) {
			return -1
		}
		if older(b, a) {
			return 1
		}
		return 0
	})
	out := picks[:min(n, len(picks))]
	for _, d := range picks[len(out):] {
		heap.Push(s.ready[d.Channel], d)
	}
	for _, d := range out {
		s.setInFlight(d, true)
	}
	return out
}

// delHeap is a heap of deliveries that records each one's position, so a
// delivery can leave it from anywhere: by Next (then id) for waiting, by
// age (older) for ready.
type delHeap struct {
	items  []*delivery
	byNext bool
}

func (h *delHeap) Len() int { return len(h.items) }
func (h *delHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if h.byNext {
		if c := a.Next.Round(0).Compare(b.Next.Round(0)); c != 0 {
			return c < 0
		}
		return a.ID < b.ID
	}
	return older(a, b)
}
func (h *delHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].hidx, h.items[j].hidx = i, j
}
func (h *delHeap) Push(x any) {
	d := x.(*delivery)
	d.heap, d.hidx = h, len(h.items)
	h.items = append(h.items, d)
}
func (h *delHeap) Pop() any {
	n := len(h.items) - 1
	d := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	d.heap, d.hidx = nil, -1
	return d
}
