// Package feed reads RSS 0.9x/1.0/2.0, Atom and JSON Feed documents into
// schema.Post records and polls feed sources.
//
// Parsing wraps github.com/mmcdole/gofeed (the most complete Go feed
// parser: format detection, RSS/Atom/JSON, Dublin Core, iTunes and media
// extensions, lenient XML); this package adds what gofeed leaves to the
// caller: encoding repair (ToUTF8), HTML to text (HTMLText, on
// golang.org/x/net/html), URL canonicalisation and stable post ids
// (internal/urlcanon, schema.PostID), and time fallbacks.
//
// The Poller fetches through ingest/fetch (conditional GET, limits, SSRF
// guard), keeps a per-source seen set, adapts each source's interval to how
// often it publishes, backs off on errors, and reports health.
package feed

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

// ErrNotFeed is returned for documents that are not RSS, Atom or JSON
// Feed (an HTML error page, a moved notice).
var ErrNotFeed = errors.New("not an RSS, Atom or JSON feed")

// Platform is the schema.Post platform of feed items.
const Platform = "rss"

// Meta describes where a document came from.
type Meta struct {
	Source      string    // the feed URL as subscribed: schema.Post.Source
	URL         string    // the URL actually fetched (after redirects), for relative links; Source when empty
	ContentType string    // HTTP Content-Type, for its charset
	Lang        string    // the source's configured language, used when the feed declares none
	Fetched     time.Time // fetch time: Post.Fetched and the last-resort Published
	Platform    string    // Post.Platform; "rss" when empty
}

// Result is a parsed feed.
type Result struct {
	Title    string
	Lang     string
	Encoding string // the encoding the body was decoded from
	Posts    []schema.Post
	// Dated[i] is false when Posts[i] carried no usable date (none, one
	// before 1990, or one that does not parse) and got the fetch time.
	Dated   []bool
	Skipped int // items with neither title nor text
	Clamped int // items dated more than MaxFuture after the fetch, given the fetch time
}

// MaxFuture is how far after the fetch an item's date may lie: clocks and
// time zones drift a little, but an item from hours ahead is a feed bug
// (a local time labelled UTC, a scheduled post) that would put it ahead
// of everything in every window.
const MaxFuture = time.Hour

var futureDates = promauto.NewCounter(prometheus.CounterOpts{
	Namespace: "trendwatch", Subsystem: "ingest", Name: "feed_future_dates_total",
	Help: "Feed items dated more than an hour after their fetch, stamped with the fetch time instead.",
})

// Parse decodes body and converts its items. Items are returned in
// document order; every post has a stable ID and passes Validate.
func Parse(body []byte, meta Meta) (*Result, error) {
	if meta.Fetched.IsZero() {
		meta.Fetched = time.Now().UTC()
	}
	if meta.Platform == "" {
		meta.Platform = Platform
	}
	utf, enc, err := ToUTF8(body, meta.ContentType)
	if err != nil {
		return nil, fmt.Errorf("cannot parse feed %s: %w", meta.Source, err)
	}
	if bytes.IndexFunc(utf, func(r rune) bool { return r > ' ' }) < 0 {
		return nil, fmt.Errorf("cannot parse feed %s: empty document: %w", meta.Source, ErrNotFeed)
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(utf))
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		return nil, fmt.Errorf("cannot parse feed %s: %w", meta.Source, ErrNotFeed)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse feed %s: %w", meta.Source, err)
	}
	if f.FeedType == "json" && !strings.Contains(f.FeedVersion, "jsonfeed.org") {
		// Any JSON object parses; only the required version URL makes it a feed.
		return nil, fmt.Errorf("cannot parse feed %s: JSON without a jsonfeed.org version: %w", meta.Source, ErrNotFeed)
	}
	res := &Result{Title: HTMLText(f.Title), Lang: NormalizeLang(f.Language), Encoding: enc}
	lang := res.Lang
	if lang == "" {
		lang = NormalizeLang(meta.Lang)
	}
	base := meta.URL
	if base == "" {
		base = meta.Source
	}
	if f.Link != "" {
		base = resolve(base, f.Link)
	}
	for _, it := range f.Items {
		if it == nil {
			continue
		}
		p, dated, clamped, ok := itemPost(it, f, meta, lang, base)
		if !ok {
			res.Skipped++
			continue
		}
		if clamped {
			res.Clamped++
			futureDates.Inc()
		}
		res.Posts = append(res.Posts, p)
		res.Dated = append(res.Dated, dated)
	}
	return res, nil
}

func itemPost(it *gofeed.Item, f *gofeed.Feed, meta Meta, lang, base string) (p schema.Post, dated, clamped, ok bool) {
	link := strings.TrimSpace(it.Link)
	if link == "" && len(it.Links) > 0 {
		link = strings.TrimSpace(it.Links[0])
	}
	if link == "" && isURL(it.GUID) {
		link = it.GUID // RSS guid isPermaLink="true" is the article URL
	}
	if link != "" {
		link = resolve(base, link)
	}
	canonical, err := urlcanon.Canonical(link)
	if err != nil {
		canonical = ""
	}
	title := HTMLText(it.Title)
	text := HTMLText(it.Content)
	if desc := HTMLText(it.Description); len(desc) > len(text) {
		text = desc // some feeds put a stub in content:encoded
	}
	if text == "" {
		text = mediaDescription(it.Extensions)
	}
	if title == "" && text == "" {
		return schema.Post{}, false, false, false
	}
	guid := strings.TrimSpace(it.GUID)
	if guid == "" {
		guid = link
	}
	if guid == "" {
		// No id and no link: title plus date is the best identity left.
		guid = title + "\x00" + it.Published + "\x00" + it.Updated
	}
	pub, dated, clamped := published(it, meta.Fetched)
	p = schema.Post{
		ID:           schema.PostID(canonical, meta.Source, guid),
		Source:       meta.Source,
		Platform:     meta.Platform,
		URL:          link,
		CanonicalURL: canonical,
		Author:       author(it, f),
		Lang:         lang,
		Title:        title,
		Text:         text,
		Published:    pub,
		Fetched:      meta.Fetched.UTC(),
		Engagement:   mediaEngagement(it.Extensions),
	}
	p.Clamp()
	if p.Validate() != nil {
		return schema.Post{}, false, false, false
	}
	return p, dated, clamped, true
}

// published picks the item's publish time, then its update time, then the
// fetch time (dated false). A time more than MaxFuture after the fetch is
// a feed bug: the fetch time is closer to the truth (clamped true).
func published(it *gofeed.Item, fetched time.Time) (t time.Time, dated, clamped bool) {
	for _, pt := range []*time.Time{it.PublishedParsed, it.UpdatedParsed} {
		if pt != nil && !pt.IsZero() && pt.Year() > 1990 {
			if pt.After(fetched.Add(MaxFuture)) {
				return fetched.UTC(), true, true
			}
			return pt.UTC(), true, false
		}
	}
	return fetched.UTC(), false, false
}

func author(it *gofeed.Item, f *gofeed.Feed) string {
	for _, ps := range [][]*gofeed.Person{it.Authors, {it.Author}} {
		for _, p := range ps {
			if p != nil && strings.TrimSpace(p.Name) != "" {
				return HTMLText(p.Name)
			}
			if p != nil && strings.TrimSpace(p.Email) != "" {
				return strings.TrimSpace(p.Email)
			}
		}
	}
	if it.DublinCoreExt != nil && len(it.DublinCoreExt.Creator) > 0 {
		return HTMLText(it.DublinCoreExt.Creator[0])
	}
	return ""
}

// mediaDescription reads media:group/media:description (YouTube) or a
// top-level media:description.
func mediaDescription(e ext.Extensions) string {
	media := e["media"]
	if media == nil {
		return ""
	}
	for _, d := range media["description"] {
		if s := HTMLText(d.Value); s != "" {
			return s
		}
	}
	for _, g := range media["group"] {
		for _, d := range g.Children["description"] {
			if s := HTMLText(d.Value); s != "" {
				return s
			}
		}
	}
	return ""
}

// mediaEngagement reads media:community/media:starRating count (likes on
// YouTube) under media:group or at the top level.
func mediaEngagement(e ext.Extensions) schema.Engagement {
	media := e["media"]
	if media == nil {
		return schema.Engagement{}
	}
	comms := media["community"]
	for _, g := range media["group"] {
		comms = append(comms, g.Children["community"]...)
	}
	for _, c := range comms {
		for _, r := range c.Children["starRating"] {
			if n, err := strconv.ParseInt(strings.TrimSpace(r.Attrs["count"]), 10, 64); err == nil && n >= 0 {
				return schema.Engagement{Likes: n}
			}
		}
	}
	return schema.Engagement{}
}

// NormalizeLang reduces a language tag to its lower-case primary subtag
// ("en-US" → "en"); anything that is not a plausible tag becomes "".
func NormalizeLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if len(tag) < 2 || len(tag) > 3 {
		return ""
	}
	for _, r := range tag {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return tag
}

func isURL(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// resolve makes ref absolute against base; it returns ref unchanged when
// either does not parse.
func resolve(base, ref string) string {
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return ref
	}
	if r.IsAbs() {
		return r.String()
	}
	b, err := url.Parse(base)
	if err != nil || !b.IsAbs() {
		return ref
	}
	return b.ResolveReference(r).String()
}
