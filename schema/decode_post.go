package schema

import (
	"bytes"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// decodePostFast is DecodePost's fast path (issue #8: every post from Kafka
// goes through it, and encoding/json's reflection was a visible share of
// the analyzer). It parses the object shape Encode writes — known keys
// spelled exactly, string/number/object values of the declared types,
// standard escapes, unknown keys with any valid JSON value — into *p.
//
// It returns false whenever it is not certain to produce what
// json.Unmarshal would: syntax errors, type mismatches, null, duplicate or
// case-variant keys (encoding/json folds case and the last duplicate wins),
// escaped or non-ASCII keys, invalid UTF-8 inside a string field (replaced
// by U+FFFD), numbers that are not plain integers, deep nesting. The caller
// then starts over with encoding/json, so those inputs get its exact
// result and error. p may be partly filled when it returns false.
func decodePostFast(b []byte, p *Post) bool {
	d := postDecoder{b: b}
	d.ws()
	if !d.object(func(key []byte) bool { return d.postField(key, p) }) {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

type postDecoder struct {
	b    []byte
	i    int
	seen uint16 // Post fields already set, by bit, to detect duplicates
	eng  uint8  // the same for Engagement
}

// Key names per object, for the case-insensitive match check on unknown keys.
var (
	postKeys       = []string{"v", "id", "source", "platform", "url", "canonical_url", "author", "lang", "title", "text", "published", "fetched", "engagement"}
	engagementKeys = []string{"likes", "shares", "replies"}
)

// maxSkipDepth bounds the recursion when skipping unknown values; deeper
// input is left to encoding/json, which has its own (larger) limit.
const maxSkipDepth = 64

// ws skips JSON whitespace (exactly the four bytes the JSON grammar allows).
func (d *postDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object parses {"key": value, ...}; field is called positioned at the
// value (whitespace skipped) and must consume it.
func (d *postDecoder) object(field func(key []byte) bool) bool {
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		start := d.i
		escaped, nonASCII, ok := d.str()
		if !ok || escaped || nonASCII {
			// An escaped or non-ASCII key might still name a field
			// ("\u0069d", Kelvin sign folding to k): let encoding/json decide.
			return false
		}
		key := d.b[start+1 : d.i-1]
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.ws()
		if !field(key) {
			return false
		}
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// once marks bit in *seen and reports whether it was not set before.
func once(seen *uint16, bit uint) bool {
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

func (d *postDecoder) postField(key []byte, p *Post) bool {
	switch string(key) { // no allocation: the compiler compares bytes
	case "v":
		n, ok := d.int()
		p.V = int(n)
		return ok && once(&d.seen, 0)
	case "id":
		return d.string(&p.ID) && once(&d.seen, 1)
	case "source":
		return d.string(&p.Source) && once(&d.seen, 2)
	case "platform":
		return d.string(&p.Platform) && once(&d.seen, 3)
	case "url":
		return d.string(&p.URL) && once(&d.seen, 4)
	case "canonical_url":
		return d.string(&p.CanonicalURL) && once(&d.seen, 5)
	case "author":
		return d.string(&p.Author) && once(&d.seen, 6)
	case "lang":
		return d.string(&p.Lang) && once(&d.seen, 7)
	case "title":
		return d.string(&p.Title) && once(&d.seen, 8)
	case "text":
		return d.string(&p.Text) && once(&d.seen, 9)
	case "published":
		return d.time(&p.Published) && once(&d.seen, 10)
	case "fetched":
		return d.time(&p.Fetched) && once(&d.seen, 11)
	case "engagement":
		e := &p.Engagement
		return once(&d.seen, 12) && d.object(func(key []byte) bool { return d.engagementField(key, e) })
	}
	return d.unknown(key, postKeys)
}

func (d *postDecoder) engagementField(key []byte, e *Engagement) bool {
	var dst *int64
	var bit uint
	switch string(key) {
	case "likes":
		dst, bit = &e.Likes, 0
	case "shares":
		dst, bit = &e.Shares, 1
	case "replies":
		dst, bit = &e.Replies, 2
	default:
		return d.unknown(key, engagementKeys)
	}
	seen := uint16(d.eng)
	n, ok := d.int()
	*dst = n
	ok = ok && once(&seen, bit)
	d.eng = uint8(seen)
	return ok
}

// unknown skips the value of a key that is not a field, unless
// encoding/json would match it to a field case-insensitively (keys here
// are ASCII, so EqualFold is exactly its folding).
func (d *postDecoder) unknown(key []byte, names []string) bool {
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return false
		}
	}
	return d.skip(0)
}

// str scans a JSON string at d.i, validating it as encoding/json's scanner
// does (no control bytes, only the escapes \" \\ \/ \b \f \n \r \t \uXXXX),
// and leaves d.i after the closing quote. Invalid UTF-8 is allowed, as in
// the scanner; nonASCII tells the caller to check.
func (d *postDecoder) str() (escaped, nonASCII, ok bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false, false, false
	}
	i := d.i + 1
	for i < len(d.b) {
		c := d.b[i]
		switch {
		case c == '"':
			d.i = i + 1
			return escaped, nonASCII, true
		case c < ' ':
			return false, false, false
		case c >= utf8.RuneSelf:
			nonASCII = true
			i++
		case c == '\\':
			escaped = true
			if i+1 >= len(d.b) {
				return false, false, false
			}
			switch d.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(d.b[i+2:]) < 0 {
					return false, false, false
				}
				i += 6
			default:
				return false, false, false
			}
		default:
			i++
		}
	}
	return false, false, false
}

// string decodes a JSON string value into *dst.
func (d *postDecoder) string(dst *string) bool {
	start := d.i
	escaped, nonASCII, ok := d.str()
	if !ok {
		return false
	}
	raw := d.b[start+1 : d.i-1]
	if nonASCII && !utf8.Valid(raw) {
		return false // encoding/json substitutes U+FFFD per bad byte: leave it to it
	}
	if !escaped {
		*dst = string(raw)
		return true
	}
	*dst = string(unescape(raw))
	return true
}

// unescape resolves the escapes of a string str has validated, exactly as
// encoding/json's unquote does: a valid surrogate pair is one rune, a lone
// surrogate becomes U+FFFD.
func unescape(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					out = utf8.AppendRune(out, dec)
					i += 6
					continue
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // " \ /
			out = append(out, s[i+1])
		}
		i += 2
	}
	return out
}

// hex4 returns the value of four hex digits at the start of s, or -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// int decodes a plain integer: -?(0|[1-9][0-9]*), at most 18 digits so it
// cannot overflow. Fractions and exponents stop the object parse and so
// go to encoding/json, which rejects them for integer fields.
func (d *postDecoder) int() (int64, bool) {
	i := d.i
	neg := i < len(d.b) && d.b[i] == '-'
	if neg {
		i++
	}
	start := i
	var n int64
	for i < len(d.b) && '0' <= d.b[i] && d.b[i] <= '9' && i-start < 19 {
		n = n*10 + int64(d.b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 18 || (digits > 1 && d.b[start] == '0') {
		return 0, false
	}
	d.i = i
	if neg {
		n = -n
	}
	return n, true
}

// time decodes a time the way encoding/json does: the raw literal,
// quotes included and escapes not resolved, goes to time.Time.UnmarshalJSON.
func (d *postDecoder) time(t *time.Time) bool {
	start := d.i
	if _, _, ok := d.str(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.b[start:d.i]) == nil
}

// skip validates and skips any JSON value (an unknown field's).
func (d *postDecoder) skip(depth int) bool {
	if d.i >= len(d.b) || depth > maxSkipDepth {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		_, _, ok := d.str()
		return ok
	case c == '{':
		return d.object(func([]byte) bool { return d.skip(depth + 1) })
	case c == '[':
		d.i++
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			d.ws()
			if d.i >= len(d.b) {
				return false
			}
			switch d.b[d.i] {
			case ',':
				d.i++
				d.ws()
			case ']':
				d.i++
				return true
			default:
				return false
			}
		}
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if bytes.HasPrefix(d.b[d.i:], []byte(lit)) {
				d.i += len(lit)
				return true
			}
		}
		return false
	}
}

// number skips a number of the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *postDecoder) number() bool {
	b, i := d.b, d.i
	digits := func() int {
		s := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - s
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	d.i = i
	return true
}
