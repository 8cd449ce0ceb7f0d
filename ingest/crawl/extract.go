package crawl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"

	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
)

// Article is what Extract finds in a page.
type Article struct {
	Title        string    `json:"title"`
	Text         string    `json:"text"`
	Author       string    `json:"author,omitempty"`
	Published    time.Time `json:"published"`
	Lang         string    `json:"lang,omitempty"`
	CanonicalURL string    `json:"canonical_url,omitempty"` // canonicalised (urlcanon)
	DeclaredURL  string    `json:"declared_url,omitempty"`  // rel=canonical or og:url as written, resolved
	IsArticle    bool      `json:"is_article"`              // og:type article, JSON-LD NewsArticle or enough body text
	Links        []string  `json:"-"`                       // absolute http(s) links, for the crawler
}

// minArticleText is the body length below which a page without article
// markup is taken for an index or navigation page.
const minArticleText = 400

// Extract reads an HTML page. It never fails on odd markup (the HTML5
// parser recovers like a browser); it fails only when the page URL is not
// absolute.
func Extract(body []byte, pageURL string) (*Article, error) {
	base, err := url.Parse(pageURL)
	if err != nil || !base.IsAbs() {
		return nil, fmt.Errorf("cannot extract %q: page URL is not absolute", pageURL)
	}
	if !utf8.Valid(body) {
		// Colly already decoded bodies whose Content-Type names a charset;
		// what is left declares it in <meta> or not at all (WHATWG
		// sniffing, defaulting to Windows-1252).
		if e, _, _ := charset.DetermineEncoding(body, "text/html"); e != nil {
			if dec, err := e.NewDecoder().Bytes(body); err == nil {
				body = dec
			}
		}
	}
	root, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("cannot parse HTML of %s: %w", pageURL, err)
	}
	doc := goquery.NewDocumentFromNode(root)
	if b, ok := doc.Find("base[href]").Attr("href"); ok {
		if bu, err := base.Parse(strings.TrimSpace(b)); err == nil && bu.IsAbs() {
			base = bu
		}
	}
	a := &Article{}
	ld := jsonLD(doc)

	// Canonical URL: rel=canonical, then og:url, then the page itself.
	for _, sel := range []string{`link[rel="canonical"]`, `link[rel~="canonical"]`} {
		if href, ok := doc.Find(sel).First().Attr("href"); ok && strings.TrimSpace(href) != "" {
			a.DeclaredURL = resolve(base, href)
			break
		}
	}
	if a.DeclaredURL == "" {
		if og := meta(doc, "og:url"); og != "" {
			a.DeclaredURL = resolve(base, og)
		}
	}
	canonSrc := a.DeclaredURL
	if canonSrc == "" {
		canonSrc = pageURL
	}
	if c, err := urlcanon.Canonical(canonSrc); err == nil {
		a.CanonicalURL = c
	} else if c, err := urlcanon.Canonical(pageURL); err == nil {
		a.CanonicalURL = c // a broken declared canonical must not lose the page
	}

	a.Title = firstNonEmpty(meta(doc, "og:title"), meta(doc, "twitter:title"), ld.Headline,
		feed.HTMLText(doc.Find("article h1").First().Text()), feed.HTMLText(doc.Find("h1").First().Text()),
		stripSiteName(feed.HTMLText(doc.Find("title").First().Text())))
	a.Author = firstNonEmpty(ld.Author, metaName(doc, "author"), nonURL(meta(doc, "article:author")),
		metaName(doc, "byl"), feed.HTMLText(doc.Find(`[itemprop="author"] [itemprop="name"]`).First().Text()),
		feed.HTMLText(doc.Find(`[itemprop="author"]`).First().Text()), feed.HTMLText(doc.Find(`[rel="author"]`).First().Text()))
	a.Author = strings.TrimPrefix(strings.TrimPrefix(a.Author, "By "), "by ")
	if len(a.Author) > 200 {
		a.Author = "" // a whole byline block, not a name
	}

	for _, v := range []string{ld.Published, meta(doc, "article:published_time"), meta(doc, "og:published_time"),
		metaName(doc, "pubdate"), metaName(doc, "publishdate"), metaName(doc, "date"), metaName(doc, "dc.date.issued"),
		metaName(doc, "dc.date"), metaName(doc, "sailthru.date"), metaItemprop(doc, "datePublished"),
		attr(doc.Find(`[itemprop="datePublished"]`), "datetime"), attr(doc.Find("article time[datetime]"), "datetime"),
		attr(doc.Find("time[datetime]"), "datetime"), ld.Modified, meta(doc, "article:modified_time")} {
		if t, ok := parseTime(v); ok {
			a.Published = t
			break
		}
	}

	a.Lang = feed.NormalizeLang(firstNonEmpty(attr(doc.Find("html"), "lang"), attr(doc.Find("html"), "xml:lang"),
		metaHTTPEquiv(doc, "content-language"), ld.Lang, meta(doc, "og:locale")))

	// Links first: bodyText removes navigation from the tree.
	seen := map[string]bool{}
	doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Attr("href")
		if rel, _ := s.Attr("rel"); strings.Contains(rel, "nofollow") {
			return
		}
		abs := resolve(base, href)
		u, err := url.Parse(abs)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return
		}
		u.Fragment = ""
		if s := u.String(); !seen[s] {
			seen[s] = true
			a.Links = append(a.Links, s)
		}
	})

	a.Text = ld.Body
	if len(a.Text) < minArticleText {
		if t := bodyText(doc); len(t) > len(a.Text) {
			a.Text = t
		}
	}
	if a.Text == "" {
		a.Text = firstNonEmpty(meta(doc, "og:description"), metaName(doc, "description"))
	}
	ogType := strings.ToLower(meta(doc, "og:type"))
	a.IsArticle = ogType == "article" || strings.HasSuffix(ld.Type, "Article") || ld.Type == "BlogPosting" || ld.Type == "Report" ||
		len(a.Text) >= minArticleText && ogType != "website"

	return a, nil
}

// stripSiteName drops a trailing " | Site" (or " - ", " — ", " – ") from
// a <title> when what remains still reads as a headline (4+ words).
func stripSiteName(t string) string {
	for _, sep := range []string{" | ", " — ", " – ", " - ", " :: "} {
		if i := strings.LastIndex(t, sep); i > 0 && len(strings.Fields(t[:i])) >= 4 {
			return strings.TrimSpace(t[:i])
		}
	}
	return t
}

// bodyText picks the element whose direct paragraphs hold the most text
// (a small readability: article bodies are runs of <p> under one parent)
// and returns those paragraphs.
func bodyText(doc *goquery.Document) string {
	doc.Find("script, style, noscript, template, nav, header, footer, aside, form, iframe, svg, button, figure figcaption").Remove()
	for _, sel := range []string{`[itemprop="articleBody"]`, "article", `[role="main"]`, "main"} {
		if s := doc.Find(sel).First(); s.Length() > 0 {
			if t := paragraphs(s.Find("p, h2, h3, li, blockquote")); len(t) >= minArticleText/2 {
				return t
			}
		}
	}
	scores := map[*html.Node]int{}
	var best *html.Node
	doc.Find("p").Each(func(_ int, p *goquery.Selection) {
		parent := p.Parent()
		if parent.Length() == 0 {
			return
		}
		n := parent.Get(0)
		scores[n] += len(strings.TrimSpace(p.Text()))
		if best == nil || scores[n] > scores[best] {
			best = n
		}
	})
	if best == nil {
		return ""
	}
	return paragraphs(goquery.NewDocumentFromNode(best).Find("p, h2, h3, li, blockquote"))
}

func paragraphs(s *goquery.Selection) string {
	var parts []string
	s.Each(func(_ int, p *goquery.Selection) {
		if p.ParentsFiltered("p, li, blockquote").Length() > 0 {
			return // nested: the outer element already holds this text
		}
		if t := feed.HTMLText(p.Text()); t != "" {
			parts = append(parts, t)
		}
	})
	return strings.Join(parts, "\n\n")
}

// ld holds the JSON-LD fields we use, from the first Article-like object.
type ld struct {
	Type, Headline, Author, Published, Modified, Body, Lang string
}

func jsonLD(doc *goquery.Document) ld {
	var out ld
	doc.Find(`script[type="application/ld+json"]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		var raw any
		if json.Unmarshal([]byte(s.Text()), &raw) != nil {
			return true
		}
		for _, obj := range ldObjects(raw, 0) {
			t := ldString(obj["@type"])
			if !strings.Contains(t, "Article") && t != "BlogPosting" && t != "Report" {
				continue
			}
			out = ld{Type: t, Headline: feed.HTMLText(ldString(obj["headline"])), Published: ldString(obj["datePublished"]),
				Modified: ldString(obj["dateModified"]), Body: feed.HTMLText(ldString(obj["articleBody"])),
				Lang: ldString(obj["inLanguage"]), Author: feed.HTMLText(ldAuthor(obj["author"]))}
			return false
		}
		return true
	})
	return out
}

// ldObjects flattens arrays and @graph into a list of objects.
func ldObjects(v any, depth int) []map[string]any {
	if depth > 4 {
		return nil
	}
	switch x := v.(type) {
	case []any:
		var out []map[string]any
		for _, e := range x {
			out = append(out, ldObjects(e, depth+1)...)
		}
		return out
	case map[string]any:
		out := []map[string]any{x}
		if g, ok := x["@graph"]; ok {
			out = append(out, ldObjects(g, depth+1)...)
		}
		return out
	}
	return nil
}

func ldString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case []any:
		if len(x) > 0 {
			return ldString(x[0])
		}
	case map[string]any:
		return ldString(x["name"])
	}
	return ""
}

func ldAuthor(v any) string {
	if arr, ok := v.([]any); ok {
		var names []string
		for _, e := range arr {
			if n := ldString(e); n != "" {
				names = append(names, n)
			}
		}
		return strings.Join(names, ", ")
	}
	return ldString(v)
}

func meta(doc *goquery.Document, property string) string {
	v, _ := doc.Find(`meta[property="` + property + `"]`).First().Attr("content")
	if v == "" {
		v, _ = doc.Find(`meta[name="` + property + `"]`).First().Attr("content")
	}
	return feed.HTMLText(v)
}

func metaName(doc *goquery.Document, name string) string {
	var v string
	doc.Find("meta[name]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if n, _ := s.Attr("name"); strings.EqualFold(n, name) {
			v, _ = s.Attr("content")
			return false
		}
		return true
	})
	return feed.HTMLText(v)
}

func metaItemprop(doc *goquery.Document, prop string) string {
	v, _ := doc.Find(`meta[itemprop="` + prop + `"]`).First().Attr("content")
	return strings.TrimSpace(v)
}

func metaHTTPEquiv(doc *goquery.Document, name string) string {
	var v string
	doc.Find("meta[http-equiv]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if n, _ := s.Attr("http-equiv"); strings.EqualFold(n, name) {
			v, _ = s.Attr("content")
			return false
		}
		return true
	})
	return strings.TrimSpace(v)
}

func attr(s *goquery.Selection, name string) string {
	v, _ := s.First().Attr(name)
	return strings.TrimSpace(v)
}

func nonURL(s string) string {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return ""
	}
	return s
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func resolve(base *url.URL, ref string) string {
	r, err := base.Parse(strings.TrimSpace(ref))
	if err != nil {
		return ""
	}
	return r.String()
}

var timeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05", "2006-01-02 15:04",
	time.RFC1123Z, time.RFC1123, "2006/01/02 15:04:05", "2006-01-02", "20060102",
}

// parseTime accepts the date formats news sites put in meta tags; times
// without a zone are taken as UTC.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil && t.Year() > 1990 && t.Year() < 2200 {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
