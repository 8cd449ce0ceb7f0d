// Package telegram polls public Telegram channels through their web
// preview, https://t.me/s/<channel>: the page Telegram serves to browsers
// without login, listing the latest ~20 messages. It is read with goquery
// (CSS selectors over the HTML5 parser, already in the build through
// colly); the Bot API would need the bot to be a member of every channel.
package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/social"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

// Platform is the schema.Post platform.
const Platform = "telegram"

var channelRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{3,31}$`)

// Options configures a Connector.
type Options struct {
	Base       string // https://t.me (tests point it elsewhere)
	Channel    string // the public username, with or without @ or t.me/
	Lang       string // the channel's language, when known
	Interval   time.Duration
	MaxBackoff time.Duration
	Publisher  ingest.Publisher
	Client     *fetch.Client
}

// Connector polls one channel.
type Connector struct {
	opts   Options
	page   string
	source string
	log    *slog.Logger
	seen   *social.Seen
}

// New checks the options.
func New(opts Options, logger *slog.Logger) (*Connector, error) {
	if opts.Publisher == nil || opts.Client == nil {
		return nil, errors.New("telegram connector needs a publisher and a fetch client")
	}
	ch := strings.TrimSpace(opts.Channel)
	for _, p := range []string{"https://", "http://", "t.me/s/", "t.me/", "@"} {
		ch = strings.TrimPrefix(ch, p)
	}
	if !channelRE.MatchString(ch) {
		return nil, fmt.Errorf("invalid telegram channel %q", opts.Channel)
	}
	opts.Channel = ch
	if opts.Base == "" {
		opts.Base = "https://t.me"
	}
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Minute
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 2 * time.Hour
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(opts.Base, "/")
	return &Connector{opts: opts, page: base + "/s/" + ch, source: "https://t.me/s/" + ch,
		log: logger.With(slog.String("component", "telegram"), slog.String("channel", ch)), seen: social.NewSeen(5000)}, nil
}

// Run polls until ctx ends, backing off on errors.
func (c *Connector) Run(ctx context.Context) error {
	return social.PollLoop(ctx, "telegram", c.opts.Interval, c.opts.MaxBackoff, c.log, func(ctx context.Context) (time.Duration, error) {
		return 0, c.Poll(ctx)
	})
}

// Poll reads the channel page once and publishes unseen messages.
func (c *Connector) Poll(ctx context.Context) error {
	res, err := c.opts.Client.Get(ctx, fetch.Request{URL: c.page, Accept: "text/html"})
	if err != nil {
		return err
	}
	msgs, err := ParsePage(res.Body)
	if err != nil {
		return err
	}
	var posts []schema.Post
	for _, m := range msgs {
		p, ok := m.Post(c.source, c.opts.Lang, res.Fetched)
		if ok && !c.seen.Has(p.ID) {
			posts = append(posts, p)
		}
	}
	if len(posts) == 0 {
		return nil
	}
	if err := c.opts.Publisher.Publish(ctx, posts...); err != nil {
		return fmt.Errorf("cannot publish %d telegram messages: %w", len(posts), err)
	}
	for _, p := range posts {
		c.seen.Add(p.ID)
	}
	return nil
}

// Message is one message of the channel page.
type Message struct {
	Ref           string // data-post: "channel/123"
	Author        string // the channel's display name
	ForwardedFrom string
	Text          string
	Links         []string
	Time          time.Time
	Views         int64
}

// ErrNotChannelPage is returned for pages without the channel history
// (an unknown or private channel redirects to a landing page).
var ErrNotChannelPage = errors.New("not a public telegram channel page")

// ParsePage extracts the messages, oldest first as on the page.
func ParsePage(body []byte) ([]Message, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("cannot parse telegram page: %w", err)
	}
	if doc.Find(".tgme_channel_history, .tgme_widget_message").Length() == 0 {
		return nil, ErrNotChannelPage
	}
	var out []Message
	doc.Find(".tgme_widget_message[data-post]").Each(func(_ int, s *goquery.Selection) {
		m := Message{Ref: strings.TrimSpace(s.AttrOr("data-post", ""))}
		m.Author = feed.HTMLText(s.Find(".tgme_widget_message_owner_name").First().Text())
		m.ForwardedFrom = feed.HTMLText(s.Find(".tgme_widget_message_forwarded_from_name").First().Text())
		txt := s.Find(".tgme_widget_message_text").First()
		if h, err := txt.Html(); err == nil {
			m.Text = feed.HTMLText(h)
		}
		txt.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
			if href := a.AttrOr("href", ""); strings.HasPrefix(href, "http") && !strings.HasPrefix(href, "https://t.me/") {
				m.Links = append(m.Links, href)
			}
		})
		if t, err := time.Parse(time.RFC3339, s.Find(".tgme_widget_message_date time[datetime]").First().AttrOr("datetime", "")); err == nil {
			m.Time = t.UTC()
		}
		m.Views = parseCount(s.Find(".tgme_widget_message_views").First().Text())
		out = append(out, m)
	})
	return out, nil
}

// parseCount reads Telegram's abbreviated counts: 980, 12.4K, 1.2M.
func parseCount(s string) int64 {
	s = strings.ToUpper(strings.TrimSpace(s))
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1e3, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, strings.TrimSuffix(s, "M")
	}
	var f float64
	if _, err := fmt.Sscanf(s, "%g", &f); err != nil || f < 0 || f > 1e7 {
		return 0
	}
	return int64(f * mult)
}

// Post converts a message; media-only messages (no text) report false.
func (m Message) Post(source, lang string, fetched time.Time) (schema.Post, bool) {
	ch, num, ok := strings.Cut(m.Ref, "/")
	if !ok || !channelRE.MatchString(ch) || num == "" || strings.ContainsAny(num, "/?# ") {
		return schema.Post{}, false
	}
	link := "https://t.me/" + m.Ref
	canonical, _ := urlcanon.Canonical(link)
	text := m.Text
	if m.ForwardedFrom != "" {
		text = "Forwarded from " + m.ForwardedFrom + ":\n" + text
	}
	published := m.Time
	if published.IsZero() || published.After(fetched.Add(24*time.Hour)) {
		published = fetched.UTC()
	}
	if m.Text == "" {
		return schema.Post{}, false
	}
	p := schema.Post{ID: schema.PostID(canonical, source, link), Source: source, Platform: Platform, URL: link, CanonicalURL: canonical,
		Author: m.Author, Lang: feed.NormalizeLang(lang), Text: text, Published: published, Fetched: fetched.UTC()}
	p.Clamp()
	return p, p.Validate() == nil
}
