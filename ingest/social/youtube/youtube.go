// Package youtube polls YouTube channel feeds
// (https://www.youtube.com/feeds/videos.xml?channel_id=UC…): Atom with a
// media:group per video (title, description, like count). Parsing is
// ingest/feed's (gofeed with its media extension); this package builds
// the feed URL, polls with conditional GET and a seen set, and backs off
// on errors. No API key is needed, unlike the Data API.
package youtube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/social"
	"github.com/trendwatch/trendwatch/schema"
)

// Platform is the schema.Post platform.
const Platform = "youtube"

var channelID = regexp.MustCompile(`^UC[A-Za-z0-9_-]{22}$`)

// FeedURL accepts a channel id (UC…), a channel URL
// (https://www.youtube.com/channel/UC…) or a feed URL and returns the
// channel's feed URL.
func FeedURL(channel string) (string, error) {
	channel = strings.TrimSpace(channel)
	if channelID.MatchString(channel) {
		return "https://www.youtube.com/feeds/videos.xml?channel_id=" + channel, nil
	}
	u, err := url.Parse(channel)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("youtube channel %q: want UC… id, channel URL or feed URL", channel)
	}
	if id := u.Query().Get("channel_id"); channelID.MatchString(id) && strings.HasSuffix(u.Path, "/feeds/videos.xml") {
		return u.String(), nil
	}
	if rest, ok := strings.CutPrefix(u.Path, "/channel/"); ok {
		if id := strings.Trim(rest, "/"); channelID.MatchString(id) {
			return "https://www.youtube.com/feeds/videos.xml?channel_id=" + id, nil
		}
	}
	// @handles need the Data API or a page scrape to resolve to an id.
	return "", fmt.Errorf("youtube channel %q: want UC… id, /channel/UC… URL or feed URL (handles are not resolved)", channel)
}

// Options configures a Connector.
type Options struct {
	Channel    string // see FeedURL
	FeedURL    string // overrides Channel (tests, mirrors)
	Lang       string
	Interval   time.Duration // default 15m (YouTube refreshes the feed about that often)
	MaxBackoff time.Duration
	Publisher  ingest.Publisher
	Client     *fetch.Client
}

// Connector polls one channel.
type Connector struct {
	opts          Options
	feed          string
	log           *slog.Logger
	seen          *social.Seen
	etag, lastMod string
}

// New checks the options.
func New(opts Options, logger *slog.Logger) (*Connector, error) {
	if opts.Publisher == nil || opts.Client == nil {
		return nil, errors.New("youtube connector needs a publisher and a fetch client")
	}
	f := opts.FeedURL
	if f == "" {
		var err error
		if f, err = FeedURL(opts.Channel); err != nil {
			return nil, err
		}
	}
	if opts.Interval <= 0 {
		opts.Interval = 15 * time.Minute
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 6 * time.Hour
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Connector{opts: opts, feed: f, log: logger.With(slog.String("component", "youtube"), slog.String("feed", f)), seen: social.NewSeen(5000)}, nil
}

// Run polls until ctx ends, backing off on errors.
func (c *Connector) Run(ctx context.Context) error {
	return social.PollLoop(ctx, "youtube", c.opts.Interval, c.opts.MaxBackoff, c.log, c.Poll)
}

// Poll fetches the feed once (conditionally) and publishes new videos. It
// returns the server's suggested wait (Cache-Control), if any.
func (c *Connector) Poll(ctx context.Context) (time.Duration, error) {
	res, err := c.opts.Client.Get(ctx, fetch.Request{URL: c.feed, ETag: c.etag, LastModified: c.lastMod, IgnoreRobots: true,
		Accept: "application/atom+xml, application/xml;q=0.9"})
	if err != nil {
		return 0, err
	}
	if res.NotModified {
		return res.NextPoll, nil
	}
	parsed, err := feed.Parse(res.Body, feed.Meta{Source: c.feed, URL: res.URL, ContentType: res.ContentType, Lang: c.opts.Lang, Fetched: res.Fetched, Platform: Platform})
	if err != nil {
		return 0, err
	}
	var posts []schema.Post
	for _, p := range parsed.Posts {
		if !c.seen.Has(p.ID) {
			posts = append(posts, p)
		}
	}
	if len(posts) > 0 {
		if err := c.opts.Publisher.Publish(ctx, posts...); err != nil {
			return 0, fmt.Errorf("cannot publish %d videos: %w", len(posts), err)
		}
	}
	for _, p := range posts {
		c.seen.Add(p.ID)
	}
	c.etag, c.lastMod = res.ETag, res.LastModified
	return res.NextPoll, nil
}
