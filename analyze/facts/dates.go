package facts

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Layouts seen in fact-check exports, grouped by how the string starts so
// a date is tried against a handful of layouts rather than all of them.
// Times without a zone are taken as UTC.
var (
	isoLayouts = []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05",
		"2006-01-02T15:04",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05",
		"2006-01-02 15:04",
		"2006-01-02",
		"2006/01/02",
	}
	wordFirstLayouts = []string{ // "Mon, 02 Jan…", "January 2, 2006"
		time.RFC1123Z,
		time.RFC1123,
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 MST",
		"January 2, 2006",
		"Jan 2, 2006",
		"January 2 2006",
		"Jan. 2, 2006",
	}
	dayFirstLayouts = []string{ // "26 May 2015"
		"2 January 2006",
		"2 Jan 2006",
		"2 January 2006 15:04",
	}
)

// parseDate parses a date in one of the common layouts. Numeric dates
// (d/m/yyyy, d.m.yyyy, d-m-yyyy) are read day first, as French and
// Vietnamese write them, unless the second number cannot be a month, which
// only a US month-first date produces.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	layouts := dayFirstLayouts
	switch {
	case len(s) >= 10 && (s[4] == '-' || s[4] == '/'):
		layouts = isoLayouts
	case s[0] < '0' || s[0] > '9':
		layouts = wordFirstLayouts
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	if t, ok := parseNumericDate(s); ok {
		return t, nil
	}
	// "21February 2009": a missing space after the day.
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i > 0 && i <= 2 && s[i] != ' ' {
		if t, err := time.Parse("2 January 2006", s[:i]+" "+s[i:]); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised date %q", clip(s, 40))
}

// parseNumericDate reads d/m/yyyy, d.m.yyyy and d-m-yyyy, optionally
// followed by a time of day hh:mm[:ss].
func parseNumericDate(s string) (time.Time, bool) {
	datePart, timePart, _ := strings.Cut(s, " ")
	parts := strings.FieldsFunc(datePart, func(r rune) bool { return r == '/' || r == '.' || r == '-' })
	if len(parts) != 3 || len(parts[2]) != 4 {
		return time.Time{}, false
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || len(p) > 4 {
			return time.Time{}, false
		}
		n[i] = v
	}
	day, month := n[0], n[1]
	if month > 12 && day <= 12 {
		day, month = month, day // US order, unambiguous
	}
	var h, m, sec int
	if timePart = strings.TrimSpace(timePart); timePart != "" {
		t, err := time.Parse("15:04:05", timePart)
		if err != nil {
			if t, err = time.Parse("15:04", timePart); err != nil {
				return time.Time{}, false
			}
		}
		h, m, sec = t.Clock()
	}
	t := time.Date(n[2], time.Month(month), day, h, m, sec, 0, time.UTC)
	// time.Date normalises 31/02 to March; a date that moved was invalid.
	if t.Day() != day || int(t.Month()) != month {
		return time.Time{}, false
	}
	return t, true
}
