package trends

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// roll closes the baseline buckets before bucket b: the current one with
// its count, the empty ones in between with zero.
func (d *Detector) roll(tp *topic, b int64) {
	if b <= tp.bucket {
		return
	}
	tp.ewma(tp.cur, d.alpha)
	tp.cur = 0
	gap := b - tp.bucket - 1
	tp.bucket = b
	// After ~40 half-lives of silence the baseline is zero to float
	// precision; skip the loop instead of walking a long gap bucket by bucket.
	if gap > 2000 {
		tp.mean, tp.vari = 0, 0
		return
	}
	tp.ewmaZeros(gap, d.alpha)
}

// ewma folds x into the exponentially weighted mean and variance (West's
// incremental form).
func (tp *topic) ewma(x, alpha float64) {
	diff := x - tp.mean
	incr := alpha * diff
	tp.mean += incr
	tp.vari = (1 - alpha) * (tp.vari + diff*incr)
}

// ewmaZeros is gap calls of ewma(0, alpha), the same operations in the
// same order (so the same bits), with the state in registers: long idle
// gaps between a sparse key's events made this loop a hot spot.
func (tp *topic) ewmaZeros(gap int64, alpha float64) {
	var x float64 // diff is x-mean as in ewma, not -mean: the two differ in a zero's sign
	mean, vari, keep := tp.mean, tp.vari, 1-alpha
	for range gap {
		diff := x - mean
		incr := alpha * diff
		mean += incr
		vari = keep * (vari + diff*incr)
	}
	tp.mean, tp.vari = mean, vari
}

// countAuthor reports whether author counts at t: once per AuthorWindow.
func (d *Detector) countAuthor(tp *topic, author uint64, t int64) bool {
	if tp.pruneAt == 0 {
		tp.pruneAt = 64
	}
	aw := int64(d.cfg.AuthorWindow)
	if last, ok := tp.authors.get(author); ok && t-last < aw {
		return false
	}
	if tp.authors.n >= tp.pruneAt {
		tp.authors.prune(&d.tables, t-aw)
		tp.pruneAt = max(64, 2*tp.authors.n)
	}
	if tp.authors.n >= d.cfg.MaxAuthors {
		// Too many voices to remember: count without de-duplication. A key
		// with thousands of authors an hour is trending anyway.
		return true
	}
	tp.authors.set(&d.tables, author, t)
	return true
}

// authorSet maps author hashes to the time each last counted: an
// open-addressing table with linear probing. It replaced a Go map, whose
// hashing, probing and full-map pruning were a fifth of `detect`; the
// author hashes are FNV-1a already, so one multiply spreads them.
type authorSet struct {
	slots []authorSlot // power-of-two length
	n     int          // authors held
}

// authorSlot is free when at is 0: times are stored with the sign bit
// flipped, so that only math.MinInt64 — the detector's "no time", never
// an event's — encodes to 0, and a cleared table is all free slots.
type authorSlot struct {
	author uint64
	at     uint64
}

func encTime(t int64) uint64  { return uint64(t) ^ 1<<63 }
func decTime(at uint64) int64 { return int64(at ^ 1<<63) }

func (s *authorSet) home(author uint64) int {
	return int((author * 0x9e3779b97f4a7c15) >> 32 & uint64(len(s.slots)-1))
}

func (s *authorSet) get(author uint64) (int64, bool) {
	if s.n == 0 {
		return 0, false
	}
	mask := len(s.slots) - 1
	for i := s.home(author); ; i = (i + 1) & mask {
		switch sl := &s.slots[i]; {
		case sl.at == 0:
			return 0, false
		case sl.author == author:
			return decTime(sl.at), true
		}
	}
}

func (s *authorSet) set(pool *tablePool, author uint64, t int64) {
	if (s.n+1)*4 > len(s.slots)*3 {
		s.rehash(pool, max(8, 2*len(s.slots)), math.MinInt64)
	}
	mask := len(s.slots) - 1
	for i := s.home(author); ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.at == 0 {
			*sl = authorSlot{author, encTime(t)}
			s.n++
			return
		}
		if sl.author == author {
			sl.at = encTime(t)
			return
		}
	}
}

// prune forgets the authors that last counted at or before cut.
func (s *authorSet) prune(pool *tablePool, cut int64) {
	enc, live := encTime(cut), 0
	for _, sl := range s.slots {
		if sl.at > enc {
			live++
		}
	}
	size := 8
	for live*4 > size*3 {
		size *= 2
	}
	s.rehash(pool, size, cut)
}

// rehash moves the entries later than cut to a table of size slots.
func (s *authorSet) rehash(pool *tablePool, size int, cut int64) {
	old, enc := s.slots, encTime(cut)
	s.slots, s.n = pool.get(size), 0
	mask := size - 1
	for _, sl := range old {
		if sl.at <= enc { // free slots too: enc >= 0
			continue
		}
		i := s.home(sl.author)
		for s.slots[i].at != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
		s.n++
	}
	pool.put(old)
}

// release gives the table back to the pool.
func (s *authorSet) release(pool *tablePool) {
	pool.put(s.slots)
	*s = authorSet{}
}

// tablePool recycles author tables: keys live and die by the tens of
// thousands (idle expiry), and allocating and zeroing their tables anew
// was a tenth of `detect`.
type tablePool struct {
	free  [32][][]authorSlot // by log2 of the length
	bytes int
}

const (
	tablePoolBytes = 8 << 20 // bound on the memory the pool holds
	slotBytes      = 16      // size of an authorSlot
)

func (p *tablePool) get(size int) []authorSlot {
	c := bits.Len(uint(size)) - 1
	if n := len(p.free[c]); n > 0 {
		t := p.free[c][n-1]
		p.free[c][n-1] = nil
		p.free[c] = p.free[c][:n-1]
		p.bytes -= size * slotBytes
		clear(t)
		return t
	}
	return make([]authorSlot, size)
}

func (p *tablePool) put(t []authorSlot) {
	b := len(t) * slotBytes
	if len(t) == 0 || p.bytes+b > tablePoolBytes {
		return
	}
	c := bits.Len(uint(len(t))) - 1
	p.free[c] = append(p.free[c], t)
	p.bytes += b
}

// inWindow counts author-distinct events in (t-span, t].
func (tp *topic) inWindow(t, span int64) int {
	w := tp.win[tp.winHead:]
	i, _ := slices.BinarySearch(w, t-span+1)
	return len(w) - i
}

// addFirst keeps the n earliest posts in (time, id) order.
func (tp *topic) addFirst(r postRef, n int) {
	if len(tp.first) >= n && cmpRef(r, tp.first[len(tp.first)-1]) >= 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(tp.first, r, cmpRef)
	tp.first = slices.Insert(tp.first, i, r)
	if len(tp.first) > n {
		tp.first = tp.first[:n]
	}
}

func (tp *topic) reset(pool *tablePool) {
	tp.authors.release(pool)
	key, npending := tp.key, tp.npending
	*tp = topic{key: key, npending: npending, last: postRef{t: math.MinInt64}}
}

// bury marks a topic deleted from Detector.topics and drops its state,
// which a holder of the pointer (Pipeline's memo) would otherwise keep.
func (tp *topic) bury(pool *tablePool) {
	tp.authors.release(pool)
	*tp = topic{key: tp.key, gone: true}
}

// sweep forgets idle keys and enforces MaxTopics.
func (d *Detector) sweep() {
	d.nextSweep = d.watermark + int64(d.cfg.Bucket)*10
	ttl := int64(d.cfg.IdleTTL)
	if d.watermark < math.MinInt64+ttl {
		return
	}
	for k, tp := range d.topics {
		if tp.npending == 0 && (tp.last.t == math.MinInt64 || tp.last.t <= d.watermark-ttl) {
			delete(d.topics, k)
			tp.bury(&d.tables)
		}
	}
	if len(d.topics) <= d.cfg.MaxTopics {
		return
	}
	// Over the cap: the least recently active go first, down to 90% so
	// the sort is not repeated on every event.
	idle := make([]*topic, 0, len(d.topics))
	for _, tp := range d.topics {
		if tp.npending == 0 {
			idle = append(idle, tp)
		}
	}
	slices.SortFunc(idle, func(a, b *topic) int { return cmp.Or(cmp.Compare(a.last.t, b.last.t), cmp.Compare(a.key, b.key)) })
	for _, tp := range idle {
		if len(d.topics) <= d.cfg.MaxTopics*9/10 {
			break
		}
		delete(d.topics, tp.key)
		tp.bury(&d.tables)
		d.stats.Evicted++
	}
}

// cmpRef orders posts by time then id. Not cmp.Or: that would compare the
// ids even when the times differ, which is most of the time.
func cmpRef(a, b postRef) int {
	if a.t != b.t {
		return cmp.Compare(a.t, b.t)
	}
	return cmp.Compare(a.id, b.id)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// hashString is FNV-1a: deterministic across processes, unlike maphash.
func hashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}
