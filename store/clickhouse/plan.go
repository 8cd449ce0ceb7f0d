package clickhouse

import (
	"slices"
	"strconv"
	"strings"
)

const (
	hourSecs = 3600
	daySecs  = 86400
)

// pin is a compacted period (an hour or a UTC day, Unix seconds) and the
// version of its rows that readers use.
type pin struct {
	start   int64
	version uint64
}

// span is a raw time range [from, to) in Unix seconds, read from
// topic_posts.
type span struct{ from, to int64 }

// plan splits a window into compacted periods, read from the compactor's
// tables, and raw ranges, read from topic_posts. Every second of the
// window is in exactly one of them.
type plan struct {
	pins []pin
	raw  []span
}

// planHours uses every fresh compacted hour lying wholly inside
// [start, end) with no cut strictly inside it (a cut is a bucket edge of
// a series: an hour across one must be counted minute by minute), and
// reads the rest raw.
func planHours(start, end int64, fresh map[int64]uint64, cuts []int64) plan {
	var p plan
	if start >= end {
		return p
	}
	cuts = slices.Clone(cuts)
	slices.Sort(cuts)
	raw := start
	for h := ceilTo(start, hourSecs); h+hourSecs <= end; h += hourSecs {
		v, ok := fresh[h]
		if !ok || cutInside(cuts, h, h+hourSecs) {
			continue
		}
		if raw < h {
			p.raw = append(p.raw, span{raw, h})
		}
		p.pins = append(p.pins, pin{h, v})
		raw = h + hourSecs
	}
	if raw < end {
		p.raw = append(p.raw, span{raw, end})
	}
	return p
}

// authorPlan is planHours for authors, whose HyperLogLogs are also kept
// per UTC day: fresh days wholly inside the window first, then fresh hours
// of the rest, then raw ranges.
type authorPlan struct {
	days  []pin
	hours plan
}

func planAuthors(start, end int64, freshHours, freshDays map[int64]uint64) authorPlan {
	var ap authorPlan
	if start >= end {
		return ap
	}
	from := start
	for d := ceilTo(start, daySecs); d+daySecs <= end; d += daySecs {
		v, ok := freshDays[d]
		if !ok {
			continue
		}
		sub := planHours(from, d, freshHours, nil)
		ap.hours.pins = append(ap.hours.pins, sub.pins...)
		ap.hours.raw = append(ap.hours.raw, sub.raw...)
		ap.days = append(ap.days, pin{d, v})
		from = d + daySecs
	}
	sub := planHours(from, end, freshHours, nil)
	ap.hours.pins = append(ap.hours.pins, sub.pins...)
	ap.hours.raw = append(ap.hours.raw, sub.raw...)
	return ap
}

// floorTo rounds t down to a multiple of unit, negative times included.
func floorTo(t, unit int64) int64 { return t - ((t%unit)+unit)%unit }

// ceilTo rounds t up to a multiple of unit, negative times included.
func ceilTo(t, unit int64) int64 {
	if f := floorTo(t, unit); f < t {
		return f + unit
	}
	return t
}

// cutInside reports whether a sorted cut lies strictly inside (from, to).
func cutInside(cuts []int64, from, to int64) bool {
	i, _ := slices.BinarySearch(cuts, from+1)
	return i < len(cuts) && cuts[i] < to
}

// pinsSQL is the condition selecting the pinned versions of col's periods.
// The numbers are the store's own, so they are spliced in as literals; a
// dummy pair keeps a single pin from parsing as a plain tuple.
func pinsSQL(col string, pins []pin) string {
	var b strings.Builder
	lo, hi := pins[0].start, pins[0].start
	for _, p := range pins {
		lo, hi = min(lo, p.start), max(hi, p.start)
	}
	b.WriteString(col + " >= toDateTime(" + strconv.FormatInt(lo, 10) + ") AND " + col + " <= toDateTime(" + strconv.FormatInt(hi, 10) + ")")
	b.WriteString(" AND (toUInt32(" + col + "), version) IN (")
	for _, p := range pins {
		b.WriteString("(" + strconv.FormatInt(p.start, 10) + ", " + strconv.FormatUint(p.version, 10) + "), ")
	}
	b.WriteString("(0, 0))")
	return b.String()
}

// rawSQL is the condition selecting topic_posts rows of the raw ranges;
// each is a plain range of the sort key's minute, so partitions and
// granules outside them are skipped.
func rawSQL(raw []span) string {
	parts := make([]string, len(raw))
	for i, r := range raw {
		parts[i] = "minute >= toDateTime(" + strconv.FormatInt(r.from, 10) + ") AND minute < toDateTime(" + strconv.FormatInt(r.to, 10) + ")"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}
