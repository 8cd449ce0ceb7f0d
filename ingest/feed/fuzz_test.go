package feed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

// seedCaptures adds every real capture and local fixture to the corpus.
func seedCaptures(f *testing.F) {
	f.Helper()
	paths, _ := filepath.Glob("testdata/*.xml")
	more, _ := filepath.Glob("testdata/*.json")
	paths = append(paths, more...)
	if dir, err := testdata.Find(); err == nil {
		caps, _ := filepath.Glob(filepath.Join(dir, "feeds", "captured", "*"))
		paths = append(paths, caps...)
	}
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 { // large captures slow every exec and minimisation
			f.Add(b, "")
		}
	}
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"windows-1258\"?><rss><channel><item><title>H\xe0 N\xf4\xf2i</title></item></channel></rss>"), "")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1","items":[{"id":"1","content_text":"x"}]}`), "application/feed+json")
}

// FuzzParse: any input either fails with an error or yields posts that
// validate, are valid NFC UTF-8 within the schema limits, and carry ids.
func FuzzParse(f *testing.F) {
	seedCaptures(f)
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		res, err := Parse(body, Meta{Source: "https://fuzz.example/feed", ContentType: ctype, Fetched: fetched})
		if err != nil {
			return
		}
		for _, p := range res.Posts {
			if err := p.Validate(); err != nil {
				t.Fatalf("invalid post %+v: %v", p, err)
			}
			if len(p.Text) > 64<<10 || len(p.Title) > 2<<10 || len(p.ID) != 32 {
				t.Fatalf("limits: text %d title %d id %q", len(p.Text), len(p.Title), p.ID)
			}
			if !norm.NFC.IsNormalString(p.Title) || !norm.NFC.IsNormalString(p.Author) {
				t.Fatalf("not NFC: %q", p.Title)
			}
			if p.Published.After(fetched.Add(24*60*60*1e9)) || p.Published.IsZero() {
				t.Fatalf("published %v", p.Published)
			}
			// The canonical URL is a fixed point and decides the id, so a
			// second collector reaching the same article agrees on it.
			if p.CanonicalURL != "" {
				if again, err := urlcanon.Canonical(p.CanonicalURL); err != nil || again != p.CanonicalURL {
					t.Fatalf("canonical URL %q not stable: %q %v", p.CanonicalURL, again, err)
				}
				if p.ID != schema.PostID(p.CanonicalURL, "", "") {
					t.Fatalf("id of %q not derived from its canonical URL", p.CanonicalURL)
				}
			}
		}
	})
}

// FuzzHTMLText: text output is valid UTF-8 and NFC, trimmed, never has
// more than one blank line in a row, and never grows beyond the U+FFFD
// replacement of every input byte.
func FuzzHTMLText(f *testing.F) {
	for _, s := range []string{"<p>a</p><p>b</p>", "&lt;p&gt;x&lt;/p&gt;", "a<script>x</script>b", "Ho\u0300a", "<ul><li>1<li>2</ul>", "\xff\xfe<b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := HTMLText(in)
		if !utf8.ValidString(out) || !norm.NFC.IsNormalString(out) {
			t.Fatalf("HTMLText(%q) = %q: not valid NFC UTF-8", in, out)
		}
		if out != strings.TrimSpace(out) || strings.Contains(out, "\n\n\n") {
			t.Fatalf("HTMLText(%q) = %q: untidy white space", in, out)
		}
		if len(out) > 3*len(in) {
			t.Fatalf("HTMLText grew %d -> %d bytes", len(in), len(out))
		}
	})
}

// FuzzToUTF8: the output is always valid UTF-8 and a declaration, if
// any, says UTF-8.
func FuzzToUTF8(f *testing.F) {
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe9</a>"), "")
	f.Add([]byte("\xfe\xff\x00<\x00a"), "text/xml; charset=utf-16")
	f.Add([]byte("plain"), "text/plain; charset=koi8-r")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		out, enc, err := ToUTF8(body, ctype)
		if err != nil {
			return
		}
		if !utf8.Valid(out) {
			t.Fatalf("ToUTF8 (%s) produced invalid UTF-8", enc)
		}
		if m := xmlDecl.FindSubmatch(out); m != nil && string(m[2]) != "UTF-8" {
			t.Fatalf("declaration still says %s", m[2])
		}
	})
}
