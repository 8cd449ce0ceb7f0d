package text

import (
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

// Language codes returned by DetectLang.
const (
	LangVI  = "vi"
	LangFR  = "fr"
	LangEN  = "en"
	LangUnd = "und"
)

// vietnameseLetter reports letters used by Vietnamese and by neither French
// nor English: ă đ ơ ư and the precomposed tone-marked vowels.
func vietnameseLetter(r rune) bool {
	switch r {
	case 'ă', 'Ă', 'đ', 'Đ', 'ơ', 'Ơ', 'ư', 'Ư':
		return true
	}
	return r >= 0x1EA0 && r <= 0x1EF9
}

// DetectLang returns "vi", "fr", "en" or "und" for s. Decisive cheap
// evidence wins first (Vietnamese-only letters; a clear lead in stopword
// profiles, which also catches unaccented Vietnamese); whatlanggo decides
// the rest.
func DetectLang(s string) string {
	if len(s) > 4096 {
		s = s[:4096] // enough evidence; keeps the cost bounded
		for len(s) > 0 && !utf8.RuneStart(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
	}
	var latin, other, viLetters int
	for i, r := range s {
		// Two Vietnamese-only letters decide, unless the rest of the text
		// could still hold more non-Latin letters than Latin ones (each
		// takes two bytes or more): stop as soon as it cannot.
		if viLetters >= 2 && latin >= other+(len(s)-i)/2 {
			return LangVI
		}
		switch {
		case r < utf8.RuneSelf:
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				latin++
			}
		case r < propsEnd:
			switch p := runeProps[r]; {
			case p&pLetter == 0:
			case p&pVI != 0:
				latin++
				viLetters++
			case p&pLatin != 0:
				latin++
			default:
				other++
			}
		case unicode.IsLetter(r):
			if unicode.Is(unicode.Latin, r) {
				latin++
				if vietnameseLetter(r) {
					viLetters++
				}
			} else {
				other++
			}
		}
	}
	if latin == 0 || other > latin {
		return LangUnd
	}
	if viLetters >= 2 || viLetters*20 >= latin {
		return LangVI
	}
	en, fr, vi, other := profile(s)
	best, second, lang := en, max(fr, vi), LangEN
	if fr > best {
		best, second, lang = fr, max(en, vi), LangFR
	}
	if vi > best {
		best, second, lang = vi, max(en, fr), LangVI
	}
	// Function words of a language we do not handle (German, Portuguese,
	// Spanish, Italian, Dutch) outnumbering ours: say so rather than
	// forcing the text into French or English, whose lists share a few of
	// their words. A single such word leaves it to whatlanggo, which knows
	// those languages.
	if other >= 2 && other > best {
		return LangUnd
	}
	if best >= 2 && best >= 2*second && other == 0 {
		return lang
	}
	// whatlanggo is unreliable on a few words: trust it to say "another
	// language" only when confident, otherwise choose among our three.
	info := whatlanggo.Detect(s)
	if l := fromWhatlang(info.Lang); l != "" {
		return l
	}
	if info.Confidence >= 0.5 {
		return LangUnd
	}
	if best > second {
		return lang
	}
	if l := fromWhatlang(whatlanggo.DetectLangWithOptions(s, targets)); l != "" {
		return l
	}
	return LangUnd
}

// profile counts stopword hits per language over the lower-cased letter
// runs of s (apostrophes kept inside words so "don't" and "l'état" stay
// whole), and hits of other languages' function words.
func profile(s string) (en, fr, vi, other int) {
	var p stopProfile
	var buf [64]byte
	w := buf[:0]
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z':
			w = append(w, byte(r))
		case 'A' <= r && r <= 'Z':
			w = append(w, byte(r)+'a'-'A')
		case r >= utf8.RuneSelf && unicode.IsLetter(r):
			w = utf8.AppendRune(w, unicode.ToLower(r))
		case (r == '\'' || r == '’') && len(w) > 0:
			w = append(w, '\'')
		default:
			if len(w) > 0 {
				p.add(w)
				w = w[:0]
			}
		}
	}
	if len(w) > 0 {
		p.add(w)
	}
	return p.en, p.fr, p.vi, p.other
}

type stopProfile struct {
	en, fr, vi, other int
	fold              [64]byte
}

// add counts the word w. m[string(bytes)] look-ups do not allocate.
func (p *stopProfile) add(w []byte) {
	ws := unsafeString(w) // w is not written while ws is used
	fl := profileFlags[ws]
	if fl&inEN != 0 {
		p.en++
	}
	if fl&inFR != 0 {
		p.fr++
	}
	if fl&inOther != 0 {
		p.other++
	}
	if i := firstFold(ws); i < len(ws) {
		// The Vietnamese lists hold folded words: look the folded form up.
		fl = profileFlags[string(appendFold(append(p.fold[:0], w[:i]...), ws[i:]))]
	}
	if fl&inVIFolded != 0 {
		p.vi++
	}
	if fl&inVIOnly != 0 {
		p.vi++
	}
}

// Flags of profileFlags: which stopword lists hold a word.
const (
	inEN       = 1 << iota // stopEN
	inFR                   // stopFR
	inVIFolded             // stopVIFolded
	inVIOnly               // vietnameseOnly
	inOther                // otherFunctionWords
)

// profileFlags merges the lists profile counts, so a word costs one
// look-up (two when it has diacritics) instead of four.
var profileFlags = func() map[string]uint8 {
	m := make(map[string]uint8)
	for _, l := range []struct {
		set  map[string]bool
		flag uint8
	}{{stopEN, inEN}, {stopFR, inFR}, {stopVIFolded, inVIFolded}, {vietnameseOnly, inVIOnly}, {otherFunctionWords(), inOther}} {
		for w := range l.set {
			m[w] |= l.flag
		}
	}
	return m
}()

var targets = whatlanggo.Options{Whitelist: map[whatlanggo.Lang]bool{
	whatlanggo.Vie: true, whatlanggo.Fra: true, whatlanggo.Eng: true,
}}

func fromWhatlang(l whatlanggo.Lang) string {
	switch l {
	case whatlanggo.Vie:
		return LangVI
	case whatlanggo.Fra:
		return LangFR
	case whatlanggo.Eng:
		return LangEN
	}
	return ""
}

// otherFunctionWords are frequent function words of German, Portuguese,
// Spanish, Italian and Dutch that are not words of our three languages'
// lists, nor (folded) Vietnamese syllables of them: what tells a text in a
// language DetectLang does not handle from French or English.
func otherFunctionWords() map[string]bool {
	m := set(`der das und ist nicht mit von dem ein eine einer eines einem zu auf für im sich auch
wird werden haben sind über noch nur kann mehr wieder zum zur vom durch bei oder nach wie aus
não uma com os das dos pelo pela foi são está ao aos às seu sua também após sobre diz um
segundo ainda já muito isso essa esse ela ele pelos pelas
el los las del una por para está pero más fue sus según hasta desde muy esta este
il gli della delle dello degli nel nella che sono anche più alla alle dai
het een van niet met voor zijn wordt ook naar uit door maar`)
	for w := range m {
		// Words that are also ours stay out ("des", "mais", "do" in
		// Vietnamese), and so do Vietnamese syllables written without
		// accents that are in no list ("hết" → "het", "cơm" → "com").
		f := FoldDiacritics(w)
		if stopEN[w] || stopFR[w] || stopVI[w] || stopVIAnyFold[f] || stopVIFolded[f] || vietnameseOnly[f] || unaccentedVI[f] {
			delete(m, w)
		}
	}
	return m
}

// unaccentedVI are Vietnamese syllables that, unaccented, spell a function
// word of otherFunctionWords.
var unaccentedVI = set(`het dai ao com sua che van met dem im um em da na ma nao`)
