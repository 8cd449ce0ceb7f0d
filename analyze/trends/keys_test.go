package trends

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

func keysOf(txt, lang, url string, facts ...string) []string {
	return AnalyzeKeys(schema.Post{Text: txt, Lang: lang, URL: url}, facts)
}

func TestKeys(t *testing.T) {
	f := func(txt, lang, url string, facts []string, want, notWant []string) {
		t.Helper()
		got := keysOf(txt, lang, url, facts...)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("Keys(%q) = %q, missing %q", txt, got, w)
			}
		}
		for _, w := range notWant {
			if slices.Contains(got, w) {
				t.Errorf("Keys(%q) = %q, has %q", txt, got, w)
			}
		}
	}
	// Hashtags fold case and Vietnamese accents.
	f("Ngập nặng ở #HàNội sau cơn mưa", "vi", "", nil, []string{"#hanoi", "kw:ngập nặng"}, []string{"ent:hà", "ent:nội"})
	f("Mưa lớn ở #HaNoi", "vi", "", nil, []string{"#hanoi"}, nil)
	// Canonical URLs: tracking parameters, fragments, AMP and scheme folded.
	f("Read this https://www.Example.com/news/story?utm_source=tw#top", "en", "", nil, []string{"url:example.com/news/story"}, nil)
	f("Vaccine story", "en", "http://example.com/news/story/amp?fbclid=x", nil, []string{"url:example.com/news/story"}, nil)
	// Entities, keywords and phrases, language-aware (stopwords dropped).
	f("Officials in Houston said the flood photo was fake", "en", "", nil,
		[]string{"ent:houston", "kw:officials", "kw:photo"}, []string{"kw:the", "kw:was", "kw:said the"})
	f("Le gouvernement dément la rumeur sur Emmanuel Macron", "fr", "", nil, []string{"kw:gouvernement", "kw:rumeur", "ent:macron"}, []string{"kw:la", "kw:sur"})
	// Matched facts.
	f("anything at all here", "en", "", []string{"snopes-123", " "}, []string{"fact:snopes-123"}, []string{"fact:"})
	// Nothing to key on.
	f("", "", "", nil, nil, nil)
}

// TestStoryKeysJoinReposts: reposts of one text share a story key; a
// different story shares none.
func TestStoryKeysJoinReposts(t *testing.T) {
	story := func(s string) []string {
		var out []string
		for _, k := range keysOf(s, "", "") {
			if strings.HasPrefix(k, schema.TopicStory) {
				out = append(out, k)
			}
		}
		return out
	}
	base := "Viral photo of a shark swimming on a flooded highway in Houston is fake, the image dates from 2011"
	f := func(variant string, wantShared bool) {
		t.Helper()
		a, b := story(base), story(variant)
		if len(a) != 1 || len(b) != 1 {
			t.Fatalf("story keys %q / %q, want 1 each", a, b)
		}
		shared := false
		for _, k := range b {
			shared = shared || slices.Contains(a, k)
		}
		if shared != wantShared {
			t.Errorf("shared=%v for %q\n  %q vs %q", shared, variant, a, b)
		}
	}
	f(base, true)
	f("RT @newsdesk: "+base+" https://t.co/abc", true)
	f(strings.ToUpper(base), true)
	f(base+" #fake", true)
	f("Viral photo of a shark swimming on a flooded highway in Houston is fake, the image is from 2011", true)
	f("Mayor announces new bus lines for the northern districts starting next Monday morning", false)
	// Vietnamese with and without accents.
	vi := "Cảnh báo tin giả về việc phát tiền hỗ trợ cho người dân Hà Nội"
	a, b := story(vi), story(text.FoldDiacritics(vi))
	if !slices.Equal(a, b) {
		t.Errorf("accentless repost not joined: %q vs %q", a, b)
	}
	if len(story("fake news")) != 0 {
		t.Errorf("two words made a story key")
	}
}

func FuzzKeys(f *testing.F) {
	for _, s := range []string{
		"Ngập nặng ở #HàNội sau cơn mưa https://vnexpress.net/a.html?utm_source=x",
		"RT @bbc: Officials in Houston said the photo was fake #Flood",
		"\xff\xfe#\u200b\u0000 http://[::1]:80/%zz",
		"#" + strings.Repeat("a", 600),
		strings.Repeat("#tag ", 100) + strings.Repeat("https://e.com/x ", 50),
	} {
		f.Add(s, "", "https://example.com/p?utm_medium=1", "fact-1")
	}
	f.Fuzz(func(t *testing.T, s, lang, url, fact string) {
		p := schema.Post{Text: s, Lang: lang, URL: url, Title: s[:len(s)/3]}
		keys := AnalyzeKeys(p, []string{fact})
		if len(keys) > MaxKeys {
			t.Fatalf("%d keys > %d", len(keys), MaxKeys)
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if !utf8.ValidString(k) || len(k) > MaxKeyBytes || seen[k] {
				t.Fatalf("bad or duplicate key %q", k)
			}
			seen[k] = true
			ok := false
			for _, pre := range []string{schema.TopicHashtag, schema.TopicURL, schema.TopicKeyword, schema.TopicEntity, schema.TopicStory, schema.TopicFact} {
				if strings.HasPrefix(k, pre) && len(k) > len(pre) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("key %q has no known prefix or is empty", k)
			}
			for _, r := range k {
				if r < ' ' || r == 0x7f {
					t.Fatalf("control character in key %q", k)
				}
			}
		}
		// Pure: the same post gives the same keys.
		if again := AnalyzeKeys(p, []string{fact}); !slices.Equal(keys, again) {
			t.Fatalf("keys differ between calls: %q vs %q", keys, again)
		}
	})
}
