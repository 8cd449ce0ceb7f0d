package feed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

var fetched = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// golden is a compact, reviewable summary of a parsed capture: the
// fields we derive, with text as length and hash so the research data
// itself is not copied into the repository.
type golden struct {
	Error    string       `json:"error,omitempty"`
	Title    string       `json:"title,omitempty"`
	Lang     string       `json:"lang,omitempty"`
	Encoding string       `json:"encoding,omitempty"`
	Items    int          `json:"items"`
	Skipped  int          `json:"skipped,omitempty"`
	UniqueID int          `json:"unique_ids"`
	First    []goldenPost `json:"first,omitempty"`
}

type goldenPost struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	URL       string `json:"url"`
	Canonical string `json:"canonical_url"`
	Author    string `json:"author,omitempty"`
	Lang      string `json:"lang,omitempty"`
	Published string `json:"published"`
	TextLen   int    `json:"text_len"`
	TextHash  string `json:"text_sha256"`
}

func summarize(res *Result, err error) golden {
	if err != nil {
		return golden{Error: err.Error()}
	}
	g := golden{Title: res.Title, Lang: res.Lang, Encoding: res.Encoding, Items: len(res.Posts), Skipped: res.Skipped}
	ids := map[string]bool{}
	for i, p := range res.Posts {
		ids[p.ID] = true
		if i < 3 {
			sum := sha256.Sum256([]byte(p.Text))
			g.First = append(g.First, goldenPost{ID: p.ID, Title: p.Title, URL: p.URL, Canonical: p.CanonicalURL, Author: p.Author,
				Lang: p.Lang, Published: p.Published.Format(time.RFC3339), TextLen: len(p.Text), TextHash: hex.EncodeToString(sum[:8])})
		}
	}
	g.UniqueID = len(ids)
	return g
}

// TestCaptures parses every real-world capture: each either yields posts
// that validate, or is reported as ErrNotFeed. Summaries are compared
// with testdata/golden (go test -run TestCaptures -update to rewrite).
func TestCaptures(t *testing.T) {
	dir := filepath.Join(testdata.SharedDir(t), "feeds", "captured")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s: %v", dir, err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Parse(body, Meta{Source: "https://feeds.example/" + name, Fetched: fetched})
			if err != nil && !errors.Is(err, ErrNotFeed) {
				t.Fatalf("capture failed with an unclear error: %v", err)
			}
			if err == nil {
				for _, p := range res.Posts {
					if verr := p.Validate(); verr != nil {
						t.Errorf("post %q invalid: %v", p.Title, verr)
					}
					if strings.ContainsAny(p.Title+p.Text, "<>") && strings.Contains(p.Text, "</p>") {
						t.Errorf("post %q keeps HTML tags", p.Title)
					}
					if strings.ContainsRune(p.Title+p.Text, utf8.RuneError) {
						t.Errorf("post %q has U+FFFD: encoding not repaired", p.Title)
					}
					if p.Published.After(fetched.Add(24*time.Hour)) || p.Platform != Platform || p.Fetched != fetched {
						t.Errorf("post %q: published %v platform %q fetched %v", p.Title, p.Published, p.Platform, p.Fetched)
					}
				}
			}
			got, _ := json.MarshalIndent(summarize(res, err), "", "  ")
			gpath := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(gpath, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gpath)
			if err != nil {
				t.Fatalf("missing golden (run with -update): %v", err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("summary differs from %s:\n got: %s\nwant: %s", gpath, got, want)
			}
		})
	}
}

func TestParseFixtures(t *testing.T) {
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// JSON Feed with a relative link, an HTML body and no dates.
	res, err := Parse(read("jsonfeed.json"), Meta{Source: "https://news.example/feed.json", Fetched: fetched, Lang: "fr-FR"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Posts) != 2 {
		t.Fatalf("json feed: %d posts", len(res.Posts))
	}
	p := res.Posts[0]
	if p.URL != "https://news.example/2026/11/25/pont.html?utm_source=jsonfeed" || p.CanonicalURL != "https://news.example/2026/11/25/pont.html" ||
		p.Text != "Le pont a rouvert ce matin.\n\nLa circulation reprend." || p.Lang != "fr" || p.Author != "Claire Martin" ||
		!p.Published.Equal(time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("json feed post: %+v", p)
	}
	if q := res.Posts[1]; !q.Published.Equal(fetched) || q.ID != schema.PostID(q.CanonicalURL, "", "") {
		t.Errorf("undated post: %+v", q)
	}

	// RSS 2.0 where one item has no link: its id falls back to source+guid;
	// another is dated in the far future.
	res, err = Parse(read("rss-edge.xml"), Meta{Source: "https://vn.example/rss", Fetched: fetched})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Posts) != 3 || res.Skipped != 1 || res.Lang != "vi" {
		t.Fatalf("rss-edge: %d posts, %d skipped, lang %q", len(res.Posts), res.Skipped, res.Lang)
	}
	if p := res.Posts[0]; p.Title != "Hà Nội: cầu Long Biên đóng cửa & phân luồng" || p.CanonicalURL != "https://vn.example/tin/cau-long-bien.html" {
		t.Errorf("entity/tracking handling: %+v", p)
	}
	if p := res.Posts[1]; p.CanonicalURL != "" || p.ID != schema.PostID("", "https://vn.example/rss", "tin-42") {
		t.Errorf("linkless item id: %+v", p)
	}
	if p := res.Posts[2]; !p.Published.Equal(fetched) {
		t.Errorf("future date kept: %v", p.Published)
	}

	// Not feeds.
	for _, body := range []string{"", "   ", "<html><body>Moved</body></html>", "{\"hello\":1}", "plain text"} {
		if _, err := Parse([]byte(body), Meta{Source: "x"}); !errors.Is(err, ErrNotFeed) {
			t.Errorf("Parse(%q) = %v, want ErrNotFeed", body, err)
		}
	}
}

// TestSameArticleTwoFeeds: one article through two feeds (different
// tracking parameters, http vs https, AMP host) gets one post id.
func TestSameArticleTwoFeeds(t *testing.T) {
	mk := func(link string) []byte {
		return []byte(`<rss version="2.0"><channel><title>t</title><item><title>Same story</title><link>` + link + `</link><guid>` + link + `</guid></item></channel></rss>`)
	}
	a, err := Parse(mk("https://www.news.example/a/story.html?utm_source=rss&amp;utm_medium=feed"), Meta{Source: "https://news.example/rss"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(mk("http://news.example/a/story.html#comments"), Meta{Source: "https://aggregator.example/world.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Posts[0].ID != b.Posts[0].ID {
		t.Errorf("same article, two ids: %s (%s) vs %s (%s)", a.Posts[0].ID, a.Posts[0].CanonicalURL, b.Posts[0].ID, b.Posts[0].CanonicalURL)
	}
	// Stable: parsing again yields the same id.
	c, _ := Parse(mk("https://www.news.example/a/story.html?utm_source=rss"), Meta{Source: "https://news.example/rss"})
	if c.Posts[0].ID != a.Posts[0].ID {
		t.Error("id not stable across parses")
	}
}

func TestToUTF8(t *testing.T) {
	f := func(name string, body []byte, ctype, wantEnc, wantSub string) {
		t.Helper()
		out, enc, err := ToUTF8(body, ctype)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if enc != wantEnc || !utf8.Valid(out) || !bytes.Contains(norm.NFC.Bytes(out), []byte(wantSub)) {
			t.Errorf("%s: enc %q (want %q), out %q", name, enc, wantEnc, out)
		}
	}
	latin := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><title>Not\xedcias</title></rss>")
	f("declared latin-1", latin, "", "windows-1252", `encoding="UTF-8"?><rss><title>Notícias`)
	f("undeclared latin-1", []byte("<rss><title>Not\xedcias</title></rss>"), "", "windows-1252", "Notícias")
	f("utf-8 declared latin-1", []byte("<?xml version='1.0' encoding='iso-8859-1'?><rss><title>Notícias</title></rss>"), "", "utf-8", "Notícias")
	f("http charset wins", []byte("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><title>Not\xedcias</title></rss>"), "application/rss+xml; charset=ISO-8859-1", "windows-1252", "Notícias")
	f("utf-8 BOM", append([]byte{0xEF, 0xBB, 0xBF}, "<rss><title>Hà Nội</title></rss>"...), "", "utf-8", "Hà Nội")
	u16 := []byte{0xFF, 0xFE}
	for _, r := range "<rss><title>Hà</title></rss>" {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	f("utf-16le BOM", u16, "", "utf-16le", "<title>Hà</title>")
	f("windows-1258", []byte("<?xml version=\"1.0\" encoding=\"windows-1258\"?><rss><title>H\xe0 N\xf4\xf2i</title></rss>"), "", "windows-1258", "Hà Nội")
	f("unknown label", []byte("<?xml version=\"1.0\" encoding=\"x-bogus\"?><rss>ok</rss>"), "", "utf-8", "ok")
}

func TestHTMLText(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := HTMLText(in); got != want {
			t.Errorf("HTMLText(%q) = %q, want %q", in, got, want)
		}
	}
	f("", "")
	f("plain   text\n", "plain text")
	f("AT&amp;T &lt;b&gt;", "AT&T <b>")
	f("<p>One</p><p>Two <b>bold</b></p>", "One\n\nTwo bold")
	f("a<br>b<br/>c", "a\nb\nc")
	f("x<script>alert(1)</script>y<style>p{}</style>z", "xyz")
	f("&lt;p&gt;double &amp;amp; escaped&lt;/p&gt;", "double & escaped")
	f("a &lt;b&gt; c", "a <b> c")
	f("x < y and y > z", "x < y and y > z")
	f("Ho\u0300a", "Hòa")
	f("Hà&nbsp;Nội", "Hà Nội")
	f("<ul><li>a</li><li>b</li></ul>", "a\nb")
	f("broken <b unclosed", "broken")
	f("nul\x00byte", "nulbyte")
	f("<![CDATA[x]]> y", "y")
}

func TestNormalizeLang(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := NormalizeLang(in); got != want {
			t.Errorf("NormalizeLang(%q) = %q, want %q", in, got, want)
		}
	}
	f("en-US", "en")
	f("vi", "vi")
	f(" FR_fr ", "fr")
	f("", "")
	f("english", "")
	f("e", "")
	f("12", "")
}
