package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

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

// FoldDiacritics removes accents and tone marks from Latin letters (đ → d,
// ễ → e, œ → oe) and drops stray combining marks. Other scripts pass
// through unchanged. Invalid UTF-8 bytes become U+FFFD.
func FoldDiacritics(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if r < utf8.RuneSelf {
			b.WriteByte(byte(r))
			continue
		}
		if f, ok := foldTable[r]; ok {
			b.WriteString(f)
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

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
