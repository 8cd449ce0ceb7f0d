// Package bluesky follows new Bluesky posts through Jetstream, the
// JSON-over-WebSocket projection of the AT Protocol firehose
// (wss://jetstream*.bsky.network/subscribe), filtering by keyword and
// language on our side since Jetstream filters only by collection and
// account. The WebSocket is github.com/coder/websocket (maintained,
// context-aware, dials through any *http.Client) over the shared fetch
// transport, so the SSRF guard applies. On reconnect the connector
// resumes from its last event time (Jetstream's cursor) minus a small
// overlap; the seen set absorbs the overlap.
package bluesky

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/social"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

// Platform is the schema.Post platform.
const Platform = "bluesky"

// DefaultEndpoint is a public Jetstream instance.
const DefaultEndpoint = "wss://jetstream2.us-east.bsky.network/subscribe"

const postCollection = "app.bsky.feed.post"

// Options configures a Connector.
type Options struct {
	Endpoint  string   // Jetstream subscribe URL (DefaultEndpoint when empty)
	Keywords  []string // keep posts containing any (case- and diacritic-insensitive); empty keeps all
	Langs     []string // keep posts tagged with any of these languages; empty keeps all
	DIDs      []string // follow only these accounts (Jetstream wantedDids)
	Source    string   // Post.Source (default "bluesky:jetstream")
	Publisher ingest.Publisher
	Client    *fetch.Client
	// BatchSize and FlushInterval batch publishing: the firehose carries
	// hundreds of posts a second. Defaults 200 and 1s.
	BatchSize     int
	FlushInterval time.Duration
	MinBackoff    time.Duration // default 1s
	MaxBackoff    time.Duration // default 5m
}

// Connector follows Jetstream.
type Connector struct {
	opts     Options
	log      *slog.Logger
	http     *http.Client
	keywords social.Keywords
	seen     *social.Seen
	cursor   int64 // time_us of the last event handled
}

// New checks the options.
func New(opts Options, logger *slog.Logger) (*Connector, error) {
	if opts.Publisher == nil || opts.Client == nil {
		return nil, errors.New("bluesky connector needs a publisher and a fetch client")
	}
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultEndpoint
	}
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "wss" && u.Scheme != "ws") || u.Host == "" {
		return nil, fmt.Errorf("jetstream endpoint %q: want wss://host/subscribe", opts.Endpoint)
	}
	if opts.Source == "" {
		opts.Source = "bluesky:jetstream"
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 200
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	for i, l := range opts.Langs {
		opts.Langs[i] = feed.NormalizeLang(l)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Connector{opts: opts, log: logger.With(slog.String("component", "bluesky")), http: &http.Client{Transport: opts.Client.Transport()},
		keywords: social.NewKeywords(opts.Keywords), seen: social.NewSeen(50000)}, nil
}

// Run follows the stream, reconnecting with backoff, until ctx ends.
func (c *Connector) Run(ctx context.Context) error {
	defer c.http.CloseIdleConnections()
	attempt := 0
	for {
		start := time.Now()
		err := c.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			attempt = 0
		}
		attempt++
		wait := social.Backoff(attempt, c.opts.MinBackoff, c.opts.MaxBackoff)
		c.log.Warn("jetstream connection ended; reconnecting", slog.Any("err", err), slog.Duration("in", wait))
		if social.Sleep(ctx, wait) != nil {
			return nil
		}
	}
}

// subscribeURL adds the filters and, after the first connection, the
// cursor (5 s of overlap so nothing falls between connections).
func (c *Connector) subscribeURL() string {
	u, _ := url.Parse(c.opts.Endpoint) // validated in New
	q := u.Query()
	q.Set("wantedCollections", postCollection)
	for _, d := range c.opts.DIDs {
		q.Add("wantedDids", d)
	}
	if c.cursor > 0 {
		q.Set("cursor", strconv.FormatInt(c.cursor-5_000_000, 10))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *Connector) session(ctx context.Context) error {
	conn, _, err := websocket.Dial(ctx, c.subscribeURL(), &websocket.DialOptions{HTTPClient: c.http})
	if err != nil {
		return fmt.Errorf("cannot connect to jetstream: %w", err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	msgs := make(chan []byte, 256)
	readErr := make(chan error, 1)
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		// Reading runs apart so a flush timer never cancels a Read (which
		// would close the connection).
		for {
			_, b, err := conn.Read(rctx)
			if err != nil {
				readErr <- err
				close(msgs)
				return
			}
			select {
			case msgs <- b:
			case <-rctx.Done():
				readErr <- rctx.Err()
				close(msgs)
				return
			}
		}
	}()
	tick := time.NewTicker(c.opts.FlushInterval)
	defer tick.Stop()
	var batch []schema.Post
	var batchCursor int64
	flush := func() error {
		if len(batch) == 0 {
			c.cursor = max(c.cursor, batchCursor)
			return nil
		}
		if err := c.opts.Publisher.Publish(ctx, batch...); err != nil {
			return fmt.Errorf("cannot publish %d posts: %w", len(batch), err) // cursor not advanced: replayed on reconnect
		}
		for _, p := range batch {
			c.seen.Add(p.ID)
		}
		c.cursor = max(c.cursor, batchCursor)
		batch = batch[:0]
		return nil
	}
	for {
		select {
		case b, ok := <-msgs:
			if !ok {
				if err := flush(); err != nil {
					return err
				}
				return <-readErr
			}
			ev, err := ParseEvent(b)
			if err != nil {
				c.log.Debug("undecodable jetstream event", slog.Any("err", err))
				continue
			}
			batchCursor = max(batchCursor, ev.TimeUS)
			p, ok := ev.Post(c.opts.Source, time.Now())
			if !ok || !c.keep(p) || c.seen.Has(p.ID) || slices.ContainsFunc(batch, func(q schema.Post) bool { return q.ID == p.ID }) {
				continue
			}
			batch = append(batch, p)
			if len(batch) >= c.opts.BatchSize {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-tick.C:
			if err := flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Connector) keep(p schema.Post) bool {
	if len(c.opts.Langs) > 0 && !slices.Contains(c.opts.Langs, p.Lang) {
		return false
	}
	return c.keywords.Match(p.Text)
}

// Event is a Jetstream message.
type Event struct {
	DID    string `json:"did"`
	TimeUS int64  `json:"time_us"`
	Kind   string `json:"kind"` // commit, identity, account
	Commit *struct {
		Operation  string          `json:"operation"` // create, update, delete
		Collection string          `json:"collection"`
		RKey       string          `json:"rkey"`
		Record     json.RawMessage `json:"record"`
	} `json:"commit"`
}

type postRecord struct {
	Text      string   `json:"text"`
	CreatedAt string   `json:"createdAt"`
	Langs     []string `json:"langs"`
	Embed     *struct {
		External *struct {
			URI   string `json:"uri"`
			Title string `json:"title"`
		} `json:"external"`
	} `json:"embed"`
}

// ParseEvent decodes one message.
func ParseEvent(b []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("cannot decode jetstream event: %w", err)
	}
	return ev, nil
}

// Post converts a post-creation commit; other events report false.
func (ev Event) Post(source string, fetched time.Time) (schema.Post, bool) {
	if ev.Kind != "commit" || ev.Commit == nil || ev.Commit.Operation != "create" || ev.Commit.Collection != postCollection ||
		ev.DID == "" || ev.Commit.RKey == "" || strings.ContainsAny(ev.DID+ev.Commit.RKey, "/?# ") {
		return schema.Post{}, false
	}
	var r postRecord
	if json.Unmarshal(ev.Commit.Record, &r) != nil {
		return schema.Post{}, false
	}
	text := strings.TrimSpace(r.Text)
	if r.Embed != nil && r.Embed.External != nil && r.Embed.External.URI != "" {
		// The linked article is what spreads; keep its address in the text
		// so URL topics see it.
		text = strings.TrimSpace(text + "\n" + feed.HTMLText(r.Embed.External.Title) + "\n" + r.Embed.External.URI)
	}
	link := "https://bsky.app/profile/" + ev.DID + "/post/" + ev.Commit.RKey
	canonical, _ := urlcanon.Canonical(link)
	published := fetched.UTC()
	if t, err := time.Parse(time.RFC3339Nano, r.CreatedAt); err == nil && !t.After(fetched.Add(24*time.Hour)) && t.Year() > 2000 {
		published = t.UTC()
	} else if ev.TimeUS > 0 {
		published = time.UnixMicro(ev.TimeUS).UTC()
	}
	lang := ""
	if len(r.Langs) > 0 {
		lang = feed.NormalizeLang(r.Langs[0])
	}
	p := schema.Post{ID: schema.PostID(canonical, source, "at://"+ev.DID+"/"+postCollection+"/"+ev.Commit.RKey), Source: source, Platform: Platform,
		URL: link, CanonicalURL: canonical, Author: ev.DID, Lang: lang, Text: text, Published: published, Fetched: fetched.UTC()}
	p.Clamp()
	return p, p.Validate() == nil
}
