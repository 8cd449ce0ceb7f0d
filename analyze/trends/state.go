package trends

import (
	"cmp"
	"math"
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
	for range gap {
		tp.ewma(0, d.alpha)
	}
}

// ewma folds x into the exponentially weighted mean and variance (West's
// incremental form).
func (tp *topic) ewma(x, alpha float64) {
	diff := x - tp.mean
	incr := alpha * diff
	tp.mean += incr
	tp.vari = (1 - alpha) * (tp.vari + diff*incr)
}

// countAuthor reports whether author counts at t: once per AuthorWindow.
func (d *Detector) countAuthor(tp *topic, author uint64, t int64) bool {
	if tp.authors == nil {
		tp.authors = make(map[uint64]int64, 4)
		tp.pruneAt = 64
	}
	aw := int64(d.cfg.AuthorWindow)
	if last, ok := tp.authors[author]; ok && t-last < aw {
		return false
	}
	if len(tp.authors) >= tp.pruneAt {
		maps := tp.authors
		for a, at := range maps {
			if t-at >= aw {
				delete(maps, a)
			}
		}
		tp.pruneAt = max(64, 2*len(tp.authors))
	}
	if len(tp.authors) >= d.cfg.MaxAuthors {
		// Too many voices to remember: count without de-duplication. A key
		// with thousands of authors an hour is trending anyway.
		return true
	}
	tp.authors[author] = t
	return true
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

func (tp *topic) reset() {
	key, npending := tp.key, tp.npending
	*tp = topic{key: key, npending: npending, last: postRef{t: math.MinInt64}}
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
