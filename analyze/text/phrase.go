package text

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Phrase units are what topic keys are made of: multi-word collocations
// learned from text ("đội tuyển", "bão số 4", "sạt lở"), names written
// capitalised mid-sentence ("Khánh Lê", "Thái Lan"), a learned title
// before a name ("cô giáo Hương", "đèo Khánh Lê") and, in French and
// English, content words. A unit never crosses punctuation or a sentence,
// a number is only ever the last word of a learned phrase that takes one,
// and a Vietnamese syllable alone is a unit only when it is a name: Vietnamese
// words span syllables, so a lone common syllable ("học", "giữ") names
// nothing.
//
// Collocations come from a committed table (phrases.tsv.gz) that
// TrainPhrases builds with Dunning's log-likelihood ratio over adjacent
// units, merged in passes (a pair of pairs makes a 4-word phrase), the way
// word2vec's phrase detector does; no Go library we found does this for
// syllable-based text, and the statistics are a few dozen lines. The same
// table holds each unit's document frequency, so callers can tell a rare,
// salient unit from an everyday one.

// Unit is one phrase unit of a text.
type Unit struct {
	Key     string // folded, lower-case words joined by single spaces: the topic identity
	Surface string // as written (a slice of the text)
	Name    bool   // capitalised mid-sentence, or mostly so where the table saw it
	Words   int    // words in the unit
	DF      int    // documents of the table's corpus holding it; 0 when unseen
	Start   int    // byte offset of Surface in the text
}

// Label is how the unit reads to a person: a name as written, anything else
// in lower case.
func (u Unit) Label() string {
	if u.Name || !hasUpper(u.Surface) {
		return u.Surface
	}
	return strings.ToLower(u.Surface)
}

// hasUpper reports whether s has an upper-case letter (most phrases have
// none, and need no lower-cased copy).
func hasUpper(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isUpper(r) {
			return true
		}
		i += n
	}
	return false
}

// Flags of a phrase table entry.
const (
	phPhrase = 1 << iota // a learned multi-word phrase
	phPrefix             // the first words of a longer phrase: keep extending
	phName               // mostly written capitalised mid-sentence
	phTitle              // often directly before a capitalised name ("cô giáo", "đèo")
	phNumber             // usually followed by a number that belongs to it ("bão số")
	phStopVI             // a stopword (folded) of Vietnamese, English, French
	phStopEN
	phStopFR
)

const (
	maxPhraseWords = 5 // words of a learned phrase
	maxUnitWords   = 8 // with a title before a name
)

// PhraseTable holds learned phrases and document frequencies, keyed by a
// hash of the folded words (so a look-up needs no string).
type PhraseTable struct {
	Docs    int // documents counted
	Command string
	// slots is an open-addressing table (linear probing) of packed
	// entries: the high 40 bits of the key hash (never 0), the document
	// frequency (16 bits, capped) and the flags. At 8 bytes an entry the
	// table stays in cache, where a map of structs did not: Units looks up
	// two or three keys a word.
	slots []uint64
	mask  uint64
	rows  []PhraseRow // as read or trained, for writing
}

type phraseEntry struct {
	df    uint32
	flags uint8
}

// PhraseRow is one line of the table.
type PhraseRow struct {
	Key   string // folded words joined by spaces
	DF    int
	Flags string // letters: p phrase, n name, t title, d takes a number
}

func (t *PhraseTable) lookup(h uint64) (phraseEntry, bool) {
	if t == nil || len(t.slots) == 0 {
		return phraseEntry{}, false
	}
	tag := h>>24 | 1<<39
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		v := t.slots[i]
		if v == 0 {
			return phraseEntry{}, false
		}
		if v>>24 == tag {
			return phraseEntry{df: uint32(v>>8) & 0xffff, flags: uint8(v)}, true
		}
	}
}

// DF returns the document frequency of the folded unit key ("ha noi").
func (t *PhraseTable) DF(key string) int {
	e, _ := t.lookup(keyHash(key))
	return int(e.df)
}

// Len returns the number of rows.
func (t *PhraseTable) Len() int { return len(t.rows) }

// keyHash hashes a folded key word by word, as the tokens are hashed.
func keyHash(key string) uint64 {
	h := uint64(0)
	for i, w := range strings.Fields(key) {
		if i == 0 {
			h = unitStart(wordHash(w))
		} else {
			h = unitNext(h, wordHash(w))
		}
	}
	return h
}

func wordHash(w string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(w); i++ {
		h ^= uint64(w[i])
		h *= 1099511628211
	}
	return h
}

func unitStart(w uint64) uint64   { return mix64(w ^ 0x243f6a8885a308d3) }
func unitNext(h, w uint64) uint64 { return mix64(h*0x9e3779b97f4a7c15 ^ w) }

func mix64(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (t *PhraseTable) index() {
	m := make(map[uint64]phraseEntry, len(t.rows)*2)
	for _, r := range t.rows {
		var f uint8
		for _, c := range r.Flags {
			switch c {
			case 'p':
				f |= phPhrase
			case 'n':
				f |= phName
			case 't':
				f |= phTitle
			case 'd':
				f |= phNumber
			}
		}
		words := strings.Fields(r.Key)
		h := uint64(0)
		for i, w := range words {
			if i == 0 {
				h = unitStart(wordHash(w))
			} else {
				h = unitNext(h, wordHash(w))
			}
			if i < len(words)-1 && f&phPhrase != 0 {
				e := m[h]
				e.flags |= phPrefix
				m[h] = e
			}
		}
		e := m[h]
		e.df, e.flags = uint32(min(r.DF, 0xffff)), e.flags|f
		m[h] = e
	}
	for lang, bit := range map[string]uint8{LangVI: phStopVI, LangEN: phStopEN, LangFR: phStopFR} {
		for w := range stopFolded(lang) {
			h := unitStart(wordHash(w))
			e := m[h]
			e.flags |= bit
			m[h] = e
		}
	}
	n := 1
	for n < len(m)+len(m)/2 { // load ≤ 2/3: short probes, half the memory of 1/2
		n <<= 1
	}
	t.slots, t.mask = make([]uint64, n), uint64(n-1)
	for h, e := range m {
		i := h & t.mask
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = (h>>24|1<<39)<<24 | uint64(e.df)<<8 | uint64(e.flags)
	}
}

// stopBit is the flag marking lang's stopwords (any language's for "und").
func stopBit(lang string) uint8 {
	switch lang {
	case LangVI:
		return phStopVI
	case LangEN:
		return phStopEN
	case LangFR:
		return phStopFR
	}
	return phStopVI | phStopEN | phStopFR
}

// WriteTo writes the table as gzipped TSV: a header, then key, document
// frequency and flags per line, sorted by key.
func (t *PhraseTable) WriteTo(w io.Writer) (int64, error) {
	zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	bw := bufio.NewWriter(zw)
	fmt.Fprintf(bw, "# phrases and document frequencies; built by: %s\n", t.Command)
	fmt.Fprintf(bw, "#docs\t%d\n", t.Docs)
	for _, r := range t.rows {
		fmt.Fprintf(bw, "%s\t%d\t%s\n", r.Key, r.DF, r.Flags)
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("cannot write phrase table: %w", err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("cannot write phrase table: %w", err)
	}
	return 0, nil
}

// ParsePhraseTable reads a table WriteTo wrote.
func ParsePhraseTable(r io.Reader) (*PhraseTable, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("cannot read phrase table: %w", err)
	}
	t := &PhraseTable{}
	sc := bufio.NewScanner(zr)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if strings.HasPrefix(s, "#docs\t") {
			t.Docs, _ = strconv.Atoi(s[len("#docs\t"):])
			continue
		}
		if strings.HasPrefix(s, "#") || s == "" {
			continue
		}
		f := strings.Split(s, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("phrase table line %d: %d fields, want 3", line, len(f))
		}
		df, err := strconv.Atoi(f[1])
		if err != nil || df < 0 {
			return nil, fmt.Errorf("phrase table line %d: bad document frequency %q", line, f[1])
		}
		t.rows = append(t.rows, PhraseRow{Key: f[0], DF: df, Flags: f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read phrase table: %w", err)
	}
	t.index()
	return t, nil
}

//go:embed phrases.tsv.gz
var embeddedPhrases []byte

// Phrases returns the committed phrase table (empty if it is unreadable;
// TestEmbeddedPhrases guards it).
var Phrases = sync.OnceValue(func() *PhraseTable {
	t, err := ParsePhraseTable(bytes.NewReader(embeddedPhrases))
	if err != nil {
		t = &PhraseTable{}
		t.index()
	}
	return t
})

// ptok is one word of a text for phrase units.
type ptok struct {
	start, end int32  // in the text
	fs, fe     int32  // the folded, lower-case word in the fold buffer (no pointer: no write barriers)
	h          uint64 // wordHash of the folded word
	cap        bool   // first letter upper case
	acro       bool   // two or more letters, all upper case ("TP.HCM", "WHO")
	num        bool   // digits only (with separators)
	stop       bool
	brk        bool        // punctuation (or the start) before it
	sent       bool        // first word of a sentence
	uni        phraseEntry // the table's entry for the word alone (zero if none)
}

// phraseScratch is the pooled per-call state of Units.
type phraseScratch struct {
	toks []ptok
	fold []byte
	keys []byte
	ends []int
	out  []Unit
}

var phrasePool = sync.Pool{New: func() any { return &phraseScratch{} }}

// splitWords appends the words of s to toks, folding them into fold. With a
// table, each word's entry is looked up once and its flags say whether it
// is a stopword; without (training), the stopword lists do.
func splitWords(toks []ptok, fold []byte, s, lang string, t *PhraseTable) ([]ptok, []byte) {
	brk, sent := true, true
	var stops map[string]bool
	if t == nil {
		stops = stopFolded(lang)
	}
	sb := stopBit(lang)
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !isLetterOrDigit(r) {
			switch r {
			case ' ', '\t', 0xa0:
			case '.', '!', '?', '…', ':', '\n', '"', '“', '”', '«', '»', '-', '–', '—', '(', '[':
				brk, sent = true, true
			default:
				brk = true
			}
			i += n
			continue
		}
		// A word: letters, digits and combining marks, joined by "." between
		// digits or capitals ("1.000", "TP.HCM"), "-" between letters or
		// digits ("2-9", "COVID-19") and apostrophes (elisions and clitics
		// cut off, as the analyser does).
		st, j := i, i
		letters, digits, upper := 0, 0, 0
		var prev rune
		for j < len(s) {
			r2, n2 := rune(s[j]), 1
			if r2 >= utf8.RuneSelf {
				r2, n2 = utf8.DecodeRuneInString(s[j:])
			}
			if isLetterOrMn(r2) {
				letters++
				if isUpper(r2) {
					upper++
				}
				prev = r2
				j += n2
				continue
			}
			if has(r2, pDigit) {
				digits++
				prev = r2
				j += n2
				continue
			}
			if j+n2 < len(s) && (r2 == '.' || r2 == '-' || r2 == '\'' || r2 == '’') {
				next, _ := utf8.DecodeRuneInString(s[j+n2:])
				switch {
				case r2 == '.' && (has(prev, pDigit) && has(next, pDigit) || isUpper(prev) && isUpper(next)),
					r2 == '-' && isLetterOrDigit(prev) && isLetterOrDigit(next):
					j += n2
					continue
				case (r2 == '\'' || r2 == '’') && isLetter(prev) && isLetter(next):
					if elisions[strings.ToLower(s[st:j])] && lang != LangEN {
						st = j + n2 // "l'état" → "état"
						letters, upper = 0, 0
						j += n2
						continue
					}
					k := j + n2
					for k < len(s) {
						r3, n3 := utf8.DecodeRuneInString(s[k:])
						if !isLetter(r3) {
							break
						}
						k += n3
					}
					if enClitics[strings.ToLower(s[j+n2:k])] {
						w := addTok(&toks, &fold, s, st, j, letters, digits, upper, stops, t, sb)
						w.brk, w.sent = brk, sent
						brk, sent = false, false
						i = k
						goto next
					}
					j += n2
					continue
				}
			}
			break
		}
		{
			w := addTok(&toks, &fold, s, st, j, letters, digits, upper, stops, t, sb)
			w.brk, w.sent = brk, sent
			brk, sent = false, false
			i = j
		}
	next:
	}
	return toks, fold
}

func addTok(toks *[]ptok, fold *[]byte, s string, st, end, letters, digits, upper int, stops map[string]bool, t *PhraseTable, sb uint8) *ptok {
	f0 := len(*fold)
	*fold = AppendLowerFold(*fold, s[st:end])
	f := unsafeString((*fold)[f0:]) // fold only grows within one call; see Units
	first, _ := utf8.DecodeRuneInString(s[st:])
	h := wordHash(f)
	var e phraseEntry
	var stop bool
	if t != nil {
		e, _ = t.lookup(unitStart(h))
		stop = e.flags&sb != 0 && isStopTok(s[st:end], f, first, sb)
	} else {
		stop = stops[f] && isStopTok(s[st:end], f, first, sb)
	}
	*toks = append(*toks, ptok{
		start: int32(st), end: int32(end), fs: int32(f0), fe: int32(len(*fold)), h: h,
		cap:  isUpper(first),
		acro: upper >= 2 && upper == letters,
		num:  letters == 0 && digits > 0,
		stop: stop,
		uni:  e,
	})
	return &(*toks)[len(*toks)-1]
}

// isStopTok decides, for a word whose folded form is a stopword, whether it
// is one: on the accented form where the lists have it, since folding
// merges Vietnamese words ("năm" year and "Nam" both fold to "nam"). An
// unaccented lower-case word is taken as the stopword it may be.
func isStopTok(w, fold string, first rune, sb uint8) bool {
	if len(w) == len(fold) { // unaccented
		return !isUpper(first) || !stopVIAnyFold[fold] || stopVI[fold]
	}
	var buf [64]byte
	l := appendLowerFold(buf[:0], w, false)
	switch sb {
	case phStopVI:
		return stopVI[string(l)]
	case phStopEN:
		return stopEN[string(l)]
	case phStopFR:
		return stopFR[string(l)] || elisions[string(l)]
	}
	return stopVI[string(l)] || stopEN[string(l)] || stopFR[string(l)] || elisions[string(l)]
}

// stopFolded returns the folded stopwords of lang (all languages for
// "und"), derived from the lists in stop.go.
func stopFolded(lang string) map[string]bool {
	foldedStopsOnce.Do(func() {
		mk := func(sets ...map[string]bool) map[string]bool {
			m := map[string]bool{}
			for _, s := range sets {
				for w := range s {
					m[FoldDiacritics(w)] = true
				}
			}
			return m
		}
		foldedStops = map[string]map[string]bool{
			LangVI: mk(stopVI), LangEN: mk(stopEN), LangFR: mk(stopFR, elisions), LangUnd: mk(stopVI, stopEN, stopFR, elisions),
		}
	})
	if m, ok := foldedStops[lang]; ok {
		return m
	}
	return foldedStops[LangUnd]
}

var (
	foldedStopsOnce sync.Once
	foldedStops     map[string]map[string]bool
)

// Units returns the phrase units of s (a cleaned text, Doc.Text) in lang,
// in text order, unique by Key, looked up in the committed table.
func Units(s, lang string) []Unit { return Phrases().Units(s, lang) }

// Units returns the phrase units of s in lang, looked up in t.
func (t *PhraseTable) Units(s, lang string) []Unit { return t.UnitsN(s, lang, -1, -1) }

// UnitsN is Units up to the point where maxMulti multi-word or name units
// and maxSingle single words have been found (a negative limit has none):
// a caller that keeps the first few need not read a long text to its end.
// The text is read a sentence at a time; units never cross one.
func (t *PhraseTable) UnitsN(s, lang string, maxMulti, maxSingle int) []Unit {
	sc := phrasePool.Get().(*phraseScratch)
	defer func() {
		if cap(sc.fold) <= 64<<10 && cap(sc.toks) <= 4096 {
			clear(sc.out)
			sc.toks, sc.fold, sc.keys, sc.ends, sc.out = sc.toks[:0], sc.fold[:0], sc.keys[:0], sc.ends[:0], sc.out[:0]
			phrasePool.Put(sc)
		}
	}()
	if len(s) > 1<<16 {
		s = s[:1<<16] // the opening of a long article holds its topics
		for len(s) > 0 && !utf8.RuneStart(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
	}
	// Fold into a buffer big enough for the whole text, so the token
	// strings pointing into it stay valid (folding never more than triples
	// a byte count: "Đ" (2 bytes) → "d", "œ" → "oe", U+FFFD for 1 byte).
	if cap(sc.fold) < 3*len(s) {
		sc.fold = make([]byte, 0, 3*len(s))
	}
	vi := lang == LangVI
	out := sc.out[:0]
	nMulti, nSingle := 0, 0
	full := func() bool {
		return maxMulti >= 0 && maxSingle >= 0 && nMulti >= maxMulti && nSingle >= maxSingle
	}
	whole := s
	for base := 0; base < len(whole) && !full(); {
		end := base + sentenceEnd(whole[base:])
		s := whole[base:end]
		out = t.sentenceUnits(sc, s, base, lang, vi, out, &nMulti, &nSingle)
		base = end
	}
	if len(out) == 0 {
		sc.out = out
		return nil
	}
	all := string(sc.keys)
	res := make([]Unit, len(out))
	start := 0
	for k, u := range out {
		u.Key = all[start:sc.ends[k]]
		start = sc.ends[k]
		res[k] = u
	}
	sc.out = out
	return res
}

// sentenceEnd returns the length of s's first sentence: up to a line break
// or a . ! ? followed by a space, inclusive.
func sentenceEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			return i + 1
		case '.', '!', '?':
			if i+1 < len(s) && s[i+1] == ' ' {
				return i + 1
			}
		}
	}
	return len(s)
}

// sentenceUnits appends the units of the sentence s (at base in the text)
// to out, counting them in nMulti and nSingle.
func (t *PhraseTable) sentenceUnits(sc *phraseScratch, s string, base int, lang string, vi bool, out []Unit, nMulti, nSingle *int) []Unit {
	sc.toks, sc.fold = splitWords(sc.toks[:0], sc.fold[:0], s, lang, t)
	toks := sc.toks
	titleCase := titleCased(toks)
	var isCap func(k int) bool
	isCap = func(k int) bool { // capitalised as evidence of a name
		w := &toks[k]
		if w.num || titleCase[k] {
			return false
		}
		if w.acro {
			return true
		}
		if w.stop {
			// A capitalised stopword inside a name ("Ai Cập", "Bà Rịa").
			return w.cap && !w.sent && !titleCase[k] && k+1 < len(toks) && !toks[k+1].brk && !toks[k+1].stop && isCap(k+1)
		}
		return w.cap && !titleCase[k]
	}
	emit := func(i, j int, name bool, known *phraseEntry) {
		w := toks[i:j]
		start := len(sc.keys)
		for k := range w {
			if k > 0 {
				sc.keys = append(sc.keys, ' ')
			}
			sc.keys = append(sc.keys, sc.fold[w[k].fs:w[k].fe]...)
		}
		key := sc.keys[start:]
		// A dot inside an abbreviation is no part of the name's identity:
		// "TP.HCM" is the topic "TP HCM" is ("tp hcm").
		for k := 1; k+1 < len(key); k++ {
			if key[k] == '.' && isASCIILetter(key[k-1]) && isASCIILetter(key[k+1]) {
				key[k] = ' '
			}
		}
		prev := 0
		for _, e := range sc.ends { // few units a post: a scan beats a map
			if string(sc.keys[prev:e]) == string(key) {
				sc.keys = sc.keys[:start]
				return
			}
			prev = e
		}
		var e phraseEntry
		switch {
		case known != nil:
			e = *known
		case len(w) == 1:
			e = w[0].uni
		default:
			h := unitStart(w[0].h)
			for k := 1; k < len(w); k++ {
				h = unitNext(h, w[k].h)
			}
			e, _ = t.lookup(h)
		}
		if e.df > 0 {
			// The table saw it often enough to say: one unit is one kind,
			// however this post writes it.
			name = e.flags&phName != 0
		}
		sc.ends = append(sc.ends, len(sc.keys))
		out = append(out, Unit{Surface: s[w[0].start:w[len(w)-1].end], Name: name,
			Words: len(w), DF: int(e.df), Start: base + int(w[0].start)})
		if len(w) > 1 || name {
			*nMulti++
		} else {
			*nSingle++
		}
	}
	for i := 0; i < len(toks); {
		w := &toks[i]
		if w.num {
			i++
			continue
		}
		// Longest learned phrase from i, never from a lower-case word into a
		// capitalised one mid-sentence (that is a title before a name).
		L, flags := 0, uint8(0)
		var ent phraseEntry
		var h uint64
		for j := i; j < len(toks) && j-i < maxPhraseWords; j++ {
			var e phraseEntry
			if j > i {
				if toks[j].brk || toks[j].num || !toks[j-1].cap && isCap(j) && !toks[j].sent {
					break
				}
				h = unitNext(h, toks[j].h)
				e, _ = t.lookup(h)
			} else {
				h = unitStart(toks[j].h)
				e = toks[j].uni
			}
			if e.flags&(phPhrase|phPrefix) == 0 {
				break
			}
			if e.flags&phPhrase != 0 {
				L, flags, ent = j-i+1, e.flags, e
			}
		}
		// The capitalised run from i (a name).
		C := 0
		if isCap(i) && (!w.sent || w.acro || i+1 < len(toks) && !toks[i+1].brk && isCap(i+1)) {
			for j := i; j < len(toks) && j-i < maxPhraseWords && (j == i || !toks[j].brk) && isCap(j); j++ {
				C++
			}
		} else if w.sent && !w.stop && !w.num {
			if w.uni.flags&phName != 0 {
				C = 1
			}
		}
		if L < 2 && C == 0 && !w.stop && i+1 < len(toks) && !toks[i+1].brk && isCap(i+1) {
			// A one-word title before a name ("đèo Khánh Lê").
			if w.uni.flags&phTitle != 0 {
				L, flags, ent = 1, w.uni.flags, w.uni
			}
		}
		switch {
		case L >= 1 && L >= C && (L >= 2 || flags&phTitle != 0):
			j := i + L
			name := false
			for k := i; k < j; k++ {
				name = name || isCap(k) && !toks[k].sent
			}
			switch {
			case flags&phTitle != 0 && j < len(toks) && !toks[j].brk && isCap(j):
				for j < len(toks) && j-i < maxUnitWords && (j == i+L || !toks[j].brk) && isCap(j) {
					j++
				}
				emit(i, j, true, nil)
				if j-(i+L) >= 2 {
					// The name alone as well: a learned title is not always
					// part of it ("phố Hải Phòng", "tỉnh Khánh Hòa").
					emit(i+L, j, true, nil)
				}
				i = j
				continue
			case flags&phNumber != 0 && j < len(toks) && !toks[j].brk && toks[j].num:
				j++
			}
			if j == i+L {
				emit(i, j, name, &ent)
			} else {
				emit(i, j, name, nil)
			}
			i = j
		case C >= 1:
			if C >= 2 && w.sent && !w.acro {
				// A sentence's capitalised first word before a name ("Giữa
				// Hà Nội") is not part of it, unless the table knows it as one.
				if w.uni.df > 0 && w.uni.flags&phName == 0 {
					i++
					continue
				}
			}
			emit(i, i+C, true, nil)
			i += C
		default:
			if !vi && !w.stop && !w.num && utf8.RuneCount(sc.fold[w.fs:w.fe]) >= 3 {
				emit(i, i+1, false, nil)
			}
			i++
		}
	}
	return out
}

// titleCased marks the words of sentences written in title case ("Flood
// Photo Is Fake") or in capitals, where a capital says nothing about names.
func titleCased(toks []ptok) []bool {
	var out []bool
	for i := 0; i < len(toks); {
		j := i + 1
		for j < len(toks) && !toks[j].sent {
			j++
		}
		words, caps, acros := 0, 0, 0
		for k := i; k < j; k++ {
			if toks[k].num || toks[k].stop && !toks[k].cap {
				continue
			}
			words++
			if toks[k].cap {
				caps++
			}
			if toks[k].acro {
				acros++
			}
		}
		if words >= 4 && caps*10 >= words*7 {
			if out == nil {
				out = make([]bool, len(toks))
			}
			shouting := acros*10 >= words*7 // all capitals: not even acronyms stand out
			for k := i; k < j; k++ {
				out[k] = shouting || !toks[k].acro
			}
		}
		i = j
	}
	if out == nil {
		return noTitleCase(len(toks))
	}
	return out
}

var falses = make([]bool, 4096)

func noTitleCase(n int) []bool {
	if n <= len(falses) {
		return falses[:n]
	}
	return make([]bool, n)
}

// TrainDoc is one document for TrainPhrases.
type TrainDoc struct {
	Lang string // "vi", "fr", "en"
	Text string
}

// PhraseOptions tune TrainPhrases.
type PhraseOptions struct {
	MinCount int     // occurrences of a phrase (default 3)
	MinLLR   float64 // Dunning log-likelihood ratio of a merged pair (default 10.83, p < 0.001)
	MinDF    int     // documents of a single word kept for its frequency (default 2)
	Passes   int     // merge passes: 2 words, then up to 4, … (default 3)
}

// tunit is a unit during training.
type tunit struct {
	key              string
	words            int
	firstCap, midCap bool // first word capitalised; and not at a sentence start
	lastCap          bool
	sent             bool // starts a sentence
	stopFirst        bool
	stopLast         bool
	num              bool
}

// TrainPhrases learns the phrase table from docs: per language, adjacent
// units are merged when their log-likelihood ratio says they occur together
// far more often than chance, in Passes passes (highest-scoring pairs of a
// segment first, so "đội tuyển" and "việt nam" take their words before
// "tuyển việt" can); a phrase never starts with a number or a stopword,
// never ends with a stopword, and a lower-case word never joins a
// capitalised one mid-sentence (that pattern is learned as a title).
// Then it counts, per unit, documents, capitalisation mid-sentence (names),
// how often a capitalised word follows (titles) and how often a number does.
func TrainPhrases(docs []TrainDoc, o PhraseOptions) *PhraseTable {
	if o.MinCount <= 0 {
		o.MinCount = 3
	}
	if o.MinLLR <= 0 {
		o.MinLLR = 10.83
	}
	if o.MinDF <= 0 {
		o.MinDF = 2
	}
	if o.Passes <= 0 {
		o.Passes = 3
	}
	byLang := map[string][]string{}
	seen := map[string]bool{} // feeds repeat items: count each text once
	for _, d := range docs {
		if seen[d.Text] {
			continue
		}
		seen[d.Text] = true
		l := d.Lang
		if l != LangVI && l != LangFR && l != LangEN {
			l = DetectLang(d.Text)
		}
		byLang[l] = append(byLang[l], d.Text)
	}
	merged := map[string]PhraseRow{}
	t := &PhraseTable{}
	langs := make([]string, 0, len(byLang))
	for l := range byLang {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, l := range langs {
		t.Docs += len(byLang[l])
		for _, r := range trainLang(byLang[l], l, o) {
			if m, ok := merged[r.Key]; ok {
				r.DF += m.DF
				for _, c := range m.Flags {
					if !strings.ContainsRune(r.Flags, c) {
						r.Flags += string(c)
					}
				}
			}
			merged[r.Key] = r
		}
	}
	for _, r := range merged {
		f := []byte(r.Flags)
		slices.Sort(f)
		r.Flags = string(f)
		if r.Flags == "" {
			r.Flags = "-"
		}
		t.rows = append(t.rows, r)
	}
	slices.SortFunc(t.rows, func(a, b PhraseRow) int { return strings.Compare(a.Key, b.Key) })
	t.index()
	return t
}

func trainLang(texts []string, lang string, o PhraseOptions) []PhraseRow {
	vi := lang == LangVI
	// Segments of units: the words between two punctuation marks.
	var segs [][]tunit
	var docSeg []int // first segment of each document
	for _, s := range texts {
		docSeg = append(docSeg, len(segs))
		toks, fold := splitWords(nil, make([]byte, 0, 3*len(s)), s, lang, nil)
		titleCase := titleCased(toks)
		var cur []tunit
		for k, w := range toks {
			if w.brk && len(cur) > 0 {
				segs = append(segs, cur)
				cur = nil
			}
			key := string(fold[w.fs:w.fe])
			if w.num {
				key = "#"
			}
			c := (w.cap || w.acro) && !titleCase[k] && !w.num
			cur = append(cur, tunit{key: key, words: 1, firstCap: c, lastCap: c, midCap: c && !w.sent, sent: w.sent,
				stopFirst: w.stop, stopLast: w.stop, num: w.num})
		}
		if len(cur) > 0 {
			segs = append(segs, cur)
		}
	}
	docSeg = append(docSeg, len(segs))
	// Vietnamese words often start with a syllable that is a stopword on
	// its own ("thế giới", "người dân"); they only may not end with one.
	// A name ("Việt Nam", mostly capitalised mid-sentence) does not take a
	// lower-case word after it ("Việt Nam gặp"); a capitalised word that is
	// mostly a common one does ("Bộ Công an", "Bộ Y tế").
	var isName map[string]bool
	joinable := func(a, b tunit) bool {
		return !a.num && !b.num && (vi || !a.stopFirst) && !b.stopLast && a.words+b.words <= maxPhraseWords &&
			!(!a.lastCap && b.firstCap && !b.sent) && !(vi && a.stopFirst && a.stopLast && a.words == 1 && b.words > 1) &&
			!(isName[a.key] && !b.firstCap && !b.sent)
	}
	for range o.Passes {
		mid, midCap := map[string]int{}, map[string]int{}
		for _, seg := range segs {
			for _, u := range seg {
				if !u.sent {
					mid[u.key]++
					if u.midCap {
						midCap[u.key]++
					}
				}
			}
		}
		isName = map[string]bool{}
		for k, n := range mid {
			if n >= 2 && midCap[k]*2 > n {
				isName[k] = true
			}
		}
		// Counted once a document: a summary repeating its title's words
		// is not more evidence.
		uni := map[string]int{}
		pair := map[[2]string]int{}
		n := 0
		for d := 0; d+1 < len(docSeg); d++ {
			du := map[string]bool{}
			dp := map[[2]string]bool{}
			for _, seg := range segs[docSeg[d]:docSeg[d+1]] {
				for k, u := range seg {
					if !du[u.key] {
						du[u.key] = true
						uni[u.key]++
						n++
					}
					if k > 0 && joinable(seg[k-1], u) {
						p := [2]string{seg[k-1].key, u.key}
						if !dp[p] {
							dp[p] = true
							pair[p]++
						}
					}
				}
			}
		}
		score := map[[2]string]float64{}
		for p, c := range pair {
			if c < o.MinCount {
				continue
			}
			if g := llr(c, uni[p[0]], uni[p[1]], n); g >= o.MinLLR {
				score[p] = g
			}
		}
		if len(score) == 0 {
			break
		}
		for si, seg := range segs {
			for {
				best, bi := 0.0, -1
				for k := 1; k < len(seg); k++ {
					if g, ok := score[[2]string{seg[k-1].key, seg[k].key}]; ok && joinable(seg[k-1], seg[k]) && g > best {
						best, bi = g, k
					}
				}
				if bi < 0 {
					break
				}
				a, b := seg[bi-1], seg[bi]
				seg[bi-1] = tunit{key: a.key + " " + b.key, words: a.words + b.words, firstCap: a.firstCap, midCap: a.midCap,
					lastCap: b.lastCap, sent: a.sent, stopFirst: a.stopFirst, stopLast: b.stopLast}
				seg = slices.Delete(seg, bi, bi+1)
			}
			segs[si] = seg
		}
	}
	type stat struct {
		count, df, mid, midCap, capNext, numNext int
		lastDoc                                  int
	}
	st := map[string]*stat{}
	for d := 0; d+1 < len(docSeg); d++ {
		for _, seg := range segs[docSeg[d]:docSeg[d+1]] {
			for k, u := range seg {
				if u.num {
					continue
				}
				s := st[u.key]
				if s == nil {
					s = &stat{lastDoc: -1}
					st[u.key] = s
				}
				s.count++
				if s.lastDoc != d {
					s.df++
					s.lastDoc = d
				}
				if !u.sent {
					s.mid++
					if u.midCap {
						s.midCap++
					}
				}
				if k+1 < len(seg) {
					nx := seg[k+1]
					if nx.firstCap && !nx.sent && !u.lastCap {
						s.capNext++
					}
					if nx.num && nx.words == 1 {
						s.numNext++
					}
				}
			}
		}
	}
	var rows []PhraseRow
	for key, s := range st {
		words := strings.Count(key, " ") + 1
		var f []byte
		if words > 1 && s.count >= o.MinCount {
			f = append(f, 'p')
		}
		if s.mid >= 2 && s.midCap*2 > s.mid {
			f = append(f, 'n')
		}
		stop := words == 1 && stopFolded(lang)[key]
		// Titles are learned for Vietnamese, where a name needs its head
		// noun ("đèo Khánh Lê", "cô giáo Hương"); an English or French name
		// is capitalised whole ("President Macron"). Half of a title's
		// occurrences must precede a name: verbs and prepositions that
		// often do ("gặp Thái Lan", "ở Hà Nội") stay below.
		if vi && !stop && s.midCap*2 <= s.mid && (s.capNext >= o.MinCount && s.capNext*2 >= s.count || s.capNext >= 2 && s.capNext*4 >= s.count*3) {
			f = append(f, 't')
		}
		if words > 1 && s.numNext >= o.MinCount && s.numNext*2 >= s.count {
			f = append(f, 'd')
		}
		if len(f) == 0 && (words > 1 || s.df < o.MinDF) {
			continue
		}
		rows = append(rows, PhraseRow{Key: key, DF: s.df, Flags: string(f)})
	}
	return rows
}

// llr is Dunning's log-likelihood ratio G² of a 2×2 contingency table: c
// co-occurrences of a then b, a and b occurrences, n units in all. It is 0
// when the pair is less frequent than chance.
func llr(c, a, b, n int) float64 {
	k11 := float64(c)
	k12 := float64(a - c)
	k21 := float64(b - c)
	k22 := float64(n - a - b + c)
	if k11*float64(n) <= float64(a)*float64(b) {
		return 0
	}
	xlx := func(x float64) float64 {
		if x <= 0 {
			return 0
		}
		return x * math.Log(x)
	}
	row1, row2 := k11+k12, k21+k22
	col1, col2 := k11+k21, k12+k22
	tot := row1 + row2
	return 2 * (xlx(k11) + xlx(k12) + xlx(k21) + xlx(k22) - xlx(row1) - xlx(row2) - xlx(col1) - xlx(col2) + xlx(tot))
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
