package trends

import (
	"encoding/hex"
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
	MaxKeys       = 32  // keys per post
	MaxKeyBytes   = 256 // bytes per key
	maxHashtags   = 8
	maxURLs       = 6
	maxEntities   = 5
	maxKeywords   = 5
	maxPhrases    = 3
	maxFacts      = 5
	storyBands    = 3 // LSH bands: near-duplicates (Jaccard 0.8) share a band with p≈0.95
	storyRows     = 2 // MinHash values per band
	storyMinWords = 3 // fewer content words than this are too generic to be a story
)

// Keys returns the topic keys of one post, in a stable order, each with a
// schema.Topic* prefix, valid UTF-8 and at most MaxKeyBytes long. doc is
// the text analysis of the post (text.Analyze of title and text); matches
// are the ids of the facts the post matched. It is a pure function of its
// arguments.
func Keys(p schema.Post, doc text.Doc, matches []string) []string {
	k := keyPool.Get().(*keySet)
	defer k.release()
	for i, h := range doc.Hashtags {
		if i >= maxHashtags {
			break
		}
		k.addHashtag(h)
	}
	nURL := 0
	addURL := func(raw string) {
		if raw == "" || nURL >= maxURLs {
			return
		}
		if c, err := urlcanon.Canonical(raw); err == nil {
			nURL++
			c = strings.TrimPrefix(strings.TrimPrefix(c, "https://"), "http://")
			k.add(schema.TopicURL, strings.TrimSuffix(c, "/"))
		}
	}
	if p.CanonicalURL != "" {
		addURL(p.CanonicalURL)
	} else {
		addURL(p.URL)
	}
	for _, u := range doc.URLs {
		addURL(u)
	}
	// analyze/text marks Vietnamese entities syllable by syllable ("hà",
	// "nội"): alone they name nothing, and the syllable-pair keywords below
	// already carry "hà nội".
	if doc.Lang != text.LangVI {
		for i, e := range doc.Entities {
			if i >= maxEntities {
				break
			}
			k.add(schema.TopicEntity, e)
		}
	}
	for i, w := range doc.Keywords {
		if i >= maxKeywords {
			break
		}
		k.scratch = text.AppendLower(k.scratch[:0], w)
		k.add(schema.TopicKeyword, unsafeString(k.scratch))
	}
	// Vietnamese keywords already are syllable pairs; for the other
	// languages the first adjacent content-word pairs are the key phrases.
	if doc.Lang != text.LangVI {
		for i, b := range doc.Bigrams {
			if i >= maxPhrases {
				break
			}
			k.addPhrase(b)
		}
	}
	k.addStory(doc.Text)
	for i, id := range matches {
		if i >= maxFacts {
			break
		}
		k.add(schema.TopicFact, strings.TrimSpace(id))
	}
	return k.strs()
}

// AnalyzeKeys returns the keys of p, analysing its title and text the way the
// analyzer does.
func AnalyzeKeys(p schema.Post, matches []string) []string {
	body := p.Text
	if p.Title != "" && !strings.HasPrefix(p.Text, p.Title) {
		body = p.Title + "\n" + p.Text
	}
	return Keys(p, text.Analyze(body, p.Lang), matches)
}

// keySet collects the keys of one post in one buffer: a post's keys cost
// one string allocation, not one each. It is pooled, and small enough (at
// most MaxKeys keys) that duplicates are found by a linear scan.
type keySet struct {
	buf     []byte
	ends    []int  // end of each key in buf
	scratch []byte // a value being built (folded hashtag, phrase, story words)
	words   []string
	sig     [storyBands * storyRows]uint64
}

var keyPool = sync.Pool{New: func() any {
	return &keySet{buf: make([]byte, 0, 512), ends: make([]int, 0, MaxKeys), scratch: make([]byte, 0, 1024)}
}}

// release empties k and pools it again, unless one huge post grew it.
func (k *keySet) release() {
	if cap(k.scratch) > 64<<10 || cap(k.words) > 1024 {
		return
	}
	clear(k.words) // they point into scratch, but keep the pool from pinning anything else
	k.buf, k.ends, k.scratch, k.words = k.buf[:0], k.ends[:0], k.scratch[:0], k.words[:0]
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
// empty, a duplicate or MaxKeys keys are already taken. v may point into
// k.scratch: it is copied before scratch changes.
func (k *keySet) add(prefix, v string) {
	if len(k.ends) >= MaxKeys {
		return
	}
	v = cleanKey(v)
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
}

// addHashtag adds the key of hashtag h.
func (k *keySet) addHashtag(h string) {
	k.scratch = hashtagKey(k.scratch[:0], h)
	k.add(schema.TopicHashtag, unsafeString(k.scratch))
}

// addPhrase adds the keyword of the bigram b ("a_b" → "a b").
func (k *keySet) addPhrase(b string) {
	s := k.scratch[:0]
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '_' {
			c = ' '
		}
		s = append(s, c)
	}
	k.scratch = s
	k.add(schema.TopicKeyword, unsafeString(s))
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

// addStory adds the LSH band keys of s's MinHash signature over
// content-word bigram shingles, folded so that a repost without accents,
// with a different link or an "RT" prefix lands in the same cluster.
func (k *keySet) addStory(s string) {
	k.words = k.storyWords(s)
	words := k.words
	if len(words) < storyMinWords {
		return
	}
	sig := &k.sig
	for i := range sig {
		sig[i] = ^uint64(0)
	}
	for i := 0; i+1 < len(words); i++ {
		if words[i] == words[i+1] {
			// "url url", "ha ha": repetition says nothing about the story,
			// and one such frequent shingle with a low hash would otherwise
			// pull every text containing it into one cluster.
			continue
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
		k.add(schema.TopicStory, unsafeString(buf[:]))
	}
}

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
