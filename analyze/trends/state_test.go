package trends

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// TestAuthorSetMatchesMap drives authorSet and a Go map with the same
// operations: the set replaced such a map, and the MaxAuthors cap reads its
// size, so it must hold exactly the same entries after every prune. Tables
// are recycled through one pool to catch stale slots.
func TestAuthorSetMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var pool tablePool
	for round := range 20 {
		var s authorSet
		m := map[uint64]int64{}
		now := int64(round-10) * int64(time.Hour) // negative times too
		for range 5000 {
			now += rng.Int64N(int64(time.Minute))
			a := uint64(rng.IntN(300 + round*50))
			if round%5 == 0 {
				a <<= 40 // hashes that differ only in high bits
			}
			switch rng.IntN(10) {
			case 0:
				cut := now - rng.Int64N(int64(2*time.Hour))
				s.prune(&pool, cut)
				for k, v := range m {
					if v <= cut {
						delete(m, k)
					}
				}
			default:
				s.set(&pool, a, now)
				m[a] = now
			}
			if s.n != len(m) {
				t.Fatalf("round %d: set holds %d, map %d", round, s.n, len(m))
			}
			got, ok := s.get(a)
			want, wok := m[a]
			if ok != wok || got != want {
				t.Fatalf("round %d: get(%d) = %d, %v; map %d, %v", round, a, got, ok, want, wok)
			}
		}
		for k, v := range m {
			if got, ok := s.get(k); !ok || got != v {
				t.Fatalf("round %d: get(%d) = %d, %v; map %d", round, k, got, ok, v)
			}
		}
		s.release(&pool)
	}
	if pool.bytes > tablePoolBytes {
		t.Errorf("pool holds %d bytes, bound %d", pool.bytes, tablePoolBytes)
	}
}

// TestPendQueueOrder: whatever the arrival order, events come out in
// (time, post id) order and only once the watermark has passed them.
func TestPendQueueOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var q pendQueue
	var all []pend
	clock, wm := int64(0), int64(-1)
	var out []pend
	for i := range 20000 {
		clock += rng.Int64N(3)
		at := clock
		if rng.IntN(4) == 0 {
			at -= rng.Int64N(50) // late
		}
		p := pend{t: at, id: fmt.Sprint(rng.IntN(100))}
		if p.t < wm {
			continue // the detector never queues events the watermark has passed
		}
		q.push(p)
		all = append(all, p)
		if i%7 == 0 {
			wm = max(wm, clock-rng.Int64N(40)) // as the detector's, it never goes back
			for {
				p, ok := q.popBefore(wm)
				if !ok {
					break
				}
				if p.t >= wm {
					t.Fatalf("popped %d at watermark %d", p.t, wm)
				}
				out = append(out, p)
			}
		}
	}
	for {
		p, ok := q.popBefore(1 << 62)
		if !ok {
			break
		}
		out = append(out, p)
	}
	if len(out) != len(all) || q.len() != 0 {
		t.Fatalf("popped %d of %d, %d left", len(out), len(all), q.len())
	}
	for i := 1; i < len(out); i++ {
		if out[i].before(&out[i-1]) {
			t.Fatalf("out of order at %d: %+v after %+v", i, out[i], out[i-1])
		}
	}
}

// TestPipelineAfterExpiry: the pipeline keeps each text's detector states,
// which the detector drops when a key idles out (or is evicted); a text
// that comes back must then count afresh, exactly as through Observe.
func TestPipelineAfterExpiry(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Warmup, cfg.IdleTTL, cfg.MaxTopics = 10*time.Minute, 20*time.Minute, 8
	texts := []string{"Breaking: bridge collapse in Da Nang #danang", "Fuel price rises again in Hanoi #fuel",
		"Storm Yagi makes landfall near Hai Phong #yagi"}
	var posts []schema.Post
	at := t0
	for burst := range 12 {
		for i := range 15 {
			at = at.Add(3 * time.Second)
			posts = append(posts, schema.Post{ID: fmt.Sprintf("p%02d%02d", burst, i), Author: fmt.Sprint("u", i),
				Text: texts[burst%len(texts)], Published: at})
		}
		at = at.Add(25 * time.Minute) // past IdleTTL: every key expires
	}
	p := NewPipeline(cfg)
	var viaPipeline []Flag
	for _, post := range posts {
		viaPipeline = append(viaPipeline, p.Post(post, nil)...)
	}
	viaPipeline = append(viaPipeline, p.Flush()...)
	d := NewDetector(cfg)
	var direct []Flag
	for _, post := range posts {
		for _, k := range AnalyzeKeys(post, nil) {
			direct = append(direct, d.Observe(Event{Time: post.Published, Topic: k, PostID: post.ID, Author: post.Author})...)
		}
	}
	direct = append(direct, d.Flush()...)
	// Each burst of a text is a new life of its keys: flagged every time.
	if len(direct) < 12 || !reflect.DeepEqual(sortFlags(direct), sortFlags(viaPipeline)) {
		t.Errorf("pipeline %d flags, detector %d", len(viaPipeline), len(direct))
	}
	if p.Detector().Stats() != d.Stats() {
		t.Errorf("stats: pipeline %+v, detector %+v", p.Detector().Stats(), d.Stats())
	}
}
