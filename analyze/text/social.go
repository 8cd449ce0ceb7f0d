package text

import (
	"html"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Social is a post after social clean-up: the prose left for analysis and
// the markup taken out of it.
type Social struct {
	Text            string   // prose: links removed, handles and hashtags turned into words
	URLs            []string // links as written
	Mentions        []string // @handles without the @
	Hashtags        []string // #tags without the #
	SignatureName   string   // "Name" of a trailing "— Name (@handle) Month D, YYYY"
	SignatureHandle string   // "handle" of that signature
	SignatureDate   string   // "Month D, YYYY" of that signature
}

// signatureRE matches the signature embedded tweets end with. It runs on the
// last few hundred bytes only, so its cost does not grow with the post.
var signatureRE = regexp.MustCompile(`(?:—|–|--)\s*([^—–()\n]{0,80}?)\s*\(@(\w{1,30})\)\s*((?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2},\s+\d{4})\W{0,3}$`)

// Clean applies the social clean-up to s. It never fails: unknown markup is
// left as text. Invalid UTF-8 is replaced by U+FFFD.
func Clean(s string) Social {
	var out Social
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, '&') >= 0 && strings.IndexByte(s, ';') >= 0 {
		s = html.UnescapeString(s)
	}
	s = strings.TrimSpace(s)
	if i := lastParenAt(s); i >= 0 {
		start := max(0, i-160)
		for start > 0 && !utf8.RuneStart(s[start]) {
			start--
		}
		if m := signatureRE.FindStringSubmatchIndex(s[start:]); m != nil {
			out.SignatureName = strings.TrimSpace(s[start+m[2] : start+m[3]])
			out.SignatureHandle = s[start+m[4] : start+m[5]]
			out.SignatureDate = s[start+m[6] : start+m[7]]
			s = s[:start+m[0]]
		}
	}
	if len(s) >= 3 && (s[:3] == "RT " || s[:3] == "rt ") {
		s = s[3:]
	}

	// The text is copied only from the first markup on: most posts have
	// none, and then Text is a slice of s.
	bp := scratchPool.Get().(*[]byte)
	ml := markupPool.Get().(*markupLists)
	defer ml.release()
	var b []byte // nil while the text is s[:i]
	copied := func(i int) []byte {
		if b == nil {
			b = append((*bp)[:0], s[:i]...)
		}
		return b
	}
	prev := ' '
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if isWordRune(prev) {
			// A rune after a word rune is text, whatever it is; so is each
			// ASCII byte after it while the one before is a word rune:
			// take such a run at once.
			j := i + n
			for j < len(s) && s[j] < utf8.RuneSelf && isWordRune(r) {
				r = rune(s[j])
				j++
			}
			if b != nil {
				b = append(b, s[i:j]...)
			}
			prev = r
			i = j
			continue
		}
		if n := urlLen(s[i:]); n > 0 {
			ml.urls = append(ml.urls, strings.TrimRight(s[i:i+n], ".,;:!?)\"'”"))
			b = append(copied(i), ' ')
			i += n
			prev = ' '
			continue
		}
		if c := s[i]; c == '@' || c == '#' {
			n := tagLen(s[i+1:], c == '@')
			if n > 0 {
				tag := s[i+1 : i+1+n]
				if c == '@' {
					ml.mentions = append(ml.mentions, tag)
				} else {
					ml.hashtags = append(ml.hashtags, tag)
				}
				b = appendSplitCamel(append(copied(i), ' '), tag)
				b = append(b, ' ')
				i += 1 + n
				prev = ' '
				continue
			}
		}
		if b != nil {
			b = append(b, s[i:i+n]...)
		}
		prev = r
		i += n
	}
	ml.copyOut(&out)
	if b == nil {
		out.Text = strings.TrimSpace(s)
		scratchPool.Put(bp)
	} else {
		out.Text = strings.TrimSpace(string(b))
		putScratch(bp, b)
	}
	return out
}

// markupLists collects the markup Clean takes out; the lists are copied
// out once at the end, in one allocation, instead of growing one by one.
type markupLists struct {
	urls, mentions, hashtags []string
}

var markupPool = sync.Pool{New: func() any { return new(markupLists) }}

// copyOut sets out's lists: nil when empty, each capped at its length so
// appending to one cannot write into the next.
func (ml *markupLists) copyOut(out *Social) {
	nu, nm, nh := len(ml.urls), len(ml.mentions), len(ml.hashtags)
	if nu+nm+nh == 0 {
		return
	}
	all := make([]string, 0, nu+nm+nh)
	all = append(append(append(all, ml.urls...), ml.mentions...), ml.hashtags...)
	if nu > 0 {
		out.URLs = all[:nu:nu]
	}
	if nm > 0 {
		out.Mentions = all[nu : nu+nm : nu+nm]
	}
	if nh > 0 {
		out.Hashtags = all[nu+nm:]
	}
}

// release empties ml and pools it again.
func (ml *markupLists) release() {
	if cap(ml.urls)+cap(ml.mentions)+cap(ml.hashtags) > 4096 {
		return // one huge post: let it go
	}
	clear(ml.urls) // drop the strings
	clear(ml.mentions)
	clear(ml.hashtags)
	ml.urls, ml.mentions, ml.hashtags = ml.urls[:0], ml.mentions[:0], ml.hashtags[:0]
	markupPool.Put(ml)
}

// lastParenAt is strings.LastIndex(s, "(@"), looking for an '@' at all
// first: most posts have none, and IndexByte is much cheaper than
// LastIndex's backward search.
func lastParenAt(s string) int {
	if strings.IndexByte(s, '@') < 0 {
		return -1
	}
	return strings.LastIndex(s, "(@")
}

// urlLen returns the length of the link starting s, or 0.
func urlLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] { // every prefix below starts with one of these
	case 'h', 'H', 'w', 'W', 'p', 'P':
	default:
		return 0
	}
	if !hasPrefixFold(s, "http://") && !hasPrefixFold(s, "https://") && !hasPrefixFold(s, "www.") &&
		!hasPrefixFold(s, "pic.twitter.com/") {
		return 0
	}
	n := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || r == '<' || r == '>' })
	if n < 0 {
		n = len(s)
	}
	return n
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// tagLen returns the length of the handle or hashtag body at the start of s.
// Handles are ASCII word characters; hashtags may use any letter.
func tagLen(s string, handle bool) int {
	n := 0
	for n < len(s) {
		r, w := utf8.DecodeRuneInString(s[n:])
		ok := r == '_' || r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		if !handle && !ok {
			ok = unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		}
		if !ok {
			break
		}
		n += w
	}
	return n
}

// appendSplitCamel appends s to b split into words: "AustralianFires" or
// "joe_biden" become words, so a hashtag or handle matches the same words
// written in prose.
func appendSplitCamel(b []byte, s string) []byte {
	var prev rune
	for i, r := range s {
		if r == '_' {
			b = append(b, ' ')
			prev = ' '
			continue
		}
		if i > 0 && (unicode.IsUpper(r) && unicode.IsLower(prev) ||
			unicode.IsDigit(r) != unicode.IsDigit(prev) && prev != ' ') {
			b = append(b, ' ')
		}
		b = utf8.AppendRune(b, r)
		prev = r
	}
	return b
}
