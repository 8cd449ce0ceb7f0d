package worker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

// scanReady is how the loop found deliveries before sched: a pass over
// every pending one. The index must give the same answers.
func scanReady(pending map[string]*delivery, now time.Time) (ready []*delivery, next time.Time, busy map[string]int) {
	type stream struct{ c, ch string }
	first := map[stream]int{}
	busy = map[string]int{}
	for _, d := range pending {
		k := stream{d.N.CaseID, d.Channel}
		if s, ok := first[k]; !ok || d.N.Seq < s {
			first[k] = d.N.Seq
		}
		if d.inFlight {
			busy[d.Channel]++
		}
	}
	for _, d := range pending {
		if d.inFlight || (d.Dead == "" && d.N.Seq != first[stream{d.N.CaseID, d.Channel}]) {
			continue
		}
		if d.Next.After(now) {
			if next.IsZero() || d.Next.Before(next) {
				next = d.Next
			}
			continue
		}
		ready = append(ready, d)
	}
	return ready, next, busy
}

// scanPick is the selection due made from scanReady: per channel the
// oldest that fit its free slots, then the oldest n of those.
func scanPick(pending map[string]*delivery, now time.Time, n, perChannel int) []string {
	ready, _, busy := scanReady(pending, now)
	slices.SortFunc(ready, func(a, b *delivery) int {
		if older(a, b) {
			return -1
		}
		return 1
	})
	taken := map[string]int{}
	var out []string
	for _, d := range ready {
		if len(out) == n {
			break
		}
		if taken[d.Channel] < perChannel-busy[d.Channel] {
			taken[d.Channel]++
			out = append(out, d.ID)
		}
	}
	return out
}

func ids(ds []*delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	slices.Sort(out)
	return out
}

// TestSchedMatchesScan drives random queueing, sends, retries, dead
// letters, completions and clock moves (backwards too) through sched and
// checks every answer against a scan of all pending deliveries.
func TestSchedMatchesScan(t *testing.T) {
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 3))
		s := newSched()
		pending := map[string]*delivery{}
		var flying []*delivery
		now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		perChannel := 1 + rng.IntN(3)
		for step := range 2000 {
			switch op := rng.IntN(10); {
			case op < 3:
				// Queue: sequences mostly rising per case, sometimes below
				// what is pending (a journal's order after a restart).
				c := fmt.Sprint("c", rng.IntN(6))
				ch := []string{"a", "b", "c"}[rng.IntN(3)]
				seq := 1 + rng.IntN(6)
				n := notify.Notification{Key: notify.NotificationKey(c, seq), CaseID: c, Seq: seq, Created: now.Add(-time.Duration(rng.IntN(60)) * time.Second)}
				d := &delivery{ID: n.Key + "/" + ch, Channel: ch, N: n, Next: now.Add(time.Duration(rng.IntN(20)-10) * time.Second)}
				if rng.IntN(15) == 0 {
					d.Dead = "restored dead"
				}
				if pending[d.ID] == nil {
					pending[d.ID] = d
					s.add(d)
				}
			case op < 5:
				k := rng.IntN(3)
				want := scanPick(pending, now, k, perChannel)
				s.promote(now)
				got := s.take(k, perChannel)
				var gotIDs []string
				for _, d := range got {
					gotIDs = append(gotIDs, d.ID)
				}
				if !slices.Equal(gotIDs, want) {
					t.Fatalf("seed %d step %d: took %v, scan picks %v", seed, step, gotIDs, want)
				}
				flying = append(flying, got...)
			case op < 8 && len(flying) > 0:
				i := rng.IntN(len(flying))
				d := flying[i]
				flying = slices.Delete(flying, i, i+1)
				switch rng.IntN(4) {
				case 0: // retry later
					d.Next = now.Add(time.Duration(rng.IntN(10)) * time.Second)
					s.setInFlight(d, false)
				case 1: // dead-lettered
					d.Dead, d.Next = "deadline", now
					s.setInFlight(d, false)
				default: // delivered
					s.setInFlight(d, false)
					delete(pending, d.ID)
					s.remove(d)
				}
			default:
				d := time.Duration(rng.IntN(6)) * time.Second
				if rng.IntN(10) == 0 {
					d = -d
				}
				now = now.Add(d)
			}
			s.promote(now)
			var got []*delivery
			for _, h := range s.ready {
				got = append(got, h.items...)
			}
			ready, next, busy := scanReady(pending, now)
			if !slices.Equal(ids(got), ids(ready)) || !s.next().Equal(next) || !maps.Equal(s.busy, busy) || s.anyReady() != (len(ready) > 0) {
				t.Fatalf("seed %d step %d: ready %v next %v busy %v; scan %v %v %v", seed, step, ids(got), s.next(), s.busy, ids(ready), next, busy)
			}
		}
	}
}

// checkSched compares the engine's delivery index with a scan of its
// pending deliveries.
func checkSched(t *testing.T, e *Engine) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.opts.Now()
	e.sched.promote(now)
	var got []*delivery
	for _, h := range e.sched.ready {
		got = append(got, h.items...)
	}
	ready, next, busy := scanReady(e.pending, now)
	if !slices.Equal(ids(got), ids(ready)) || !e.sched.next().Equal(next) || !maps.Equal(e.sched.busy, busy) {
		t.Fatalf("index: ready %v next %v busy %v; scan %v %v %v", ids(got), e.sched.next(), e.sched.busy, ids(ready), next, busy)
	}
}

// TestEngineIndex drives the loop's steps by hand (sends that fail, are
// retried, dead-lettered or delivered, while cases are opened, updated and
// escalated) and restarts the engine on its state dir half way: the index
// agrees with the pending deliveries throughout, including the one New
// builds from the journal.
func TestEngineIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	dir := t.TempDir()
	opts := testOptions(dir, map[string]notify.Channel{"a": discard{}, "b": discard{}},
		[]policy.Route{{Name: "a", Channels: []string{"a", "b"}, Escalate: []string{"b"}, EscalateAfter: 3 * time.Minute}})
	opts.Store, opts.PerChannel = nil, 2
	opts.MinBackoff, opts.MaxBackoff, opts.Deadline = time.Second, 10*time.Second, 40*time.Second
	clk := newClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	opts.Now = clk.Now
	ctx := context.Background()
	e, err := New(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var flying []delivery
	sent := 0
	for step := range 600 {
		if step == 300 {
			// Restart with sends in flight: they are pending again.
			e.Close()
			if e, err = New(opts, nil); err != nil {
				t.Fatal(err)
			}
			flying = nil
			checkSched(t, e)
		}
		if rng.IntN(3) == 0 {
			var batch []schema.Alert
			for range 1 + rng.IntN(4) {
				batch = append(batch, alert(fmt.Sprint("f", rng.IntN(8)), fmt.Sprint(step, rng.IntN(1000)), fmt.Sprint("u", rng.IntN(5)), .9, schema.VerdictFalse, clk.Now()))
			}
			if err := e.Handle(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		clk.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		e.tick(ctx)
		got := e.due(rng.IntN(e.opts.Concurrency + 1 - len(flying)))
		sent += len(got)
		flying = append(flying, got...)
		rng.Shuffle(len(flying), func(i, j int) { flying[i], flying[j] = flying[j], flying[i] })
		k := rng.IntN(len(flying) + 1)
		for _, d := range flying[:k] {
			r := result{d: d}
			if d.Dead == "" && rng.IntN(3) == 0 {
				r.err = errors.New("503")
			}
			e.finish(ctx, r)
		}
		flying = slices.Delete(flying, 0, k)
		checkSched(t, e)
	}
	e.Close()
	if sent < 100 {
		t.Fatalf("only %d sends: the test does not exercise the index", sent)
	}
}
