package text

import "unicode"

// Rune properties for the scripts posts mostly use (Latin with Vietnamese
// and French letters, Greek, Cyrillic, punctuation), looked up in a table:
// the unicode package's range searches were a large share of Analyze on
// Vietnamese text, where most letters are outside ASCII.
const (
	pLetter = 1 << iota
	pUpper
	pLower
	pDigit
	pMn
	pLatin // a Latin letter
	pVI    // a letter only Vietnamese uses (vietnameseLetter)
	pUnderscore
)

const propsEnd = 0x2200

var runeProps = func() (t [propsEnd]uint8) {
	for r := rune(0); r < propsEnd; r++ {
		var p uint8
		if unicode.IsLetter(r) {
			p |= pLetter
			if unicode.Is(unicode.Latin, r) {
				p |= pLatin
				if vietnameseLetter(r) {
					p |= pVI
				}
			}
		}
		if unicode.IsUpper(r) {
			p |= pUpper
		}
		if unicode.IsLower(r) {
			p |= pLower
		}
		if unicode.IsDigit(r) {
			p |= pDigit
		}
		if unicode.Is(unicode.Mn, r) {
			p |= pMn
		}
		t[r] = p
	}
	t['_'] |= pUnderscore
	return
}()

// has reports whether r has any of the properties p.
func has(r rune, p uint8) bool {
	if uint32(r) < propsEnd {
		return runeProps[r]&p != 0
	}
	return hasSlow(r, p)
}

func hasSlow(r rune, p uint8) bool {
	return r <= unicode.MaxRune && (p&pLetter != 0 && unicode.IsLetter(r) ||
		p&pUpper != 0 && unicode.IsUpper(r) ||
		p&pDigit != 0 && unicode.IsDigit(r) ||
		p&pMn != 0 && unicode.Is(unicode.Mn, r))
}

func isLetter(r rune) bool        { return has(r, pLetter) }
func isUpper(r rune) bool         { return has(r, pUpper) }
func isLetterOrMn(r rune) bool    { return has(r, pLetter|pMn) }
func isLetterOrDigit(r rune) bool { return has(r, pLetter|pDigit) }
func isWordRune(r rune) bool      { return has(r, pLetter|pDigit|pUnderscore) }
