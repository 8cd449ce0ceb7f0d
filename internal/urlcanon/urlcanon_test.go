package urlcanon

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCanonical(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, err := Canonical(in)
		if err != nil {
			t.Fatalf("Canonical(%q): %v", in, err)
		}
		if got != want {
			t.Fatalf("Canonical(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	f("https://vnexpress.net/tin-tuc-123.html", "https://vnexpress.net/tin-tuc-123.html")
	f("http://VNExpress.NET/tin-tuc-123.html#comments", "https://vnexpress.net/tin-tuc-123.html")
	f("https://www.lemonde.fr/politique/article/2024/x.html?utm_source=twitter&utm_medium=social", "https://lemonde.fr/politique/article/2024/x.html")
	f("https://m.tuoitre.vn/abc-2024.htm?fbclid=IwAR0x", "https://tuoitre.vn/abc-2024.htm")
	f("https://amp.theguardian.com/world/2024/story", "https://theguardian.com/world/2024/story")
	f("https://www.bbc.com/news/world-123/amp", "https://bbc.com/news/world-123")
	f("https://example.com/amp/news/story", "https://example.com/news/story")
	f("https://thanhnien.vn/bai-viet.amp", "https://thanhnien.vn/bai-viet")
	f("https://site.org/a/story.amp.html", "https://site.org/a/story.html")
	f("https://example-com.cdn.ampproject.org/c/s/example.com/news/story", "https://example.com/news/story")
	f("https://example.com:443/a/?b=2&a=1&gclid=x", "https://example.com/a?a=1&b=2")
	f("https://example.com:8443/a", "https://example.com:8443/a")
	f("https://example.com/", "https://example.com")
	f("https://example.com//a//b/", "https://example.com/a/b")
	f("https://youtube.com/watch?v=abc&feature=share&si=xyz", "https://youtube.com/watch?v=abc")
	f("https://m.example.co.uk/x", "https://example.co.uk/x")
	f("https://www.co/x", "https://www.co/x") // a two-label host keeps its label
	f("http://127.0.0.1:8080/feed", "https://127.0.0.1:8080/feed")
	f("https://news.example.com/p?id=1&ID=2", "https://news.example.com/p?ID=2&id=1")
}

func TestCanonicalRejects(t *testing.T) {
	for _, in := range []string{"", "mailto:a@b.c", "ftp://x/y", "/relative/path", "https://", "javascript:alert(1)", "http://%zz"} {
		if got, err := Canonical(in); err == nil {
			t.Errorf("Canonical(%q) = %q, want error", in, got)
		}
	}
}

func TestHost(t *testing.T) {
	if h := Host("https://example.com:8443/a"); h != "example.com" {
		t.Fatalf("Host = %q", h)
	}
}

// FuzzCanonical: never panics, output is valid UTF-8, parses, and
// canonicalising twice changes nothing.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"https://www.lemonde.fr/a?utm_source=x#f", "http://m.tuoitre.vn/amp/x", "https://[::1]:80/a", "https://a.b/%41?x=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Canonical(in)
		if err != nil {
			return
		}
		if !utf8.ValidString(got) || !strings.HasPrefix(got, "https://") {
			t.Fatalf("bad output %q", got)
		}
		if _, err := url.Parse(got); err != nil {
			t.Fatalf("output %q does not parse: %v", got, err)
		}
		again, err := Canonical(got)
		if err != nil {
			t.Fatalf("canonical %q rejected: %v", got, err)
		}
		if again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, got, again)
		}
	})
}
