package text

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// (punctuation) before it, so bigrams do not span sentences. When verbatim,
// s is the normalised text's bytes from start, so a phrase of adjacent
// words can be sliced from that text instead of concatenated.
type word struct {
	s        string
	start    int
	brk      bool
	num      bool
	verbatim bool
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
	sc := termPool.Get().(*termScratch)
	defer sc.release()
	d.Entities = entities(soc.Text, sc)
	normText := normalizeValid(soc.Text) // Clean's output is valid UTF-8
	wp := wordPool.Get().(*[]word)
	words := tokenize((*wp)[:0], normText, d.Lang)
	if d.Lang == LangVI {
		words = expandTeencode(words, firstFold(normText) < len(normText))
	}
	d.terms(normText, words, sc)
	clear(words) // drop the strings before pooling
	if cap(words) <= 4096 {
		*wp = words[:0]
		wordPool.Put(wp)
	}
	return d
}

// wordPool recycles tokenize's word slices: one per post otherwise.
var wordPool = sync.Pool{New: func() any { w := make([]word, 0, 256); return &w }}

// phrases builds the "a_b" bigrams of one Doc in a single string: one
// allocation instead of one per bigram. add appends a bigram; strs fills
// out (len(ends) long) with them all, once, at the end.
type phrases struct {
	buf  []byte
	ends []int
}

func (p *phrases) add(a, b string) {
	p.buf = append(append(append(p.buf, a...), '_'), b...)
	p.ends = append(p.ends, len(p.buf))
}

func (p *phrases) strs(out []string) []string {
	all := string(p.buf)
	start := 0
	for i, e := range p.ends {
		out[i] = all[start:e]
		start = e
	}
	return out
}

// termScratch is the per-call scratch of terms, pooled.
type termScratch struct {
	folds    []string
	stops    []bool
	keywords []string // copied out at the end: one exact allocation instead of growing
	tokens   []string // likewise
	numbers  []string // likewise
	entBuf   []byte   // the entities, in one string
	entEnds  []int
	foldBuf  []byte
	foldEnds []int
	tokIdx   []int // index in Tokens of each bigram (vi), filled in at the end
	phrases
	seen map[string]struct{}
}

var termPool = sync.Pool{New: func() any {
	return &termScratch{seen: make(map[string]struct{}, 64)}
}}

// release empties sc and pools it again, unless one huge post grew it
// (clear keeps a map's memory).
func (sc *termScratch) release() {
	if len(sc.seen) > 4096 || cap(sc.buf) > 64<<10 || cap(sc.foldBuf) > 64<<10 || cap(sc.tokens) > 16<<10 ||
		cap(sc.entBuf) > 64<<10 || cap(sc.numbers) > 16<<10 {
		return
	}
	clear(sc.folds) // drop the strings
	clear(sc.keywords)
	clear(sc.tokens)
	clear(sc.numbers)
	if len(sc.seen) > 0 {
		clear(sc.seen)
	}
	sc.folds, sc.stops, sc.keywords, sc.tokens = sc.folds[:0], sc.stops[:0], sc.keywords[:0], sc.tokens[:0]
	sc.foldBuf, sc.foldEnds, sc.tokIdx = sc.foldBuf[:0], sc.foldEnds[:0], sc.tokIdx[:0]
	sc.buf, sc.ends = sc.buf[:0], sc.ends[:0]
	sc.numbers, sc.entBuf, sc.entEnds = sc.numbers[:0], sc.entBuf[:0], sc.entEnds[:0]
	termPool.Put(sc)
}

// seenLinear is how many keywords are deduplicated by a linear scan before
// the map takes over: most posts have fewer, and a scan of a few strings is
// cheaper than hashing each one into a map and clearing it afterwards.
const seenLinear = 32

// addKeyword appends kw to the keywords unless it is there already.
func (sc *termScratch) addKeyword(kw string) {
	if len(sc.keywords) < seenLinear {
		for _, k := range sc.keywords {
			if k == kw {
				return
			}
		}
		sc.keywords = append(sc.keywords, kw)
		return
	}
	if len(sc.seen) == 0 {
		for _, k := range sc.keywords {
			sc.seen[k] = struct{}{}
		}
	}
	if _, ok := sc.seen[kw]; ok {
		return
	}
	sc.seen[kw] = struct{}{}
	sc.keywords = append(sc.keywords, kw)
}

// terms fills Tokens, Bigrams, Keywords and Numbers from the words of the
// normalised text.
func (d *Doc) terms(text string, words []word, sc *termScratch) {
	if d.Lang == LangVI {
		d.termsVI(text, words, sc)
		return
	}
	tokens := sc.tokens
	prev := "" // previous content term, "" after a boundary
	for _, w := range words {
		if w.brk {
			prev = ""
		}
		if w.num {
			sc.numbers = append(sc.numbers, w.s)
		} else if isStopword(w.s, d.Lang) || utf8.RuneCountInString(w.s) < 2 {
			continue
		}
		t := stem(w.s, d.Lang)
		tokens = append(tokens, t)
		if prev != "" {
			sc.add(prev, t)
		}
		prev = t
		if !w.num && utf8.RuneCountInString(w.s) >= 3 {
			sc.addKeyword(w.s)
		}
	}
	sc.tokens = tokens
	d.pack(sc)
}

// pack copies the scratch tokens, bigrams, keywords and numbers out into
// Tokens, Bigrams, Keywords and Numbers: one slice allocation for the four.
// Each is capped at its length, so appending to one cannot write into the
// next. Tokens is never nil, the others are nil when empty.
func (d *Doc) pack(sc *termScratch) {
	nt, nb, nk, nn := len(sc.tokens), len(sc.ends), len(sc.keywords), len(sc.numbers)
	all := make([]string, nt+nb+nk+nn)
	copy(all, sc.tokens)
	d.Tokens = all[:nt:nt]
	if nb > 0 {
		d.Bigrams = sc.strs(all[nt : nt+nb : nt+nb])
	}
	if nk > 0 {
		copy(all[nt+nb:], sc.keywords)
		d.Keywords = all[nt+nb : nt+nb+nk : nt+nb+nk]
	}
	if nn > 0 {
		copy(all[nt+nb+nk:], sc.numbers)
		d.Numbers = all[nt+nb+nk:]
	}
}

// termsVI: every syllable is kept with and without diacritics, and every
// pair of adjacent syllables forms a folded bigram.
func (d *Doc) termsVI(text string, words []word, sc *termScratch) {
	// Fold every word once (a word is used three times), into one string,
	// and count the tokens so Tokens is allocated once.
	folds, buf, ends := sc.folds, sc.foldBuf, sc.foldEnds
	nTok := 0
	for i, w := range words {
		if i > 0 && !w.brk {
			nTok++ // bigram
		}
		j := firstFold(w.s)
		if j == len(w.s) {
			folds = append(folds, w.s)
			nTok++
			continue
		}
		buf = appendFold(append(buf, w.s[:j]...), w.s[j:])
		ends = append(ends, len(buf))
		folds = append(folds, "") // filled in below
		nTok += 2
	}
	sc.folds, sc.foldBuf, sc.foldEnds = folds, buf, ends
	if len(ends) > 0 {
		all, k, start := string(buf), 0, 0
		for i := range folds {
			if folds[i] == "" {
				folds[i] = all[start:ends[k]]
				start = ends[k]
				k++
			}
		}
	}
	tokens := slices.Grow(sc.tokens, nTok)
	stops := sc.stops
	// Stopwords are judged as written: in accented text on the accented
	// list (so "bàn", goal, stays although it folds to the stopword "bạn"),
	// in text without any diacritics on the folded one.
	unaccented := len(ends) == 0
	for i, f := range folds {
		stops = append(stops, stopVI[words[i].s] || unaccented && stopVIUnaccented[f])
	}
	sc.stops = stops
	for i, w := range words {
		if w.num {
			sc.numbers = append(sc.numbers, w.s)
		}
		f := folds[i]
		stop := stops[i]
		if !stop {
			tokens = append(tokens, f)
			if f != w.s {
				tokens = append(tokens, w.s)
			}
		}
		// Syllable bigrams use every syllable: Vietnamese words are
		// built from syllables that are stopwords on their own.
		if i > 0 && !w.brk {
			sc.add(folds[i-1], f)
			sc.tokIdx = append(sc.tokIdx, len(tokens))
			tokens = append(tokens, "") // the bigram, filled in below
			if !stop && !stops[i-1] {
				p := words[i-1]
				var kw string
				if end := p.start + len(p.s); p.verbatim && w.verbatim && w.start == end+1 && text[end] == ' ' {
					kw = text[p.start : w.start+len(w.s)] // "p w" as written: no copy
				} else {
					kw = p.s + " " + w.s
				}
				sc.addKeyword(kw)
			}
		}
	}
	sc.tokens = tokens
	d.pack(sc)
	for k, i := range sc.tokIdx {
		d.Tokens[i] = d.Bigrams[k]
	}
}

// elisions are the French clitics written before an apostrophe.
var elisions = set(`l d j m n s t c qu jusqu lorsqu puisqu quoiqu presqu`)

// enClitics are English endings written after an apostrophe.
var enClitics = set(`s t ll re ve d m`)

// tokenize appends the words and numbers of the normalised text s to words.
func tokenize(words []word, s, lang string) []word {
	brk := true
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !isLetterOrDigit(r) { // not a word or number start
			// Quote marks are not boundaries: `an "aide"` and `an 'aide'`
			// (apostrophes are inside words) must give the same phrases.
			if r == '.' || r == ',' || r == ';' || r == ':' || r == '!' || r == '?' || r == '(' || r == ')' ||
				r == '—' || r == '–' || r == '|' || r == '\n' {
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

// scanWord reads the word or number starting at s[i]. The word is a slice
// of s unless a separator is dropped or rewritten ("1,000", "3,5",
// "o'neill"); only then is it copied.
func scanWord(s string, i int, lang string) (int, word) {
	var tmp [64]byte
	var b []byte // nil while the word is s[st:j]
	st := i
	digits, letters := 0, 0
	j := i
	for j < len(s) {
		r, n := rune(s[j]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[j:])
		}
		switch {
		case isLetterOrMn(r):
			letters++
			if b != nil {
				b = append(b, s[j:j+n]...)
			}
		case has(r, pDigit):
			digits++
			if b != nil {
				b = append(b, s[j:j+n]...)
			}
		case (r == ',' || r == '.') && digits > 0 && letters == 0 && j+1 < len(s) && isASCIIDigit(s[j+1]):
			// "1,000" and "1.000" are thousands; "3.5" and "3,5" decimals.
			k := j + 1
			for k < len(s) && isASCIIDigit(s[k]) {
				k++
			}
			switch {
			case k-(j+1) == 3:
				b = copyOut(b, tmp[:0], s[st:j]) // the separator is dropped
			case r == ',' || b != nil:
				b = append(copyOut(b, tmp[:0], s[st:j]), '.')
			}
		case (r == '\'' || r == '’') && letters > 0 && j+n < len(s):
			next, _ := utf8.DecodeRuneInString(s[j+n:])
			if !isLetter(next) {
				return j, cur(s, st, j, b)
			}
			head := cur(s, st, j, b)
			if elisions[head.s] && lang != LangEN {
				// French elision: drop "l'" and keep the word.
				b = nil
				letters = 0
				j += n
				st = j
				continue
			}
			// English clitic: "trump's" → "trump", "don't" → "don"; other
			// apostrophes ("o'neill") join the parts.
			k := j + n
			for k < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[k:])
				if !isLetter(r2) {
					break
				}
				k += n2
			}
			if enClitics[s[j+n:k]] {
				return k, head
			}
			b = copyOut(b, tmp[:0], s[st:j]) // the apostrophe is dropped
		default:
			w := cur(s, st, j, b)
			w.num = letters == 0 && digits > 0
			return j, w
		}
		j += n
	}
	w := cur(s, st, j, b)
	w.num = letters == 0 && digits > 0
	return j, w
}

// cur is the word scanWord has read: s[st:j], or b once it was copied.
func cur(s string, st, j int, b []byte) word {
	if b == nil {
		return word{s: s[st:j], start: st, verbatim: true}
	}
	return word{s: string(b), start: st}
}

// copyOut starts the copy of a word that differs from the text.
func copyOut(b, tmp []byte, read string) []byte {
	if b == nil {
		return append(tmp, read...)
	}
	return b
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
// They are built in sc and copied out at the end in one string.
func entities(s string, sc *termScratch) []string {
	buf, ends := sc.entBuf[:0], sc.entEnds[:0]
	var seen map[string]bool // only for posts with many entities; buf is searched below that
	var fbuf, lbuf [64]byte
	sentenceStart := true
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !isLetter(r) {
			if r == '.' || r == '!' || r == '?' || r == ':' || r == '"' || r == '\n' {
				sentenceStart = true
			}
			i += n
			continue
		}
		j := i
		if !isUpper(r) {
			// Neither capitalised nor an acronym: skip the word.
			for j < len(s) {
				r2, n2 := rune(s[j]), 1
				if r2 >= utf8.RuneSelf {
					r2, n2 = utf8.DecodeRuneInString(s[j:])
				}
				if !isLetterOrDigit(r2) {
					break
				}
				j += n2
			}
			sentenceStart = false
			i = j
			continue
		}
		upper := 0
		count := 0
		for j < len(s) {
			r2, n2 := rune(s[j]), 1
			if r2 >= utf8.RuneSelf {
				r2, n2 = utf8.DecodeRuneInString(s[j:])
			}
			if !isLetterOrDigit(r2) {
				break
			}
			if isUpper(r2) {
				upper++
			}
			count++
			j += n2
		}
		w := s[i:j]
		acronym := upper >= 2 && upper == count
		if (isUpper(r) && !sentenceStart && count >= 2) || acronym {
			// strings.ToLower(FoldDiacritics(w)), built on the stack.
			f := appendLower(lbuf[:0], appendFold(fbuf[:0], w))
			if !stopENFR[string(f)] && !containsBytes(buf, ends, seen, f) {
				buf = append(buf, f...)
				ends = append(ends, len(buf))
				if seen != nil {
					seen[string(f)] = true
				} else if len(ends) == 32 {
					seen = make(map[string]bool, 64)
					start := 0
					for _, e := range ends {
						seen[string(buf[start:e])] = true
						start = e
					}
				}
			}
		}
		sentenceStart = false
		i = j
	}
	sc.entBuf, sc.entEnds = buf, ends
	if len(ends) == 0 {
		return nil
	}
	all := string(buf)
	out := make([]string, len(ends))
	start := 0
	for k, e := range ends {
		out[k] = all[start:e]
		start = e
	}
	return out
}

// containsBytes reports whether f is one of the strings ends cuts buf
// into, or in seen once that exists (a linear search stays cheap for the
// few entities most posts have).
func containsBytes(buf []byte, ends []int, seen map[string]bool, f []byte) bool {
	if seen != nil {
		return seen[string(f)]
	}
	start := 0
	for _, e := range ends {
		if string(buf[start:e]) == string(f) {
			return true
		}
		start = e
	}
	return false
}

// appendLower appends strings.ToLower(s) for valid UTF-8 s.
func appendLower(dst, s []byte) []byte { return appendLowerFold(dst, unsafeString(s), false) }
