// Package fetch is the one HTTP client every trendwatch collector uses
// (feeds, crawler, social connectors), modelled on Miniflux's
// internal/reader/fetcher: request timeouts, a body size cap that also
// guards against decompression bombs, gzip and brotli
// (github.com/andybalholm/brotli, the pure-Go decoder Miniflux and Caddy
// use), conditional GET, a polite user agent, robots.txt
// (github.com/temoto/robotstxt, the parser colly already depends on),
// per-host rate limits and concurrency (golang.org/x/time/rate), and an
// SSRF guard in the dialer's Control hook so that redirects and DNS answers
// pointing at private addresses are refused after resolution.
//
// The next poll a server asks for (429/503 Retry-After, Cache-Control
// max-age) is returned to the caller, who decides the schedule.
package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"golang.org/x/time/rate"
)

// Typed errors. Match with errors.Is / errors.As.
var (
	// ErrTooLarge: the body (on the wire or decoded) exceeded MaxBodyBytes.
	ErrTooLarge = errors.New("response body too large")
	// ErrRobotsDisallowed: robots.txt forbids the path for our user agent.
	ErrRobotsDisallowed = errors.New("disallowed by robots.txt")
	// ErrUnsupportedURL: not an absolute http(s) URL.
	ErrUnsupportedURL = errors.New("unsupported URL")
)

// StatusError is returned for any final HTTP status other than 2xx and 304.
type StatusError struct {
	URL        string
	StatusCode int
	// RetryAfter is the wait the server asked for (429/503 Retry-After),
	// or 0 when it gave none.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Temporary reports whether retrying later may succeed.
func (e *StatusError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout
}

// Options configures a Client. The zero value is usable: every field has a
// safe default.
type Options struct {
	// UserAgent overrides the default "trendwatch/<version> (+<ContactURL>)".
	UserAgent string
	// ContactURL is where site owners learn who is collecting and how to
	// reach us; it goes into the default user agent.
	ContactURL string
	// Version goes into the default user agent.
	Version string
	// Timeout bounds a whole request including reading the body (default 30s).
	Timeout time.Duration
	// MaxBodyBytes caps the body both on the wire and after decompression
	// (default 10 MiB).
	MaxBodyBytes int64
	// PerHostRate is requests per second to one host (default 1) and
	// PerHostBurst its burst (default 2).
	PerHostRate  float64
	PerHostBurst int
	// PerHostConcurrency bounds simultaneous requests to one host (default 2).
	PerHostConcurrency int
	// MaxRedirects (default 10).
	MaxRedirects int
	// IgnoreRobots skips robots.txt for every request.
	IgnoreRobots bool
	// RobotsTTL is how long a host's robots.txt is cached (default 1h).
	RobotsTTL time.Duration
	// Allow lists CIDRs, addresses and host names that may be reached even
	// though they are not public (intranets; 127.0.0.1 in tests).
	Allow []string
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.PerHostRate <= 0 {
		o.PerHostRate = 1
	}
	if o.PerHostBurst <= 0 {
		o.PerHostBurst = 2
	}
	if o.PerHostConcurrency <= 0 {
		o.PerHostConcurrency = 2
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 10
	}
	if o.RobotsTTL <= 0 {
		o.RobotsTTL = time.Hour
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.UserAgent == "" {
		o.UserAgent = "trendwatch/" + o.Version
		if o.ContactURL != "" {
			o.UserAgent += " (+" + o.ContactURL + ")"
		} else {
			o.UserAgent += " (+https://github.com/trendwatch/trendwatch)"
		}
	}
}

// Client fetches documents. It is safe for concurrent use.
type Client struct {
	opts   Options
	http   *http.Client
	limits *hostLimits
	robots *robotsCache
}

// New returns a Client.
func New(opts Options) (*Client, error) {
	opts.defaults()
	allow, err := parseAllowList(opts.Allow)
	if err != nil {
		return nil, err
	}
	base := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us and bypass the guard
		DialContext:           allow.dialer(opts.Timeout),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   opts.PerHostConcurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: opts.Timeout,
		DisableCompression:    true, // we ask for gzip and br ourselves and cap the decoded size
	}
	c := &Client{opts: opts, limits: newHostLimits(opts.PerHostRate, opts.PerHostBurst, opts.PerHostConcurrency)}
	c.http = &http.Client{
		Transport: &limitedTransport{base: base, limits: c.limits, ua: opts.UserAgent},
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= opts.MaxRedirects {
				return fmt.Errorf("stopped after %d redirects", opts.MaxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirect to %s", ErrUnsupportedURL, req.URL.Scheme)
			}
			return nil
		},
	}
	c.robots = newRobotsCache(c, opts.RobotsTTL)
	return c, nil
}

// UserAgent is the user agent this client sends.
func (c *Client) UserAgent() string { return c.opts.UserAgent }

// Transport returns a guarded, rate-limited HTTP/1.1 transport sharing
// this client's per-host limits, for code that brings its own request loop
// (colly) or holds a stream open (SSE, WebSocket). It adds the user agent
// and lets Go decode gzip, since such callers read the body directly; they
// must cap what they read themselves. A streaming response holds one of
// its host's concurrency slots until its body is closed. The caller owns
// the transport: close its idle connections when done.
func (c *Client) Transport() http.RoundTripper {
	allow, _ := parseAllowList(c.opts.Allow) // validated in New
	base := &http.Transport{
		Proxy:       nil,
		DialContext: allow.dialer(c.opts.Timeout),
		// HTTP/1.1 only: WebSocket upgrades and long-lived SSE streams
		// need it, and crawling gains little from HTTP/2.
		ForceAttemptHTTP2:     false,
		MaxIdleConnsPerHost:   c.opts.PerHostConcurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: c.opts.Timeout,
	}
	return &limitedTransport{base: base, limits: c.limits, ua: c.opts.UserAgent}
}

// RobotsAllowed reports whether robots.txt lets this client fetch rawURL,
// from the same per-host cache Get uses. Collectors that bring their own
// request loop (colly) ask it before each request.
func (c *Client) RobotsAllowed(ctx context.Context, rawURL string) (bool, error) {
	if c.opts.IgnoreRobots {
		return true, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false, fmt.Errorf("cannot check robots.txt for %q: %w", rawURL, ErrUnsupportedURL)
	}
	return c.robots.allowed(ctx, u)
}

// MaxBodyBytes is the body cap this client applies.
func (c *Client) MaxBodyBytes() int64 { return c.opts.MaxBodyBytes }

// Request is one fetch.
type Request struct {
	URL string
	// ETag and LastModified from the previous response make the request
	// conditional; an unchanged document comes back as NotModified.
	ETag         string
	LastModified string
	// Accept overrides the default Accept header.
	Accept string
	// IgnoreRobots skips robots.txt for this request (explicitly
	// subscribed feeds and APIs).
	IgnoreRobots bool
	// Header adds request headers (API tokens and the like).
	Header http.Header
}

// Response is a fetched document.
type Response struct {
	URL          string // final URL after redirects
	StatusCode   int
	NotModified  bool // 304: Body is empty, keep the previous state
	Body         []byte
	ContentType  string
	ETag         string
	LastModified string
	// NextPoll is the interval the server suggested (Cache-Control
	// max-age), or 0.
	NextPoll time.Duration
	Header   http.Header
	Fetched  time.Time
}

// Get fetches req.URL.
func (c *Client) Get(ctx context.Context, req Request) (*Response, error) {
	start := time.Now()
	resp, err := c.get(ctx, req)
	fetchDuration.Observe(time.Since(start).Seconds())
	fetchesTotal.WithLabelValues(outcome(resp, err)).Inc()
	if resp != nil {
		fetchBytes.Add(float64(len(resp.Body)))
	}
	return resp, err
}

// outcome is the fetches_total label: ErrorKind coarsened to status
// classes, with the kinds the metric never split out as "error".
func outcome(resp *Response, err error) string {
	switch kind := ErrorKind(err); {
	case err == nil && resp.NotModified:
		return "not_modified"
	case err == nil:
		return "ok"
	case strings.HasPrefix(kind, "http_") && len(kind) == len("http_404"):
		return kind[:len("http_4")] + "xx"
	case kind == "blocked", kind == "robots", kind == "too_large", kind == "timeout":
		return kind
	default:
		return "error"
	}
}

func (c *Client) get(ctx context.Context, req Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cannot fetch %q: %w", req.URL, ErrUnsupportedURL)
	}
	if !c.opts.IgnoreRobots && !req.IgnoreRobots {
		ok, err := c.robots.allowed(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("cannot fetch %s: %w", req.URL, err)
		}
		if !ok {
			return nil, fmt.Errorf("cannot fetch %s: %w", req.URL, ErrRobotsDisallowed)
		}
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("cannot build request for %s: %w", req.URL, err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	hr.Header.Set("Accept-Encoding", "gzip, br")
	if req.Accept != "" {
		hr.Header.Set("Accept", req.Accept)
	} else if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "*/*")
	}
	if req.ETag != "" {
		hr.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hr.Header.Set("If-Modified-Since", req.LastModified)
	}
	res, err := c.http.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch %s: %w", req.URL, err)
	}
	defer res.Body.Close()
	out := &Response{
		URL:          res.Request.URL.String(),
		StatusCode:   res.StatusCode,
		ContentType:  res.Header.Get("Content-Type"),
		ETag:         res.Header.Get("ETag"),
		LastModified: res.Header.Get("Last-Modified"),
		NextPoll:     maxAge(res.Header.Get("Cache-Control")),
		Header:       res.Header,
		Fetched:      time.Now().UTC(),
	}
	switch {
	case res.StatusCode == http.StatusNotModified:
		out.NotModified = true
		// A 304 may omit validators; keep the ones we sent.
		if out.ETag == "" {
			out.ETag = req.ETag
		}
		if out.LastModified == "" {
			out.LastModified = req.LastModified
		}
		return out, nil
	case res.StatusCode < 200 || res.StatusCode > 299:
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // reuse the connection
		return nil, &StatusError{URL: req.URL, StatusCode: res.StatusCode, RetryAfter: retryAfter(res.Header.Get("Retry-After"), time.Now())}
	}
	body, err := readBody(res.Body, res.Header.Get("Content-Encoding"), c.opts.MaxBodyBytes)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", req.URL, err)
	}
	out.Body = body
	return out, nil
}

// readBody reads at most limit bytes from the wire and at most limit bytes
// after decoding, so a small compressed bomb cannot exhaust memory.
func readBody(r io.Reader, encoding string, limit int64) ([]byte, error) {
	wire := &capReader{r: r, n: limit}
	var dec io.Reader
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
		dec = wire
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(wire)
		if err != nil {
			if wire.over {
				return nil, ErrTooLarge
			}
			return nil, fmt.Errorf("bad gzip body: %w", err)
		}
		defer zr.Close()
		dec = zr
	case "br":
		dec = brotli.NewReader(wire)
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", encoding)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(dec, limit+1))
	if wire.over || n > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// capReader reads at most n bytes and remembers whether there was more.
type capReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		var one [1]byte
		if k, _ := c.r.Read(one[:]); k > 0 {
			c.over = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	return k, err
}

// maxAge returns Cache-Control max-age (s-maxage wins for a shared cache
// like us), or 0 when absent or no-cache.
func maxAge(cc string) time.Duration {
	var age time.Duration
	for _, d := range strings.Split(cc, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(strings.ToLower(d)), "=")
		switch k {
		case "max-age", "s-maxage":
			n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
			if err != nil || n < 0 {
				continue
			}
			if n > 365*86400 {
				n = 365 * 86400
			}
			if k == "s-maxage" || age == 0 {
				age = time.Duration(n) * time.Second
			}
		}
	}
	return age
}

// retryAfter parses Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		if n > 7*86400 {
			n = 7 * 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		d := t.Sub(now)
		if d > 7*24*time.Hour {
			d = 7 * 24 * time.Hour
		}
		return d
	}
	return 0
}

// limitedTransport applies per-host rate and concurrency limits to every
// round trip, redirects included, and sets the user agent.
type limitedTransport struct {
	base   http.RoundTripper
	limits *hostLimits
	ua     string
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	release, err := t.limits.acquire(req.Context(), req.URL.Host)
	if err != nil {
		return nil, err
	}
	if req.Header.Get("User-Agent") == "" || strings.HasPrefix(req.Header.Get("User-Agent"), "colly") || strings.HasPrefix(req.Header.Get("User-Agent"), "Go-http-client") {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.ua)
	}
	res, err := t.base.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	if rwc, ok := res.Body.(io.ReadWriteCloser); ok && res.StatusCode == http.StatusSwitchingProtocols {
		// A WebSocket upgrade: the library needs the writable body.
		res.Body = &releaseRWBody{ReadWriteCloser: rwc, release: release}
		return res, nil
	}
	res.Body = &releaseBody{ReadCloser: res.Body, release: release}
	return res, nil
}

type releaseRWBody struct {
	io.ReadWriteCloser
	once    sync.Once
	release func()
}

func (b *releaseRWBody) Close() error {
	err := b.ReadWriteCloser.Close()
	b.once.Do(b.release)
	return err
}

// releaseBody frees the host's concurrency slot when the body is closed,
// because reading the body is part of the load on the host.
type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

type hostLimits struct {
	mu    sync.Mutex
	hosts map[string]*hostLimit
	rate  rate.Limit
	burst int
	conc  int
}

type hostLimit struct {
	lim *rate.Limiter
	sem chan struct{}
}

func newHostLimits(r float64, burst, conc int) *hostLimits {
	return &hostLimits{hosts: map[string]*hostLimit{}, rate: rate.Limit(r), burst: burst, conc: conc}
}

func (h *hostLimits) acquire(ctx context.Context, host string) (func(), error) {
	host = strings.ToLower(host)
	if hn, _, err := net.SplitHostPort(host); err == nil {
		host = hn
	}
	h.mu.Lock()
	l := h.hosts[host]
	if l == nil {
		l = &hostLimit{lim: rate.NewLimiter(h.rate, h.burst), sem: make(chan struct{}, h.conc)}
		h.hosts[host] = l
	}
	h.mu.Unlock()
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := l.lim.Wait(ctx); err != nil {
		<-l.sem
		return nil, fmt.Errorf("rate limit for %s: %w", host, err)
	}
	return func() { <-l.sem }, nil
}
