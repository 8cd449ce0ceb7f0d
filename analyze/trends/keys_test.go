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
	// Hashtags fold case and Vietnamese accents; names are one key, folded.
	f("Ngập nặng ở #HàNội sau cơn mưa", "vi", "", nil, []string{"#hanoi"}, []string{"ent:hà", "ent:nội", "kw:ngập", "kw:mưa"})
	f("Mưa lớn ở #HaNoi", "vi", "", nil, []string{"#hanoi"}, nil)
	// Vietnamese phrase units: multi-syllable names and learned phrases,
	// a title before a name, never a lone common syllable, a number or a
	// pair that cuts across words.
	f("Sạt lở nghiêm trọng trên đèo Khánh Lê chia cắt Khánh Hòa và Lâm Đồng", "vi", "", nil,
		[]string{"kw:sat lo", "ent:deo khanh le", "ent:khanh hoa"}, []string{"kw:lo deo", "kw:deo khanh", "kw:le chia", "kw:sat", "kw:lo"})
	f("Người hâm mộ tiếp lửa đội tuyển Việt Nam trước trận gặp Thái Lan ngày 2-9", "vi", "", nil,
		[]string{"ent:doi tuyen viet nam", "ent:thai lan"}, []string{"kw:tuyen viet", "kw:lan ngay", "kw:2-9", "kw:2 9"})
	// Canonical URLs: tracking parameters, fragments, AMP and scheme folded.
	f("Read this https://www.Example.com/news/story?utm_source=tw#top", "en", "", nil, []string{"url:example.com/news/story"}, nil)
	f("Vaccine story", "en", "http://example.com/news/story/amp?fbclid=x", nil, []string{"url:example.com/news/story"}, nil)
	// Names, phrases and content words, language-aware (stopwords dropped).
	f("Officials in Houston said the flood photo was fake", "en", "", nil,
		[]string{"ent:houston", "kw:officials", "kw:photo"}, []string{"kw:the", "kw:was", "kw:said the"})
	f("Le gouvernement dément la rumeur sur Emmanuel Macron", "fr", "", nil, []string{"kw:gouvernement", "kw:rumeur", "ent:emmanuel macron"}, []string{"kw:la", "kw:sur"})
	// Matched facts.
	f("anything at all here", "en", "", []string{"snopes-123", " "}, []string{"fact:snopes-123"}, []string{"fact:"})
	// Nothing to key on.
	f("", "", "", nil, nil, nil)
}

// TestStoryKeysJoinReposts: reposts of one title-less text (a social post)
// share a story key, one of its storyBands LSH bands; a different story
// shares none.
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
		if len(a) != storyBands || len(b) != storyBands {
			t.Fatalf("story keys %q / %q, want %d each", a, b, storyBands)
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

// TestKeysLabels: labels align with keys; one spelling is one key whatever
// the accents and case; a story is one key labelled with the headline.
func TestKeysLabels(t *testing.T) {
	kl := func(p schema.Post) map[string]string {
		t.Helper()
		keys, labels := KeysLabels(p, text.Analyze(Body(p), p.Lang), []string{"f1"})
		if len(keys) != len(labels) {
			t.Fatalf("%d keys, %d labels", len(keys), len(labels))
		}
		if plain := AnalyzeKeys(p, []string{"f1"}); !slices.Equal(plain, keys) {
			t.Fatalf("Keys %q != KeysLabels %q", plain, keys)
		}
		m := map[string]string{}
		for i, k := range keys {
			m[k] = labels[i]
		}
		return m
	}
	p := schema.Post{Lang: "vi", URL: "https://vnexpress.net/mua-lon-hai-phong.html", Title: "Mưa lớn ở Hải Phòng, #BãoYagi gây sạt lở",
		Text: "Chiều 7-9, mưa lớn kéo dài khiến nhiều tuyến phố Hải Phòng ngập sâu. Bão Yagi đổ bộ."}
	m := kl(p)
	want := map[string]string{"ent:hai phong": "Hải Phòng", "#baoyagi": "#BãoYagi", "kw:sat lo": "sạt lở",
		"url:vnexpress.net/mua-lon-hai-phong.html": p.Title, "fact:f1": ""}
	for k, l := range want {
		if got, ok := m[k]; !ok || got != l {
			t.Errorf("key %s: label %q (present %v), want %q; all %q", k, got, ok, l, m)
		}
	}
	stories := 0
	for k, l := range m {
		if strings.HasPrefix(k, schema.TopicStory) {
			stories++
			if l != p.Title {
				t.Errorf("story label %q", l)
			}
		}
	}
	if stories != 1 {
		t.Errorf("%d story keys, want 1: %q", stories, m)
	}
	// Unaccented, lower-case: the same keys for the same names.
	q := schema.Post{Lang: "vi", Title: "mua lon o hai phong, bao yagi gay sat lo", Text: "nhieu tuyen pho ngap sau"}
	mq := kl(q)
	for _, k := range []string{"ent:hai phong", "kw:sat lo"} {
		if _, ok := mq[k]; !ok {
			t.Errorf("unaccented post lacks %s: %q", k, mq)
		}
	}
}
