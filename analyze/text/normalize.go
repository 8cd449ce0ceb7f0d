package text

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// foldTable maps precomposed Latin letters to their base letter(s). It is
// built once from the NFD decomposition so that folding a string costs a
// table look-up per rune instead of a normalisation pass.
var foldTable = func() map[rune]string {
	// Letters NFD does not decompose but readers treat as plain letters.
	special := map[rune]string{
		'đ': "d", 'Đ': "D", 'ø': "o", 'Ø': "O", 'ł': "l", 'Ł': "L",
		'œ': "oe", 'Œ': "OE", 'æ': "ae", 'Æ': "AE", 'ß': "ss",
	}
	m := make(map[rune]string, 1024)
	add := func(lo, hi rune) {
		for r := lo; r <= hi; r++ {
			d := norm.NFD.String(string(r))
			var b strings.Builder
			for _, c := range d {
				switch {
				case unicode.Is(unicode.Mn, c):
				case special[c] != "":
					b.WriteString(special[c]) // ǽ → æ → ae: fold fully
				default:
					b.WriteRune(c)
				}
			}
			if s := b.String(); s != string(r) && s != "" {
				m[r] = s
			}
		}
	}
	add(0x00C0, 0x024F) // Latin-1 Supplement, Latin Extended-A/B
	add(0x1E00, 0x1EFF) // Latin Extended Additional (Vietnamese)
	for r, s := range special {
		m[r] = s
	}
	// A folded result must itself be fully folded (idempotence): reject
	// entries whose output still contains a foldable rune.
	for r, s := range m {
		for _, c := range s {
			if _, ok := m[c]; ok {
				delete(m, r)
				break
			}
		}
	}
	return m
}()

// foldLo and foldHi hold foldTable for its two ranges as arrays: folding
// runs on every word, and an indexed load is several times cheaper than a
// map look-up. ("" = not folded.)
var foldLo, foldHi = func() (lo [0x250 - 0xC0]string, hi [0x1F00 - 0x1E00]string) {
	for r, f := range foldTable {
		switch {
		case r >= 0xC0 && r < 0x250:
			lo[r-0xC0] = f
		case r >= 0x1E00 && r < 0x1F00:
			hi[r-0x1E00] = f
		default:
			panic("foldTable entry outside the folded ranges") // the arrays would miss it
		}
	}
	return
}()

// foldRune returns what FoldDiacritics writes for the non-ASCII rune r, and
// whether it differs from r.
func foldRune(r rune) (f string, changed bool) {
	switch {
	case r >= 0xC0 && r < 0x250:
		if f = foldLo[r-0xC0]; f != "" {
			return f, true
		}
	case r >= 0x1E00 && r < 0x1F00:
		if f = foldHi[r-0x1E00]; f != "" {
			return f, true
		}
	case r == utf8.RuneError:
		return "\uFFFD", true // may stand for an invalid byte
	}
	if r >= 0x300 && isMn(r) {
		return "", true
	}
	return "", false
}

// isMn reports a non-spacing mark, with the common block looked up first.
func isMn(r rune) bool {
	if r >= 0x300 && r < 0x370 {
		return true // Combining Diacritical Marks, all Mn
	}
	return r >= 0x370 && unicode.Is(unicode.Mn, r)
}

// FoldDiacritics removes accents and tone marks from Latin letters (đ → d,
// ễ → e, œ → oe) and drops stray combining marks. Other scripts pass
// through unchanged. Invalid UTF-8 bytes become U+FFFD.
func FoldDiacritics(s string) string {
	i := firstFold(s)
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	b = appendFold(append(b, s[:i]...), s[i:])
	return unsafeString(b)
}

// firstFold returns the index of the first byte FoldDiacritics may change,
// or len(s): most words need no copy at all.
func firstFold(s string) int {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if _, changed := foldRune(r); changed {
			return i
		}
		i += n
	}
	return len(s)
}

// appendFold appends FoldDiacritics(s) to dst.
func appendFold(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if f, changed := foldRune(r); changed {
			dst = append(dst, f...)
		} else {
			dst = append(dst, s[i-n:i]...)
		}
	}
	return dst
}

// unsafeString returns b as a string without copying; b must not be
// written afterwards (every caller drops it).
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// HasDiacritics reports whether s contains a letter FoldDiacritics changes.
func HasDiacritics(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			continue
		}
		if _, ok := foldTable[r]; ok {
			return true
		}
	}
	return false
}

// Normalize returns s in NFC, lower-cased (ß folded to ss), with invalid
// UTF-8 replaced and runs of white space collapsed to one space. It is
// idempotent.
func Normalize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return normalizeValid(s)
}

// normalizeValid is Normalize for valid UTF-8.
func normalizeValid(s string) string {
	if out, ok := normalizeFast(s); ok {
		return out
	}
	return normalizeSlow(s)
}

// normalizeSlow is the general path of normalizeValid.
func normalizeSlow(s string) string {
	if !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	s = strings.ToLower(s)
	if strings.ContainsRune(s, 'ß') {
		s = strings.ReplaceAll(s, "ß", "ss")
	}
	// Lower-casing can produce a non-NFC sequence in rare scripts; one more
	// pass keeps the function idempotent.
	if !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	return collapseSpace(s)
}

// normalizeFast lower-cases and collapses spaces in one pass, without the
// NFC passes, when every rune and its lower case is NFC-inert (NFC_QC=Yes,
// combining class 0, never composes with the rune before): such a string
// is NFC before and after lower-casing, so the result equals the general
// path's. That holds for nearly all real text (ASCII, precomposed
// Vietnamese and French); ok is false otherwise (combining marks, ...).
func normalizeFast(s string) (out string, ok bool) {
	bp := scratchPool.Get().(*[]byte)
	b := (*bp)[:0]
	defer func() { putScratch(bp, b) }()
	space := false // white space seen since the last rune written
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if asciiSpace[c] {
				space = true
				continue
			}
			if space && len(b) > 0 {
				b = append(b, ' ')
			}
			space = false
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		// A space rune is replaced by ' ' whatever NFC makes of it (it
		// stays a space: U+2000 → U+2002), so test it first.
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		l, ok := inertLower(r)
		if !ok {
			return "", false
		}
		if space && len(b) > 0 {
			b = append(b, ' ')
		}
		space = false
		if l == 'ß' {
			b = append(b, "ss"...)
		} else {
			b = utf8.AppendRune(b, l)
		}
	}
	if string(b) == s {
		return s, true
	}
	return string(b), true
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// scratchPool holds byte buffers for building strings that are copied out
// at the end (or not at all, when the result equals the input).
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// putScratch returns b to the pool unless one huge post grew it.
func putScratch(bp *[]byte, b []byte) {
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		scratchPool.Put(bp)
	}
}

// inertLowerTable caches inertLower for the scripts posts mostly use;
// 0 marks a rune that is not inert.
var inertLowerTable = func() (t [0x2200]uint16) {
	for r := rune(0x80); r < 0x2200; r++ {
		if l, ok := inertLowerSlow(r); ok && l < 0x10000 && l != 0 {
			t[r] = uint16(l)
		}
	}
	return
}()

// inertLower returns unicode.ToLower(r), with ok reporting that r and its
// lower case are both NFC-inert.
func inertLower(r rune) (rune, bool) {
	if r < 0x2200 {
		l := inertLowerTable[r]
		return rune(l), l != 0
	}
	return inertLowerSlow(r)
}

func inertLowerSlow(r rune) (rune, bool) {
	l := unicode.ToLower(r)
	return l, nfcInert(r) && nfcInert(l)
}

// nfcInert reports NFC_QC=Yes and combining class 0 and no backward
// composition: a string of such runes is NFC.
func nfcInert(r rune) bool {
	var buf [utf8.UTFMax]byte
	b := utf8.AppendRune(buf[:0], r)
	return norm.NFC.Properties(b).BoundaryBefore() && norm.NFC.IsNormal(b)
}

func collapseSpace(s string) string {
	prevSpace := true // a leading space needs collapsing too
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (prevSpace || r != ' ') {
			return strings.Join(strings.Fields(s), " ")
		}
		prevSpace = sp
	}
	if prevSpace && s != "" {
		return strings.Join(strings.Fields(s), " ")
	}
	return s
}

// lowerTable caches unicode.ToLower for the scripts posts mostly use.
var lowerTable = func() (t [propsEnd]uint16) {
	for r := rune(0); r < propsEnd; r++ {
		t[r] = uint16(unicode.ToLower(r)) // the lower case of a rune below U+2200 fits in 16 bits
	}
	return
}()

// AppendLower appends strings.ToLower(s) to dst, with a table for the
// scripts posts mostly use. Invalid UTF-8 bytes become U+FFFD, as they do
// there.
func AppendLower(dst []byte, s string) []byte { return appendLowerFold(dst, s, false) }

// AppendLowerFold appends FoldDiacritics(strings.ToLower(s)) to dst in one
// pass, without the two intermediate strings. Invalid UTF-8 bytes become
// U+FFFD, as they do there.
func AppendLowerFold(dst []byte, s string) []byte { return appendLowerFold(dst, s, true) }

func appendLowerFold(dst []byte, s string, fold bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r < propsEnd {
			r = rune(lowerTable[r])
		} else {
			r = unicode.ToLower(r)
		}
		if fold {
			if f, changed := foldRune(r); changed {
				dst = append(dst, f...)
				continue
			}
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}
