// Package reddit polls Reddit's public JSON listings: a subreddit's new
// posts (/r/<sub>/new.json) or a search (/search.json, /r/<sub>/search.json
// with restrict_sr), newest first. Only encoding/json is needed; requests
// go through ingest/fetch, whose descriptive user agent Reddit's API rules
// ask for and whose Retry-After handling its rate limits need.
package reddit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/social"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

// Platform is the schema.Post platform.
const Platform = "reddit"

// Options configures a Connector. Subreddit or Query (or both) is required.
type Options struct {
	Base       string // https://www.reddit.com (tests point it elsewhere)
	Subreddit  string // without "r/"
	Query      string // search terms; with Subreddit, searched inside it
	Limit      int    // items per request, default 100 (the API maximum)
	Interval   time.Duration
	Source     string // Post.Source; default the listing URL
	Publisher  ingest.Publisher
	Client     *fetch.Client
	MaxBackoff time.Duration
}

// Connector polls one listing.
type Connector struct {
	opts    Options
	listURL string
	log     *slog.Logger
	seen    *social.Seen
}

// New checks the options.
func New(opts Options, logger *slog.Logger) (*Connector, error) {
	if opts.Publisher == nil || opts.Client == nil {
		return nil, errors.New("reddit connector needs a publisher and a fetch client")
	}
	opts.Subreddit = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(opts.Subreddit), "/"), "r/")
	if opts.Subreddit == "" && strings.TrimSpace(opts.Query) == "" {
		return nil, errors.New("reddit connector needs a subreddit or a query")
	}
	if strings.ContainsAny(opts.Subreddit, "/?#& ") {
		return nil, fmt.Errorf("invalid subreddit %q", opts.Subreddit)
	}
	if opts.Base == "" {
		opts.Base = "https://www.reddit.com"
	}
	if opts.Limit <= 0 || opts.Limit > 100 {
		opts.Limit = 100
	}
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Minute
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Hour
	}
	base := strings.TrimRight(opts.Base, "/")
	q := url.Values{"limit": {fmt.Sprint(opts.Limit)}, "raw_json": {"1"}}
	var path string
	switch {
	case opts.Query != "":
		q.Set("q", opts.Query)
		q.Set("sort", "new")
		path = "/search.json"
		if opts.Subreddit != "" {
			path = "/r/" + opts.Subreddit + "/search.json"
			q.Set("restrict_sr", "1")
		}
	default:
		path = "/r/" + opts.Subreddit + "/new.json"
	}
	listURL := base + path + "?" + q.Encode()
	if opts.Source == "" {
		opts.Source = base + strings.TrimSuffix(path, ".json")
		if opts.Query != "" {
			opts.Source += "?q=" + url.QueryEscape(opts.Query)
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Connector{opts: opts, listURL: listURL, log: logger.With(slog.String("component", "reddit"), slog.String("source", opts.Source)), seen: social.NewSeen(20000)}, nil
}

// Run polls until ctx ends; errors back off (honouring Retry-After).
func (c *Connector) Run(ctx context.Context) error {
	return social.PollLoop(ctx, "reddit", c.opts.Interval, c.opts.MaxBackoff, c.log, func(ctx context.Context) (time.Duration, error) {
		return 0, c.Poll(ctx)
	})
}

// Poll fetches the listing once and publishes unseen posts, oldest first.
func (c *Connector) Poll(ctx context.Context) error {
	res, err := c.opts.Client.Get(ctx, fetch.Request{URL: c.listURL, Accept: "application/json", IgnoreRobots: true})
	if err != nil {
		return err
	}
	items, err := ParseListing(res.Body)
	if err != nil {
		return err
	}
	slices.Reverse(items)
	var posts []schema.Post
	for _, it := range items {
		p, ok := it.Post(c.opts.Source, c.opts.Base, res.Fetched)
		if ok && !c.seen.Has(p.ID) {
			posts = append(posts, p)
		}
	}
	if len(posts) == 0 {
		return nil
	}
	if err := c.opts.Publisher.Publish(ctx, posts...); err != nil {
		return fmt.Errorf("cannot publish %d reddit posts: %w", len(posts), err)
	}
	for _, p := range posts {
		c.seen.Add(p.ID)
	}
	return nil
}

// Link is a Reddit submission (kind t3).
type Link struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"` // t3_<id>
	Title       string  `json:"title"`
	Selftext    string  `json:"selftext"`
	Author      string  `json:"author"`
	Subreddit   string  `json:"subreddit"`
	Permalink   string  `json:"permalink"`
	URL         string  `json:"url"` // the linked page, or the permalink for self posts
	IsSelf      bool    `json:"is_self"`
	CreatedUTC  float64 `json:"created_utc"`
	Score       int64   `json:"score"`
	NumComments int64   `json:"num_comments"`
	Crossposts  int64   `json:"num_crossposts"`
}

// ParseListing decodes a Listing and returns its t3 children.
func ParseListing(b []byte) ([]Link, error) {
	var l struct {
		Kind string `json:"kind"`
		Data struct {
			Children []struct {
				Kind string `json:"kind"`
				Data Link   `json:"data"`
			} `json:"children"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("cannot decode reddit listing: %w", err)
	}
	if l.Kind != "Listing" {
		return nil, fmt.Errorf("cannot decode reddit listing: kind %q", l.Kind)
	}
	var out []Link
	for _, ch := range l.Data.Children {
		if ch.Kind == "t3" {
			out = append(out, ch.Data)
		}
	}
	return out, nil
}

// Post converts a submission. The linked page's address is kept in the
// text (it is what spreads); the post's own URL is its permalink.
func (l Link) Post(source, base string, fetched time.Time) (schema.Post, bool) {
	if l.Permalink == "" || !strings.HasPrefix(l.Permalink, "/") {
		return schema.Post{}, false
	}
	link := strings.TrimRight(base, "/") + l.Permalink
	canonical, _ := urlcanon.Canonical(link)
	text := feed.HTMLText(l.Selftext)
	if !l.IsSelf && l.URL != "" {
		text = strings.TrimSpace(text + "\n" + l.URL)
	}
	published := fetched.UTC()
	if l.CreatedUTC > 0 && !math.IsInf(l.CreatedUTC, 0) && l.CreatedUTC < 1e11 {
		sec, frac := math.Modf(l.CreatedUTC)
		if t := time.Unix(int64(sec), int64(frac*1e9)).UTC(); !t.After(fetched.Add(24 * time.Hour)) {
			published = t
		}
	}
	guid := l.Name
	if guid == "" {
		guid = "t3_" + l.ID
	}
	author := l.Author
	if author != "" && author != "[deleted]" {
		author = "u/" + author
	}
	p := schema.Post{ID: schema.PostID(canonical, source, guid), Source: source, Platform: Platform, URL: link, CanonicalURL: canonical,
		Author: author, Title: feed.HTMLText(l.Title), Text: text, Published: published, Fetched: fetched.UTC(),
		Engagement: schema.Engagement{Likes: l.Score, Replies: l.NumComments, Shares: l.Crossposts}}
	p.Clamp()
	return p, p.Validate() == nil
}
