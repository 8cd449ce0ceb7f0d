package trends

import (
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

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
	k := keySet{seen: make(map[string]struct{}, 16)}
	for i, h := range doc.Hashtags {
		if i >= maxHashtags {
			break
		}
		k.add(schema.TopicHashtag, hashtagKey(h))
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
		k.add(schema.TopicKeyword, strings.ToLower(w))
	}
	// Vietnamese keywords already are syllable pairs; for the other
	// languages the first adjacent content-word pairs are the key phrases.
	if doc.Lang != text.LangVI {
		for i, b := range doc.Bigrams {
			if i >= maxPhrases {
				break
			}
			k.add(schema.TopicKeyword, strings.ReplaceAll(b, "_", " "))
		}
	}
	for _, s := range storyKeys(doc.Text) {
		k.add(schema.TopicStory, s)
	}
	for i, id := range matches {
		if i >= maxFacts {
			break
		}
		k.add(schema.TopicFact, strings.TrimSpace(id))
	}
	return k.keys
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

type keySet struct {
	keys []string
	seen map[string]struct{}
}

func (k *keySet) add(prefix, v string) {
	if len(k.keys) >= MaxKeys {
		return
	}
	v = cleanKey(v)
	if v == "" {
		return
	}
	key := prefix + v
	if len(key) > MaxKeyBytes {
		key = truncateUTF8(key, MaxKeyBytes)
	}
	if _, dup := k.seen[key]; dup {
		return
	}
	k.seen[key] = struct{}{}
	k.keys = append(k.keys, key)
}

// cleanKey makes v safe to carry in a key: valid UTF-8, no control or
// format characters, single spaces, trimmed.
func cleanKey(v string) string {
	clean := true
	for _, r := range v {
		if r == utf8.RuneError || r < ' ' || r == 0x7f || unicode.Is(unicode.Cf, r) || (unicode.IsSpace(r) && r != ' ') {
			clean = false
			break
		}
	}
	if clean && !strings.Contains(v, "  ") {
		return strings.TrimSpace(v)
	}
	var b strings.Builder
	space := false
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

// hashtagKey folds case and Vietnamese diacritics so #HàNội, #hanoi and
// #HaNoi are one topic (social posts often drop the accents).
func hashtagKey(h string) string {
	h = strings.TrimLeft(h, "#＃")
	return text.FoldDiacritics(strings.ToLower(h))
}

// storyKeys returns the LSH band keys of s's MinHash signature over
// content-word bigram shingles, folded so that a repost without accents,
// with a different link or an "RT" prefix lands in the same cluster.
func storyKeys(s string) []string {
	words := storyWords(s)
	if len(words) < storyMinWords {
		return nil
	}
	var sig [storyBands * storyRows]uint64
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
	keys := make([]string, 0, storyBands)
	var buf [1 + 8]byte
	for b := range storyBands {
		h := uint64(fnvOffset)
		for r := range storyRows {
			h = splitmix(h ^ sig[b*storyRows+r])
		}
		buf[0] = 'a' + byte(b)
		hex.Encode(buf[1:], []byte{byte(h >> 56), byte(h >> 48), byte(h >> 40), byte(h >> 32)})
		keys = append(keys, string(buf[:]))
	}
	return keys
}

// storyWords returns the folded, lower-cased content words of s: letters and
// digits only, stopwords of any supported language dropped.
func storyWords(s string) []string {
	s = text.FoldDiacritics(strings.ToLower(s))
	var words []string
	for f := range strings.FieldsFuncSeq(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(f) < 2 || text.IsStopword(f, text.LangEN) || text.IsStopword(f, text.LangFR) || text.IsStopword(f, text.LangVI) {
			continue
		}
		words = append(words, f)
		if len(words) >= 512 { // the opening of a long article identifies it
			break
		}
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
