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
	for _, r := range s {
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
	en, fr, vi := profile(s)
	best, second, lang := en, max(fr, vi), LangEN
	if fr > best {
		best, second, lang = fr, max(en, vi), LangFR
	}
	if vi > best {
		best, second, lang = vi, max(en, fr), LangVI
	}
	if best >= 2 && best >= 2*second {
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
// whole).
func profile(s string) (en, fr, vi int) {
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
	return p.en, p.fr, p.vi
}

type stopProfile struct {
	en, fr, vi int
	fold       [64]byte
}

// add counts the word w. m[string(bytes)] look-ups do not allocate.
func (p *stopProfile) add(w []byte) {
	if stopEN[string(w)] {
		p.en++
	}
	if stopFR[string(w)] {
		p.fr++
	}
	f := appendFold(p.fold[:0], unsafeString(w)) // w is not written while f is used
	if stopVIFolded[string(f)] {
		p.vi++
		if vietnameseOnly[string(f)] {
			p.vi++
		}
	} else if vietnameseOnly[string(f)] {
		p.vi++
	}
}

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
