// Package crawl collects articles from web sites that have no usable
// feed. It drives github.com/gocolly/colly/v2 (the standard Go scraping
// framework: depth, domain and request limits, async queue, visited-set)
// over the shared ingest/fetch transport, so the SSRF guard, per-host rate
// limits, user agent and robots.txt cache are the same as every other
// collector's. Pages are read with goquery (colly's own HTML layer) by
// Extract: title, text, author, published time, language, and the
// canonical URL from rel=canonical or og:url, which makes the post id the
// same as the one a feed gives the same article.
package crawl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/sources"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

// Platform is the schema.Post platform of crawled articles.
const Platform = "web"

// Options configures a Crawler. Publisher and Client are required; Store
// only for Run.
type Options struct {
	Store     sources.Store
	Publisher ingest.Publisher
	Client    *fetch.Client
	Status    feed.StatusSink // optional
	// ReloadInterval: how often Run re-reads the store (default 10s).
	ReloadInterval time.Duration
	// Interval between passes over one site when the source sets none
	// (default 30m); MaxBackoff bounds the wait after failed passes (6h).
	Interval, MaxBackoff time.Duration
	// Defaults for the per-source options depth, max_pages, sitemap.
	MaxDepth    int  // default 2: the start page and the pages it links to
	MaxPages    int  // default 200 requests per pass
	NoSitemap   bool // skip sitemap discovery
	Parallelism int  // concurrent requests per pass (default 2; hosts are also limited by the client)
	// SeenLimit bounds the canonical URLs remembered across passes
	// (default 100000), so an article is published once.
	SeenLimit int
}

func (o *Options) defaults() error {
	if o.Publisher == nil || o.Client == nil {
		return errors.New("crawler needs a publisher and a fetch client")
	}
	if o.ReloadInterval <= 0 {
		o.ReloadInterval = 10 * time.Second
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Minute
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 6 * time.Hour
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 2
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 200
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 2
	}
	if o.SeenLimit <= 0 {
		o.SeenLimit = 100000
	}
	return nil
}

var (
	pagesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "ingest", Name: "crawl_pages_total",
		Help: "Crawled pages by outcome (article, duplicate, page, skipped, error).",
	}, []string{"outcome"})
)

// skipExt are links to files that are never articles.
var skipExt = regexp.MustCompile(`(?i)\.(jpe?g|png|gif|webp|svg|ico|bmp|tiff?|pdf|docx?|xlsx?|pptx?|zip|gz|tgz|rar|7z|mp[34]|m4a|ogg|wav|mov|avi|mkv|webm|css|js|json|woff2?|ttf|eot|exe|dmg|apk)([?#]|$)`)

// Crawler crawls sites and publishes their articles.
type Crawler struct {
	opts      Options
	log       *slog.Logger
	transport http.RoundTripper

	mu    sync.Mutex
	seen  map[string]struct{} // canonical URLs already published
	order []string
}

// Stats summarise one pass.
type Stats struct {
	Pages      int // responses handled
	Articles   int // published
	Duplicates int // articles whose canonical URL was already published
	Errors     int
}

// New returns a Crawler.
func New(opts Options, logger *slog.Logger) (*Crawler, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Crawler{opts: opts, log: logger.With(slog.String("component", "crawl")), transport: opts.Client.Transport(), seen: map[string]struct{}{}}, nil
}

// Close releases idle connections.
func (c *Crawler) Close() {
	if t, ok := c.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// Run crawls every enabled "crawl" source from the store, one pass per
// source per interval, until ctx is cancelled.
func (c *Crawler) Run(ctx context.Context) error {
	if c.opts.Store == nil {
		return errors.New("crawler Run needs a source store")
	}
	defer c.Close()
	type sched struct {
		next     time.Time
		failures int
	}
	state := map[string]*sched{}
	for {
		list, err := c.opts.Store.List(ctx)
		if err != nil {
			c.log.Warn("cannot list sources", slog.Any("err", err))
		}
		now := time.Now()
		for _, src := range list {
			if ctx.Err() != nil {
				return nil
			}
			if !src.Enabled || src.Kind != sources.KindCrawl {
				continue
			}
			st := state[src.ID]
			if st == nil {
				st = &sched{next: now}
				state[src.ID] = st
			}
			if st.next.After(now) {
				continue
			}
			interval := c.opts.Interval
			if src.Interval > 0 {
				interval = src.Interval
			}
			start := time.Now()
			stats, err := c.Crawl(ctx, src)
			if ctx.Err() != nil {
				return nil
			}
			status := schema.SourceStatus{SourceID: src.ID, LastAttempt: start.UTC(), LastNewItems: stats.Articles}
			if err != nil {
				st.failures++
				wait := min(time.Duration(float64(interval)*float64(uint(1)<<min(st.failures, 16))), c.opts.MaxBackoff)
				st.next = time.Now().Add(wait)
				status.LastError, status.LastErrorAt, status.Failures = err.Error(), time.Now().UTC(), st.failures
				c.log.Warn("crawl failed", slog.String("source", src.URL), slog.Int("failures", st.failures), slog.Any("err", err))
			} else {
				st.failures = 0
				st.next = time.Now().Add(interval)
				status.LastSuccess = time.Now().UTC()
				c.log.Info("crawl pass done", slog.String("source", src.URL), slog.Int("pages", stats.Pages), slog.Int("articles", stats.Articles), slog.Int("duplicates", stats.Duplicates))
			}
			status.NextPoll = st.next.UTC()
			if c.opts.Status != nil {
				_ = c.opts.Status.ReportStatus(ctx, status)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(c.opts.ReloadInterval):
		}
	}
}

// sourceOptions reads the per-source options with the crawler's defaults.
func (c *Crawler) sourceOptions(src schema.Source, start *url.URL) (domains []string, depth, pages int, sitemap bool, err error) {
	depth, pages, sitemap = c.opts.MaxDepth, c.opts.MaxPages, !c.opts.NoSitemap
	o := src.Options
	if v := o["depth"]; v != "" {
		if depth, err = strconv.Atoi(v); err != nil || depth < 1 || depth > 10 {
			return nil, 0, 0, false, fmt.Errorf("source %s: depth %q: want 1..10", src.URL, v)
		}
	}
	if v := o["max_pages"]; v != "" {
		if pages, err = strconv.Atoi(v); err != nil || pages < 1 {
			return nil, 0, 0, false, fmt.Errorf("source %s: max_pages %q: want a positive number", src.URL, v)
		}
	}
	if v := o["sitemap"]; v != "" {
		if sitemap, err = strconv.ParseBool(v); err != nil {
			return nil, 0, 0, false, fmt.Errorf("source %s: sitemap %q: want true or false", src.URL, v)
		}
	}
	host := start.Hostname()
	domains = []string{host}
	if strings.HasPrefix(host, "www.") {
		domains = append(domains, strings.TrimPrefix(host, "www."))
	} else {
		domains = append(domains, "www."+host)
	}
	for _, d := range strings.Split(o["allowed_domains"], ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" && !slices.Contains(domains, d) {
			domains = append(domains, d)
		}
	}
	return domains, depth, pages, sitemap, nil
}

// Crawl makes one pass over a site and publishes the articles not
// published before.
func (c *Crawler) Crawl(ctx context.Context, src schema.Source) (Stats, error) {
	var stats Stats
	start, err := url.Parse(src.URL)
	if err != nil || (start.Scheme != "http" && start.Scheme != "https") || start.Host == "" {
		return stats, fmt.Errorf("cannot crawl %q: not an absolute http(s) URL", src.URL)
	}
	domains, depth, maxPages, useSitemap, err := c.sourceOptions(src, start)
	if err != nil {
		return stats, err
	}
	col := colly.NewCollector(
		colly.StdlibContext(ctx),
		colly.Async(true),
		colly.MaxDepth(depth),
		colly.AllowedDomains(domains...),
		colly.MaxBodySize(int(c.opts.Client.MaxBodyBytes())),
		colly.UserAgent(c.opts.Client.UserAgent()),
		colly.MaxRequests(uint32(maxPages)),
		colly.IgnoreRobotsTxt(), // robots.txt is checked through the shared fetch cache in OnRequest
	)
	col.WithTransport(c.transport)
	col.DisallowedURLFilters = []*regexp.Regexp{skipExt}
	if err := col.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: c.opts.Parallelism}); err != nil {
		return stats, fmt.Errorf("cannot configure crawler: %w", err)
	}

	var mu sync.Mutex
	var posts []schema.Post
	pass := map[string]bool{}
	var firstErr error
	col.OnRequest(func(r *colly.Request) {
		ok, err := c.opts.Client.RobotsAllowed(ctx, r.URL.String())
		if err != nil || !ok {
			pagesTotal.WithLabelValues("skipped").Inc()
			r.Abort()
			return
		}
		// An article published in an earlier pass is not fetched again;
		// the start page always is (it is where new links appear).
		if r.Depth > 1 {
			if canon, err := urlcanon.Canonical(r.URL.String()); err == nil && c.published(canon) {
				pagesTotal.WithLabelValues("skipped").Inc()
				r.Abort()
			}
		}
	})
	col.OnError(func(r *colly.Response, err error) {
		mu.Lock()
		defer mu.Unlock()
		stats.Errors++
		pagesTotal.WithLabelValues("error").Inc()
		if r.Request != nil && r.Request.Depth == 1 && r.Request.URL.String() == start.String() && firstErr == nil {
			firstErr = fmt.Errorf("cannot fetch start page %s: %w", start, err)
		}
		c.log.Debug("crawl request failed", slog.String("url", r.Request.URL.String()), slog.Any("err", err))
	})
	col.OnResponse(func(r *colly.Response) {
		ct := r.Headers.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); ct != "" && (err != nil || (mt != "text/html" && mt != "application/xhtml+xml")) {
			pagesTotal.WithLabelValues("skipped").Inc()
			return
		}
		pageURL := r.Request.URL.String()
		art, err := Extract(r.Body, pageURL)
		if err != nil {
			pagesTotal.WithLabelValues("error").Inc()
			return
		}
		for _, l := range art.Links {
			_ = r.Request.Visit(l) // depth, domain, visited and request limits are colly's
		}
		mu.Lock()
		defer mu.Unlock()
		stats.Pages++
		post, ok := articlePost(art, src, pageURL, time.Now().UTC())
		switch {
		case !ok:
			pagesTotal.WithLabelValues("page").Inc()
		case pass[post.CanonicalURL] || c.published(post.CanonicalURL):
			stats.Duplicates++
			pagesTotal.WithLabelValues("duplicate").Inc()
		default:
			pass[post.CanonicalURL] = true
			posts = append(posts, post)
			pagesTotal.WithLabelValues("article").Inc()
		}
	})

	targets := []string{start.String()}
	if useSitemap {
		urls, err := discoverSitemaps(ctx, c.opts.Client, start, maxPages)
		if err != nil {
			c.log.Debug("no sitemap", slog.String("source", src.URL), slog.Any("err", err))
		}
		targets = append(targets, urls...)
	}
	for _, t := range targets {
		var visited *colly.AlreadyVisitedError
		if err := col.Visit(t); err != nil && !errors.As(err, &visited) && !errors.Is(err, colly.ErrMaxRequests) {
			c.log.Debug("cannot queue", slog.String("url", t), slog.Any("err", err))
		}
	}
	col.Wait()
	if ctx.Err() != nil {
		return stats, ctx.Err()
	}
	for i := 0; i < len(posts); i += 100 {
		batch := posts[i:min(i+100, len(posts))]
		if err := c.opts.Publisher.Publish(ctx, batch...); err != nil {
			return stats, fmt.Errorf("cannot publish %d articles from %s: %w", len(batch), src.URL, err)
		}
		c.markPublished(batch)
		stats.Articles += len(batch)
	}
	if firstErr != nil && stats.Pages == 0 {
		return stats, firstErr
	}
	return stats, nil
}

// articlePost turns an extracted article into a post, or reports false
// for pages that are not articles.
func articlePost(a *Article, src schema.Source, pageURL string, fetched time.Time) (schema.Post, bool) {
	if !a.IsArticle || a.CanonicalURL == "" {
		return schema.Post{}, false
	}
	lang := a.Lang
	if lang == "" {
		lang = feed.NormalizeLang(src.Lang)
	}
	published := a.Published
	if published.IsZero() || published.After(fetched.Add(24*time.Hour)) {
		published = fetched
	}
	p := schema.Post{
		ID:           schema.PostID(a.CanonicalURL, src.URL, pageURL),
		Source:       src.URL,
		Platform:     Platform,
		URL:          pageURL,
		CanonicalURL: a.CanonicalURL,
		Author:       a.Author,
		Lang:         lang,
		Title:        a.Title,
		Text:         a.Text,
		Published:    published,
		Fetched:      fetched,
	}
	p.Clamp()
	return p, p.Validate() == nil
}

func (c *Crawler) published(canon string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[canon]
	return ok
}

func (c *Crawler) markPublished(posts []schema.Post) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range posts {
		if _, ok := c.seen[p.CanonicalURL]; ok {
			continue
		}
		c.seen[p.CanonicalURL] = struct{}{}
		c.order = append(c.order, p.CanonicalURL)
	}
	for len(c.order) > c.opts.SeenLimit {
		delete(c.seen, c.order[0])
		c.order = c.order[1:]
	}
}
