package text

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
)

// Doc is the analysis of one text.
type Doc struct {
	Lang     string   // "vi", "fr", "en" or "und"
	Tokens   []string // matching terms in text order (stems; for vi also folded syllables and bigrams "a_b")
	Bigrams  []string // adjacent content terms "a_b" (phrase evidence), folded
	Keywords []string // content words for topic keys: lower-case, accents kept, unique, in order
	Numbers  []string // numbers as normalised tokens ("1000", "3.5")
	Entities []string // folded lower-case words written capitalised mid-sentence, or acronyms; unique
	Social            // links, handles, hashtags and the tweet signature taken out
}

// word is one token of the normalised text. brk marks a phrase boundary
// (punctuation) before it, so bigrams do not span sentences.
type word struct {
	s   string
	brk bool
	num bool
}

// Analyze cleans, normalises and tokenises s. langHint, when one of "vi",
// "fr", "en", overrides detection (a feed's declared language is more
// reliable than any detector on a headline); otherwise the language is
// detected.
func Analyze(s, langHint string) Doc {
	soc := Clean(s)
	d := Doc{Social: soc}
	switch langHint = strings.ToLower(langHint); langHint {
	case LangVI, LangFR, LangEN:
		d.Lang = langHint
	default:
		d.Lang = DetectLang(soc.Text)
	}
	d.Entities = entities(soc.Text)
	words := tokenize(Normalize(soc.Text), d.Lang)
	d.terms(words)
	return d
}

func (d *Doc) terms(words []word) {
	d.Tokens = make([]string, 0, len(words)+len(words)/2)
	seenKW := map[string]bool{}
	prev := "" // previous content term, "" after a boundary
	if d.Lang == LangVI {
		for i, w := range words {
			if w.num {
				d.Numbers = append(d.Numbers, w.s)
			}
			f := FoldDiacritics(w.s)
			stop := stopVIAnyFold[f]
			if !stop {
				d.Tokens = append(d.Tokens, f)
				if f != w.s {
					d.Tokens = append(d.Tokens, w.s)
				}
			}
			// Syllable bigrams use every syllable: Vietnamese words are
			// built from syllables that are stopwords on their own.
			if i > 0 && !w.brk {
				bg := FoldDiacritics(words[i-1].s) + "_" + f
				d.Tokens = append(d.Tokens, bg)
				d.Bigrams = append(d.Bigrams, bg)
				if !stop && !stopVIAnyFold[FoldDiacritics(words[i-1].s)] {
					kw := words[i-1].s + " " + w.s
					if !seenKW[kw] {
						seenKW[kw] = true
						d.Keywords = append(d.Keywords, kw)
					}
				}
			}
		}
		return
	}
	for _, w := range words {
		if w.brk {
			prev = ""
		}
		if w.num {
			d.Numbers = append(d.Numbers, w.s)
		} else if IsStopword(w.s, d.Lang) || utf8.RuneCountInString(w.s) < 2 {
			continue
		}
		t := stem(w.s, d.Lang)
		d.Tokens = append(d.Tokens, t)
		if prev != "" {
			d.Bigrams = append(d.Bigrams, prev+"_"+t)
		}
		prev = t
		if !w.num && utf8.RuneCountInString(w.s) >= 3 && !seenKW[w.s] {
			seenKW[w.s] = true
			d.Keywords = append(d.Keywords, w.s)
		}
	}
}

// elisions are the French clitics written before an apostrophe.
var elisions = set(`l d j m n s t c qu jusqu lorsqu puisqu quoiqu presqu`)

// enClitics are English endings written after an apostrophe.
var enClitics = set(`s t ll re ve d m`)

// tokenize splits normalised text into words and numbers.
func tokenize(s, lang string) []word {
	words := make([]word, 0, len(s)/5+1)
	brk := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isTokenStart(r) {
			if r == '.' || r == ',' || r == ';' || r == ':' || r == '!' || r == '?' || r == '(' || r == ')' ||
				r == '"' || r == '“' || r == '”' || r == '—' || r == '–' || r == '|' || r == '\n' {
				brk = true
			}
			i += n
			continue
		}
		j, w := scanWord(s, i, lang)
		if w.s != "" {
			w.brk = brk
			words = append(words, w)
			brk = false
		}
		i = j
	}
	return words
}

func isTokenStart(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// scanWord reads the word or number starting at s[i].
func scanWord(s string, i int, lang string) (int, word) {
	var b strings.Builder
	digits, letters := 0, 0
	j := i
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		switch {
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			letters++
			b.WriteString(s[j : j+n])
		case unicode.IsDigit(r):
			digits++
			b.WriteString(s[j : j+n])
		case (r == ',' || r == '.') && digits > 0 && letters == 0 && j+1 < len(s) && isASCIIDigit(s[j+1]):
			// "1,000" and "1.000" are thousands; "3.5" and "3,5" decimals.
			k := j + 1
			for k < len(s) && isASCIIDigit(s[k]) {
				k++
			}
			if k-(j+1) != 3 {
				b.WriteByte('.')
			}
		case (r == '\'' || r == '’') && letters > 0 && j+n < len(s):
			next, _ := utf8.DecodeRuneInString(s[j+n:])
			if !unicode.IsLetter(next) {
				return j, word{s: b.String(), num: letters == 0}
			}
			head := b.String()
			if elisions[head] && lang != LangEN {
				// French elision: drop "l'" and keep the word.
				b.Reset()
				letters = 0
				j += n
				continue
			}
			// English clitic: "trump's" → "trump", "don't" → "don"; other
			// apostrophes ("o'neill") join the parts.
			k := j + n
			for k < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[k:])
				if !unicode.IsLetter(r2) {
					break
				}
				k += n2
			}
			if enClitics[s[j+n:k]] {
				return k, word{s: head}
			}
		default:
			return j, word{s: b.String(), num: letters == 0 && digits > 0}
		}
		j += n
	}
	return j, word{s: b.String(), num: letters == 0 && digits > 0}
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

// stemCache memoises stems: a stream repeats the same words constantly and
// Snowball costs about a microsecond a word. It stops growing at a bound so
// an adversarial stream cannot exhaust memory.
var (
	stemCacheEN, stemCacheFR sync.Map // one per language: no key concatenation
	stemCacheSize            atomic.Int64
)

const stemCacheMax = 1 << 18

func stem(w, lang string) string {
	if lang != LangEN && lang != LangFR {
		return FoldDiacritics(w)
	}
	cache := &stemCacheEN
	if lang == LangFR {
		cache = &stemCacheFR
	}
	if v, ok := cache.Load(w); ok {
		return v.(string)
	}
	var t string
	if lang == LangEN {
		t = english.Stem(FoldDiacritics(w), false)
	} else {
		// The French stemmer needs the accents (é, è) to find suffixes.
		t = FoldDiacritics(french.Stem(w, false))
	}
	if t == "" {
		t = FoldDiacritics(w)
	}
	if stemCacheSize.Load() < stemCacheMax {
		if _, loaded := cache.LoadOrStore(w, t); !loaded {
			stemCacheSize.Add(1)
		}
	}
	return t
}

// Stem returns the matching term for the normalised word w in lang.
func Stem(w, lang string) string { return stem(w, lang) }

// entities returns capitalised mid-sentence words and acronyms, folded and
// lower-cased: a cheap stand-in for named entities that needs no model.
func entities(s string) []string {
	var out []string
	seen := map[string]bool{}
	sentenceStart := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) {
			if r == '.' || r == '!' || r == '?' || r == ':' || r == '"' || r == '\n' {
				sentenceStart = true
			}
			i += n
			continue
		}
		j := i
		upper := 0
		count := 0
		for j < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
				break
			}
			if unicode.IsUpper(r2) {
				upper++
			}
			count++
			j += n2
		}
		w := s[i:j]
		acronym := upper >= 2 && upper == count
		if (unicode.IsUpper(r) && !sentenceStart && count >= 2) || acronym {
			f := strings.ToLower(FoldDiacritics(w))
			if !seen[f] && !stopEN[f] && !stopFR[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
		sentenceStart = false
		i = j
	}
	return out
}
