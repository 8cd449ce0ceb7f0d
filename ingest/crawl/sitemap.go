package crawl

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/ingest/fetch"
)

// SitemapEntry is one <url> of a sitemap.
type SitemapEntry struct {
	Loc     string
	LastMod time.Time // lastmod, or news:publication_date when newer
}

type sitemapDoc struct {
	XMLName  xml.Name
	URLs     []sitemapURL `xml:"url"`
	Sitemaps []struct {
		Loc string `xml:"loc"`
	} `xml:"sitemap"`
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod"`
	News    struct {
		Date string `xml:"publication_date"`
	} `xml:"news"`
}

// ParseSitemap reads a sitemap (urlset) or sitemap index. A gzip body
// (.xml.gz) is decompressed with the given cap.
func ParseSitemap(body []byte, limit int64) (entries []SitemapEntry, children []string, err error) {
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, nil, fmt.Errorf("bad gzip sitemap: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, nil, fmt.Errorf("bad gzip sitemap: %w", err)
		}
		if int64(len(b)) > limit {
			return nil, nil, fmt.Errorf("sitemap: %w", fetch.ErrTooLarge)
		}
		body = b
	}
	var doc sitemapDoc
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // sitemaps are UTF-8 by spec
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("cannot parse sitemap: %w", err)
	}
	switch doc.XMLName.Local {
	case "urlset", "sitemapindex":
	default:
		return nil, nil, fmt.Errorf("cannot parse sitemap: root element <%s>", doc.XMLName.Local)
	}
	for _, u := range doc.URLs {
		loc := strings.TrimSpace(u.Loc)
		if loc == "" {
			continue
		}
		e := SitemapEntry{Loc: loc}
		for _, v := range []string{u.LastMod, u.News.Date} {
			if t, ok := parseTime(v); ok && t.After(e.LastMod) {
				e.LastMod = t
			}
		}
		entries = append(entries, e)
	}
	for _, s := range doc.Sitemaps {
		if loc := strings.TrimSpace(s.Loc); loc != "" {
			children = append(children, loc)
		}
	}
	return entries, children, nil
}

// discoverSitemaps returns up to max page URLs from the site's sitemaps
// (robots.txt Sitemap: lines, else /sitemap.xml), newest first, following
// sitemap indexes one level (newest child sitemaps first, a few at most).
func discoverSitemaps(ctx context.Context, c *fetch.Client, start *url.URL, max int) ([]string, error) {
	root := &url.URL{Scheme: start.Scheme, Host: start.Host}
	var maps []string
	if res, err := c.Get(ctx, fetch.Request{URL: root.String() + "/robots.txt", IgnoreRobots: true, Accept: "text/plain"}); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(res.Body))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.EqualFold(strings.TrimSpace(k), "sitemap") {
				if u, err := root.Parse(strings.TrimSpace(v)); err == nil && u.Host == root.Host {
					maps = append(maps, u.String())
				}
			}
		}
	}
	if len(maps) == 0 {
		maps = []string{root.String() + "/sitemap.xml"}
	}
	var entries []SitemapEntry
	var firstErr error
	fetched := 0
	for depth := 0; depth < 2 && len(maps) > 0; depth++ {
		var next []string
		for _, m := range maps {
			if fetched >= 5 {
				break // a news site's index can list thousands of sitemaps; the newest few suffice
			}
			fetched++
			res, err := c.Get(ctx, fetch.Request{URL: m, Accept: "application/xml, text/xml;q=0.9, */*;q=0.5"})
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				continue
			}
			es, children, err := ParseSitemap(res.Body, c.MaxBodyBytes())
			if err != nil {
				firstErr = cmpErr(firstErr, fmt.Errorf("%s: %w", m, err))
				continue
			}
			entries = append(entries, es...)
			next = append(next, children...)
		}
		slices.Reverse(next) // indexes usually list oldest first
		maps = next
	}
	slices.SortStableFunc(entries, func(a, b SitemapEntry) int { return b.LastMod.Compare(a.LastMod) })
	var out []string
	for _, e := range entries {
		if len(out) >= max {
			break
		}
		if u, err := url.Parse(e.Loc); err == nil && u.Host == start.Host {
			out = append(out, u.String())
		}
	}
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func cmpErr(prev, err error) error {
	if prev != nil {
		return prev
	}
	return err
}
