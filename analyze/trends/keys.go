package trends

import (
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

// Limits on the keys of one post, so that one long or spammy post cannot
// fan out into thousands of events downstream.
const (
	MaxKeys     = 32  // keys per post
	MaxKeyBytes = 256 // bytes per key
	maxHashtags = 8
	maxURLs     = 6
	maxPhrases  = 6 // names and multi-word phrases
	maxKeywords = 5 // single content words (French, English)
	maxFacts    = 5
	// A story key is made of the headline's storyUnits rarest units, each
	// in at most storyMaxDF documents of the phrase table: an everyday
	// unit ("Hà Nội") says nothing about which event a report is about.
	storyUnits    = 2
	storyMaxDF    = 30
	storyMinUnits = 3
	// A post without a title (a tweet, a social post) is keyed instead by
	// the LSH bands of a MinHash over its words (addNearDup): reposts and
	// light edits join, and a reworded variant often shares one band,
	// which on Twitter16 lets a slow cascade be flagged with a faster
	// twin's (one key of its rarest units lost 0.005 of early recall). The
	// trends list shows the bands of one story once (its label).
	storyBands = 3 // near-duplicates (Jaccard 0.8) share a band with p≈0.95
	storyRows  = 2 // MinHash values per band
	// maxLabel bytes of a headline label.
	maxLabel = 160
)

// Keys returns the topic keys of one post, in a stable order, each with a
// schema.Topic* prefix, valid UTF-8 and at most MaxKeyBytes long. doc is
// the text analysis of the post (text.Analyze of title and text); matches
// are the ids of the facts the post matched. It is a pure function of its
// arguments.
func Keys(p schema.Post, doc text.Doc, matches []string) []string {
	k := keyPool.Get().(*keySet)
	defer k.release()
	k.build(p, doc, matches)
	return k.strs()
}

// KeysLabels returns Keys and, aligned with them, this post's display form
// of each: a phrase or name as written (names in their case, other phrases
// in lower case), a story its headline, a hashtag "#Tag" as written, a URL
// the post's title when it is the post's own URL and its host otherwise,
// and "" for a fact (facts are labelled from the facts table). It is a pure
// function of its arguments.
func KeysLabels(p schema.Post, doc text.Doc, matches []string) (keys, labels []string) {
	k := keyPool.Get().(*keySet)
	defer k.release()
	k.labels = make([]string, 0, 16)
	k.build(p, doc, matches)
	return k.strs(), k.labels
}

func (k *keySet) build(p schema.Post, doc text.Doc, matches []string) {
	for i, h := range doc.Hashtags {
		if i >= maxHashtags {
			break
		}
		k.scratch = hashtagKey(k.scratch[:0], h)
		label := ""
		if k.labels != nil {
			label = "#" + h
		}
		k.add(schema.TopicHashtag, unsafeString(k.scratch), label)
	}
	nURL := 0
	addURL := func(raw string, own bool) {
		if raw == "" || nURL >= maxURLs {
			return
		}
		c, err := urlcanon.Canonical(raw)
		if err != nil {
			return
		}
		nURL++
		c = strings.TrimPrefix(strings.TrimPrefix(c, "https://"), "http://")
		label := ""
		if k.labels != nil {
			label = strings.TrimPrefix(c[:strings.IndexByte(c+"/", '/')], "www.")
			if own && p.Title != "" {
				label = headline(p.Title)
			}
		}
		k.add(schema.TopicURL, strings.TrimSuffix(c, "/"), label)
	}
	if p.CanonicalURL != "" {
		addURL(p.CanonicalURL, true)
	} else {
		addURL(p.URL, true)
	}
	for _, u := range doc.URLs {
		addURL(u, false)
	}
	// Only the first few units become keys (and the headline's make the
	// story): a long text is read only until they are found.
	single := maxKeywords
	if doc.Lang == text.LangVI {
		single = 0 // a Vietnamese syllable alone is never a unit
	}
	units := text.Phrases().UnitsN(doc.Text, doc.Lang, maxPhrases, single)
	nPhrases, nWords := 0, 0
	for _, u := range units {
		prefix := schema.TopicKeyword
		if u.Name {
			prefix = schema.TopicEntity
		}
		if u.Words > 1 || u.Name {
			if nPhrases >= maxPhrases {
				continue
			}
			nPhrases++
		} else {
			if nWords >= maxKeywords {
				continue
			}
			nWords++
		}
		label := ""
		if k.labels != nil {
			label = u.Label()
		}
		k.addClean(prefix, u.Key, label)
	}
	if p.Title == "" {
		k.addNearDup(doc.Text)
	} else {
		k.addStory(p, doc, units)
	}
	for i, id := range matches {
		if i >= maxFacts {
			break
		}
		k.add(schema.TopicFact, strings.TrimSpace(id), "")
	}
}

// AnalyzeKeys returns the keys of p, analysing its title and text the way the
// analyzer does.
func AnalyzeKeys(p schema.Post, matches []string) []string {
	return Keys(p, text.Analyze(Body(p), p.Lang), matches)
}

// Body is the text the analyzer reads of p: its title, a line break and
// its text (the title once if the text already starts with it).
func Body(p schema.Post) string {
	if p.Title != "" && !strings.HasPrefix(p.Text, p.Title) {
		return p.Title + "\n" + p.Text
	}
	return p.Text
}

// headline trims s to a one-line label of at most maxLabel bytes, cut at a
// word.
func headline(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if len(s) <= maxLabel {
		return s
	}
	s = truncateUTF8(s, maxLabel)
	if i := strings.LastIndexByte(s, ' '); i > maxLabel/2 {
		s = s[:i]
	}
	return s + "…"
}

// keySet collects the keys of one post in one buffer: a post's keys cost
// one string allocation, not one each. It is pooled, and small enough (at
// most MaxKeys keys) that duplicates are found by a linear scan.
type keySet struct {
	buf     []byte
	ends    []int    // end of each key in buf
	scratch []byte   // a value being built (folded hashtag)
	labels  []string // the keys' labels, when asked for (nil otherwise)
	words   []string // a title-less post's content words (nearDup)
	sig     [storyBands * storyRows]uint64
}

var keyPool = sync.Pool{New: func() any {
	return &keySet{buf: make([]byte, 0, 512), ends: make([]int, 0, MaxKeys), scratch: make([]byte, 0, 1024)}
}}

// release empties k and pools it again, unless one huge post grew it.
func (k *keySet) release() {
	if cap(k.scratch) > 64<<10 {
		return
	}
	k.buf, k.ends, k.scratch, k.labels = k.buf[:0], k.ends[:0], k.scratch[:0], nil
	keyPool.Put(k)
}

// strs returns the keys, copied out of the pooled buffer in one string.
func (k *keySet) strs() []string {
	if len(k.ends) == 0 {
		return nil
	}
	all := string(k.buf)
	out := make([]string, len(k.ends))
	start := 0
	for i, e := range k.ends {
		out[i] = all[start:e]
		start = e
	}
	return out
}

// add appends prefix + cleanKey(v), truncated to MaxKeyBytes, unless it is
// empty, a duplicate or MaxKeys keys are already taken, and its label when
// labels are asked for. v may point into k.scratch: it is copied before
// scratch changes.
func (k *keySet) add(prefix, v, label string) {
	k.addClean(prefix, cleanKey(v), label)
}

// addClean is add for a v that is clean already (a phrase unit's key:
// folded words and single spaces).
func (k *keySet) addClean(prefix, v, label string) {
	if len(k.ends) >= MaxKeys {
		return
	}
	if v == "" {
		return
	}
	start := len(k.buf)
	k.buf = append(append(k.buf, prefix...), v...)
	if n := len(k.buf) - start; n > MaxKeyBytes {
		n = MaxKeyBytes
		for n > 0 && !utf8.RuneStart(k.buf[start+n]) {
			n--
		}
		k.buf = k.buf[:start+n]
	}
	key := k.buf[start:]
	prev := 0
	for _, e := range k.ends {
		if string(k.buf[prev:e]) == string(key) {
			k.buf = k.buf[:start]
			return
		}
		prev = e
	}
	k.ends = append(k.ends, len(k.buf))
	if k.labels != nil {
		k.labels = append(k.labels, cleanKey(label))
	}
}

// unsafeString returns b as a string without copying; b must not change
// while the string is used.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// cleanKey makes v safe to carry in a key: valid UTF-8, no control or
// format characters, single spaces, trimmed.
func cleanKey(v string) string {
	clean := true
	space := false // the previous byte was ' ': "  " needs collapsing
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf { // ASCII: no format characters, every other space is a control
			if c < ' ' || c == 0x7f || c == ' ' && space {
				clean = false
				break
			}
			space = c == ' '
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			clean = false
			break
		}
		space = false
		i += n
	}
	if clean {
		return strings.TrimSpace(v)
	}
	var b strings.Builder
	space = false
	for _, r := range strings.ToValidUTF8(v, "") {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// hashtagKey appends the key of hashtag h to dst, folding case and
// Vietnamese diacritics so #HàNội, #hanoi and #HaNoi are one topic (social
// posts often drop the accents).
func hashtagKey(dst []byte, h string) []byte {
	return text.AppendLowerFold(dst, strings.TrimLeft(h, "#＃"))
}

// addStory adds the story key of a post with a title: its headline's
// storyUnits rarest phrase units (by the phrase table's document
// frequency, then by key), sorted and hashed. Reports of one event by
// different outlets name it with the same rare names and phrases ("đèo
// Khánh Lê", "sạt lở") even when the rest of the wording differs, and
// folding makes an unaccented repost agree; one key a report keeps a story
// one topic. A headline with no rare unit (in at most storyMaxDF
// documents) has no story key, too generic to be one event; one with
// fewer than storyUnits rare units needs storyMinUnits units in all, its
// rarest other units completing the key.
func (k *keySet) addStory(p schema.Post, doc text.Doc, units []text.Unit) {
	var best [storyUnits]*text.Unit
	const want = storyUnits
	// The headline is the text's first line (Body puts the title there).
	headEnd := len(doc.Text)
	if i := strings.IndexByte(doc.Text, '\n'); i >= 0 {
		headEnd = i
	}
	inHead := func(u *text.Unit) bool { return u.Start < headEnd }
	head, rare := 0, 0
	for i := range units {
		if inHead(&units[i]) {
			head++
			if units[i].DF <= storyMaxDF {
				rare++
			}
		}
	}
	if rare == 0 || head < storyMinUnits && rare < storyUnits {
		return
	}
	for i := range units {
		u := &units[i]
		if !inHead(u) || isMention(doc.Mentions, u.Key) {
			continue // "RT @desk:" or a tag does not change which story a text tells
		}
		// Insert into best, kept sorted by (DF, Key).
		for j := range best[:want] {
			if best[j] == nil || u.DF < best[j].DF || u.DF == best[j].DF && u.Key < best[j].Key {
				copy(best[j+1:want], best[j:want])
				best[j] = u
				break
			}
		}
	}
	if best[storyUnits-1] == nil {
		return
	}
	var keys [storyUnits]string
	n := 0
	for _, u := range best[:want] {
		if u != nil {
			keys[n] = u.Key
			n++
		}
	}
	slices.Sort(keys[:n])
	h := uint64(fnvOffset)
	for _, s := range keys[:n] {
		h = fnvMix(s, h)
	}
	h = splitmix(h)
	var buf [8]byte
	hex.Encode(buf[:], []byte{byte(h >> 56), byte(h >> 48), byte(h >> 40), byte(h >> 32)})
	label := ""
	if k.labels != nil {
		label = p.Title
		if label == "" {
			label = firstSentence(doc.Text)
		}
		label = headline(label)
	}
	k.add(schema.TopicStory, unsafeString(buf[:]), label)
}

// isMention reports whether the folded unit key is one of the handles.
func isMention(handles []string, key string) bool {
	for _, h := range handles {
		if len(h) == len(key) && strings.EqualFold(h, key) {
			return true
		}
	}
	return false
}

// firstSentence returns s up to the end of its first sentence or line.
func firstSentence(s string) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			return s[:i]
		case '.', '!', '?':
			if i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n' {
				return s[:i+1]
			}
		}
	}
	return s
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvMix(s string, h uint64) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	h ^= 0xff // separator, so ("ab","c") differs from ("a","bc")
	h *= fnvPrime
	return h
}

// splitmix is the splitmix64 finaliser: a fast, well-mixed 64-bit hash.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// minhashSeeds are fixed so every process computes the same signatures.
var minhashSeeds = func() (s [storyBands * storyRows]uint64) {
	for i := range s {
		s[i] = splitmix(uint64(i+1) * 0x2545f4914f6cdd1d)
	}
	return
}()

// storyWords returns the folded, lower-cased content words of s: letters and
// digits only, stopwords of any supported language dropped. They point into
// k.scratch and k.words.
func (k *keySet) storyWords(s string) []string {
	f := text.AppendLowerFold(k.scratch[:0], s)
	k.scratch = f
	words := k.words[:0]
	start := -1 // of the current word
	for i := 0; i <= len(f); {
		sep, n := true, 1 // the end of f ends a word too
		if i < len(f) {
			if c := f[i]; c < utf8.RuneSelf {
				sep = !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9')
			} else {
				var r rune
				r, n = utf8.DecodeRune(f[i:])
				sep = !unicode.IsLetter(r) && !unicode.IsDigit(r)
			}
		}
		switch {
		case !sep && start < 0:
			start = i
		case sep && start >= 0:
			w := unsafeString(f[start:i])
			start = -1
			if len(w) < 2 || text.IsFoldedStopword(w) {
				break
			}
			words = append(words, w)
			if len(words) >= 512 { // the opening of a long article identifies it
				return words
			}
		}
		i += n
	}
	return words
}

// addNearDup keys a post without a title (a tweet, a social post) by the
// LSH bands of its MinHash signature over folded content-word pairs:
// reposts and light edits share a band (Jaccard 0.8 with p≈0.95), and a
// reworded variant of a claim often still shares one, which is what gives
// a slow cascade the chance to be flagged with a faster twin's.
func (k *keySet) addNearDup(s string) {
	k.words = k.storyWords(s)
	words := k.words
	if len(words) < storyMinUnits {
		return
	}
	label := ""
	if k.labels != nil {
		label = headline(firstSentence(s))
	}
	sig := &k.sig
	for i := range sig {
		sig[i] = ^uint64(0)
	}
	for i := 0; i+1 < len(words); i++ {
		if words[i] == words[i+1] {
			continue // "ha ha": repetition says nothing about the story
		}
		sh := fnvMix(words[i], fnvMix(words[i+1], fnvOffset)) // ordered pair
		for j := range sig {
			if h := splitmix(sh ^ minhashSeeds[j]); h < sig[j] {
				sig[j] = h
			}
		}
	}
	var buf [1 + 8]byte
	for b := range storyBands {
		h := uint64(fnvOffset)
		for r := range storyRows {
			h = splitmix(h ^ sig[b*storyRows+r])
		}
		buf[0] = 'a' + byte(b)
		hex.Encode(buf[1:], []byte{byte(h >> 56), byte(h >> 48), byte(h >> 40), byte(h >> 32)})
		k.add(schema.TopicStory, unsafeString(buf[:]), label)
	}
}
