// Package mastodon follows a hashtag or the public timeline of a Mastodon
// (or compatible: Pleroma, Akkoma, GoToSocial) instance: REST backfill
// (GET /api/v1/timelines/tag/:tag, /api/v1/timelines/public) on start and
// after every reconnect, then the streaming API's server-sent events
// (GET /api/v1/streaming/hashtag, /public) for live statuses.
//
// The SSE stream is read with bufio over the shared fetch transport; no
// client library is used because go-mastodon and friends bring their own
// HTTP clients, which would bypass the SSRF guard and rate limits.
package mastodon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
const Platform = "mastodon"

// MaxEventBytes bounds one SSE event.
const MaxEventBytes = 1 << 20

// Options configures a Connector.
type Options struct {
	Instance    string // https://mastodon.social
	Tag         string // hashtag without '#'; empty follows the public timeline
	Local       bool   // only the instance's own posts
	AccessToken string // many instances require one for streaming
	Keywords    []string
	Source      string // Post.Source; default <instance>/tags/<tag> or <instance>/public
	Publisher   ingest.Publisher
	Client      *fetch.Client
	Backfill    int // statuses fetched over REST on (re)connect, default 40 (the API maximum)
	MinBackoff  time.Duration
	MaxBackoff  time.Duration
}

// Connector streams one instance's hashtag or public timeline.
type Connector struct {
	opts     Options
	base     *url.URL
	log      *slog.Logger
	stream   *http.Client
	seen     *social.Seen
	keywords social.Keywords
	lastID   string
}

// New checks the options.
func New(opts Options, logger *slog.Logger) (*Connector, error) {
	if opts.Publisher == nil || opts.Client == nil {
		return nil, errors.New("mastodon connector needs a publisher and a fetch client")
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(opts.Instance), "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("mastodon instance %q: want https://host", opts.Instance)
	}
	opts.Tag = strings.TrimPrefix(strings.TrimSpace(opts.Tag), "#")
	if opts.Source == "" {
		opts.Source = u.String() + "/public"
		if opts.Tag != "" {
			opts.Source = u.String() + "/tags/" + url.PathEscape(opts.Tag)
		}
	}
	if opts.Backfill <= 0 || opts.Backfill > 40 {
		opts.Backfill = 40
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Connector{opts: opts, base: u, log: logger.With(slog.String("component", "mastodon"), slog.String("source", opts.Source)),
		stream: &http.Client{Transport: opts.Client.Transport()}, seen: social.NewSeen(20000), keywords: social.NewKeywords(opts.Keywords)}, nil
}

// Run backfills, then streams, reconnecting with backoff, until ctx ends.
func (c *Connector) Run(ctx context.Context) error {
	defer c.stream.CloseIdleConnections()
	attempt := 0
	for {
		if err := c.backfill(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("mastodon backfill failed", slog.Any("err", err))
		}
		start := time.Now()
		err := c.readStream(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			attempt = 0 // it was a healthy stream that ended, not a failing one
		}
		attempt++
		wait := social.Backoff(attempt, c.opts.MinBackoff, c.opts.MaxBackoff)
		c.log.Warn("mastodon stream ended; reconnecting", slog.Any("err", err), slog.Duration("in", wait))
		if social.Sleep(ctx, wait) != nil {
			return nil
		}
	}
}

func (c *Connector) path(stream bool) string {
	switch {
	case stream && c.opts.Tag != "":
		q := url.Values{"tag": {c.opts.Tag}}
		if c.opts.Local {
			return "/api/v1/streaming/hashtag/local?" + q.Encode()
		}
		return "/api/v1/streaming/hashtag?" + q.Encode()
	case stream:
		if c.opts.Local {
			return "/api/v1/streaming/public/local"
		}
		return "/api/v1/streaming/public"
	case c.opts.Tag != "":
		return "/api/v1/timelines/tag/" + url.PathEscape(c.opts.Tag)
	default:
		return "/api/v1/timelines/public"
	}
}

func (c *Connector) authHeader() http.Header {
	h := http.Header{}
	if c.opts.AccessToken != "" {
		h.Set("Authorization", "Bearer "+c.opts.AccessToken)
	}
	return h
}

// backfill fetches the statuses since the last one seen (newest first on
// the wire) and publishes them oldest first.
func (c *Connector) backfill(ctx context.Context) error {
	q := url.Values{"limit": {fmt.Sprint(c.opts.Backfill)}}
	if c.opts.Local {
		q.Set("local", "true")
	}
	if c.lastID != "" {
		q.Set("since_id", c.lastID)
	}
	res, err := c.opts.Client.Get(ctx, fetch.Request{URL: c.base.String() + c.path(false) + "?" + q.Encode(), Accept: "application/json", IgnoreRobots: true, Header: c.authHeader()})
	if err != nil {
		return err
	}
	var statuses []Status
	if err := json.Unmarshal(res.Body, &statuses); err != nil {
		return fmt.Errorf("cannot decode timeline: %w", err)
	}
	slices.Reverse(statuses)
	return c.publish(ctx, statuses...)
}

// readStream reads SSE events until the connection ends.
func (c *Connector) readStream(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+c.path(true), nil)
	if err != nil {
		return err
	}
	req.Header = c.authHeader()
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.stream.Do(req)
	if err != nil {
		return fmt.Errorf("cannot open stream: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		return &fetch.StatusError{URL: req.URL.String(), StatusCode: res.StatusCode}
	}
	return ReadEvents(res.Body, func(ev Event) error {
		if ev.Name != "update" && ev.Name != "status.update" {
			return nil // delete, notification, filters_changed…
		}
		var s Status
		if err := json.Unmarshal([]byte(ev.Data), &s); err != nil {
			c.log.Debug("undecodable status", slog.Any("err", err))
			return nil
		}
		return c.publish(ctx, s)
	})
}

// Event is one server-sent event.
type Event struct {
	Name string
	Data string
}

// ReadEvents parses a text/event-stream (WHATWG rules: "event:" and
// "data:" fields, multi-line data joined by newlines, comments starting
// with ':', an empty line dispatching) and calls fn per event.
func ReadEvents(r io.Reader, fn func(Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxEventBytes)
	var ev Event
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(data) > 0 {
				ev.Data = strings.Join(data, "\n")
				if ev.Name == "" {
					ev.Name = "message"
				}
				if err := fn(ev); err != nil {
					return err
				}
			}
			ev, data = Event{}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // heartbeat
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.Name = value
		case "data":
			data = append(data, value)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF // the server closed the stream
}

// Status is the part of a Mastodon status we use.
type Status struct {
	ID          string    `json:"id"`
	URI         string    `json:"uri"`
	URL         string    `json:"url"`
	CreatedAt   time.Time `json:"created_at"`
	Content     string    `json:"content"`
	SpoilerText string    `json:"spoiler_text"`
	Language    string    `json:"language"`
	Account     struct {
		Acct        string `json:"acct"`
		DisplayName string `json:"display_name"`
		URL         string `json:"url"`
	} `json:"account"`
	Reblog     *Status `json:"reblog"`
	Reblogs    int64   `json:"reblogs_count"`
	Favourites int64   `json:"favourites_count"`
	Replies    int64   `json:"replies_count"`
}

// ToPost converts a status (a boost becomes the boosted status, so the
// same status reached through boosts is one post).
func ToPost(s Status, source, instanceHost string, fetched time.Time) (schema.Post, bool) {
	if s.Reblog != nil {
		s = *s.Reblog
	}
	link := s.URL
	if link == "" {
		link = s.URI
	}
	canonical, _ := urlcanon.Canonical(link)
	text := feed.HTMLText(s.Content)
	if cw := feed.HTMLText(s.SpoilerText); cw != "" {
		text = cw + "\n\n" + text
	}
	author := s.Account.Acct
	if author != "" && !strings.Contains(author, "@") && instanceHost != "" {
		author += "@" + instanceHost // local accounts come without their domain
	}
	guid := s.URI
	if guid == "" {
		guid = s.ID
	}
	published := s.CreatedAt.UTC()
	if published.IsZero() || published.After(fetched.Add(24*time.Hour)) {
		published = fetched
	}
	p := schema.Post{ID: schema.PostID(canonical, source, guid), Source: source, Platform: Platform, URL: link, CanonicalURL: canonical,
		Author: author, Lang: feed.NormalizeLang(s.Language), Text: text, Published: published, Fetched: fetched.UTC(),
		Engagement: schema.Engagement{Likes: s.Favourites, Shares: s.Reblogs, Replies: s.Replies}}
	p.Clamp()
	return p, p.Validate() == nil
}

func (c *Connector) publish(ctx context.Context, statuses ...Status) error {
	now := time.Now().UTC()
	var posts []schema.Post
	last := c.lastID
	batch := map[string]bool{}
	for _, s := range statuses {
		if later(s.ID, last) {
			last = s.ID
		}
		p, ok := ToPost(s, c.opts.Source, c.base.Host, now)
		if !ok || !c.keywords.Match(p.Text) || c.seen.Has(p.ID) || batch[p.ID] {
			continue
		}
		batch[p.ID] = true
		posts = append(posts, p)
	}
	if len(posts) > 0 {
		if err := c.opts.Publisher.Publish(ctx, posts...); err != nil {
			// Neither the seen set nor since_id advance: the backfill after
			// the reconnect fetches these statuses again.
			return fmt.Errorf("cannot publish %d statuses: %w", len(posts), err)
		}
	}
	for _, p := range posts {
		c.seen.Add(p.ID)
	}
	c.lastID = last
	return nil
}

// later compares Mastodon ids: decimal strings (snowflakes), so a longer
// one is larger.
func later(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}
