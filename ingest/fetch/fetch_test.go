package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.PerHostRate == 0 { // tests hit one host many times; the rate limit has its own test
		opts.PerHostRate, opts.PerHostBurst = 1000, 100
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if tr, ok := c.http.Transport.(*limitedTransport); ok {
			tr.base.(*http.Transport).CloseIdleConnections()
		}
	})
	return c
}

var loopback = []string{"127.0.0.1"}

func TestIsPublic(t *testing.T) {
	f := func(ip string, want bool) {
		t.Helper()
		if got := IsPublic(netip.MustParseAddr(ip)); got != want {
			t.Errorf("IsPublic(%s) = %v, want %v", ip, got, want)
		}
	}
	f("127.0.0.1", false)
	f("10.0.0.1", false)
	f("10.255.255.255", false)
	f("172.16.3.4", false)
	f("192.168.1.1", false)
	f("169.254.169.254", false)
	f("100.64.0.1", false)
	f("0.0.0.0", false)
	f("255.255.255.255", false)
	f("224.0.0.1", false)
	f("::1", false)
	f("::", false)
	f("fe80::1", false)
	f("fc00::1", false)
	f("fd12:3456::1", false)
	f("ff02::1", false)
	f("::ffff:127.0.0.1", false)
	f("::ffff:10.1.2.3", false)
	f("::127.0.0.1", false)
	f("64:ff9b::a00:1", false)
	f("2002:7f00:1::", false)
	f("8.8.8.8", true)
	f("1.1.1.1", true)
	f("100.128.0.1", true)
	f("2606:4700:4700::1111", true)
	f("::ffff:8.8.8.8", true)
}

func TestAllowList(t *testing.T) {
	a, err := parseAllowList([]string{"10.0.0.0/8", "::1", "intranet.example."})
	if err != nil {
		t.Fatal(err)
	}
	f := func(addr string, wantErr bool) {
		t.Helper()
		err := a.control("tcp", addr, nil)
		if (err != nil) != wantErr || (err != nil && !errors.Is(err, ErrBlockedAddress)) {
			t.Errorf("control(%s) = %v, want blocked=%v", addr, err, wantErr)
		}
	}
	f("10.1.2.3:80", false)
	f("[::1]:443", false)
	f("[::ffff:10.9.9.9]:80", false)
	f("127.0.0.1:80", true)
	f("169.254.169.254:80", true)
	f("93.184.216.34:443", false)
	if !a.allowsHost("INTRANET.example") {
		t.Error("host allow-list is case-sensitive")
	}
	if _, err := parseAllowList([]string{"not a host/x"}); err == nil {
		t.Error("bad entry accepted")
	}
}

// TestSSRF covers the acceptance cases: each is refused by default and
// (where it can be reached on this machine) allowed once listed.
func TestSSRF(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect-private":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/redirect-ten":
			http.Redirect(w, r, "http://10.0.0.1/", http.StatusFound)
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	ctx := context.Background()

	def := newClient(t, Options{IgnoreRobots: true, Timeout: 2 * time.Second})
	for _, u := range []string{
		srv.URL,
		fmt.Sprintf("http://localhost:%d/", port), // a host name resolving to loopback
		"http://10.0.0.1/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::1]:1/",
		"http://[::ffff:127.0.0.1]:1/",
		"http://0.0.0.0:1/",
	} {
		if _, err := def.Get(ctx, Request{URL: u}); !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("default client fetched %s: err=%v, want ErrBlockedAddress", u, err)
		}
	}

	// Loopback allowed: the server is reachable, but redirects to other
	// private ranges are still refused after the hop.
	c := newClient(t, Options{IgnoreRobots: true, Allow: loopback, Timeout: 2 * time.Second})
	if res, err := c.Get(ctx, Request{URL: srv.URL}); err != nil || string(res.Body) != "ok" {
		t.Fatalf("allow-listed loopback: %v", err)
	}
	if _, err := c.Get(ctx, Request{URL: fmt.Sprintf("http://localhost:%d/", port)}); err != nil {
		t.Errorf("localhost resolving to allow-listed 127.0.0.1: %v", err)
	}
	for _, p := range []string{"/redirect-private", "/redirect-ten"} {
		if _, err := c.Get(ctx, Request{URL: srv.URL + p}); !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("%s: err=%v, want ErrBlockedAddress", p, err)
		}
	}

	// ::1 when the machine has IPv6 loopback.
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		srv6 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "six") }))
		srv6.Listener = ln
		srv6.Start()
		defer srv6.Close()
		if _, err := def.Get(ctx, Request{URL: srv6.URL}); !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("default fetched ::1: %v", err)
		}
		c6 := newClient(t, Options{IgnoreRobots: true, Allow: []string{"::1/128"}})
		if res, err := c6.Get(ctx, Request{URL: srv6.URL}); err != nil || string(res.Body) != "six" {
			t.Errorf("allow-listed ::1: %v", err)
		}
	} else {
		t.Logf("no IPv6 loopback here (%v): ::1 is only checked by TestIsPublic", err)
	}

	// A host name on the allow-list may resolve to anything.
	ch := newClient(t, Options{IgnoreRobots: true, Allow: []string{"localhost"}})
	if _, err := ch.Get(ctx, Request{URL: fmt.Sprintf("http://localhost:%d/", port)}); err != nil {
		t.Errorf("allow-listed host name: %v", err)
	}
}

func TestEncodingsAndBomb(t *testing.T) {
	payload := strings.Repeat("trendwatch ", 1000)
	var gz, br, bomb bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(payload))
	zw.Close()
	bw := brotli.NewWriter(&br)
	bw.Write([]byte(payload))
	bw.Close()
	zb := gzip.NewWriter(&bomb)
	zb.Write(make([]byte, 8<<20)) // 8 MiB of zeros compress to ~8 KiB; the cap is 1 MiB
	zb.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz.Bytes())
		case "/br":
			w.Header().Set("Content-Encoding", "br")
			w.Write(br.Bytes())
		case "/bomb":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		case "/big":
			w.Write(make([]byte, 2<<20))
		case "/plain":
			w.Write([]byte(payload))
		}
	}))
	defer srv.Close()
	c := newClient(t, Options{IgnoreRobots: true, Allow: loopback, MaxBodyBytes: 1 << 20})
	for _, p := range []string{"/gzip", "/br", "/plain"} {
		res, err := c.Get(context.Background(), Request{URL: srv.URL + p})
		if err != nil || string(res.Body) != payload {
			t.Errorf("%s: err=%v, body %d bytes", p, err, len(res.Body))
		}
	}
	for _, p := range []string{"/bomb", "/big"} {
		if _, err := c.Get(context.Background(), Request{URL: srv.URL + p}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err=%v, want ErrTooLarge", p, err)
		}
	}
}

func TestConditionalAndPolling(t *testing.T) {
	var ua atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.Header.Get("User-Agent"))
		switch r.URL.Path {
		case "/feed":
			if r.Header.Get("If-None-Match") == `"v1"` || r.Header.Get("If-Modified-Since") == "Wed, 25 Nov 2026 10:00:00 GMT" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Last-Modified", "Wed, 25 Nov 2026 10:00:00 GMT")
			w.Header().Set("Cache-Control", "public, max-age=600")
			fmt.Fprint(w, "<rss/>")
		case "/busy":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/down":
			w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/gone":
			w.WriteHeader(http.StatusGone)
		}
	}))
	defer srv.Close()
	c := newClient(t, Options{IgnoreRobots: true, Allow: loopback, ContactURL: "https://press.example/bots"})
	ctx := context.Background()
	res, err := c.Get(ctx, Request{URL: srv.URL + "/feed"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ETag != `"v1"` || res.NextPoll != 10*time.Minute || res.NotModified {
		t.Errorf("first fetch: etag %q next %v notmod %v", res.ETag, res.NextPoll, res.NotModified)
	}
	if got := ua.Load().(string); !strings.HasPrefix(got, "trendwatch/") || !strings.Contains(got, "https://press.example/bots") {
		t.Errorf("user agent %q", got)
	}
	res2, err := c.Get(ctx, Request{URL: srv.URL + "/feed", ETag: res.ETag})
	if err != nil || !res2.NotModified || res2.ETag != `"v1"` || len(res2.Body) != 0 {
		t.Errorf("conditional by ETag: %+v %v", res2, err)
	}
	res3, err := c.Get(ctx, Request{URL: srv.URL + "/feed", LastModified: res.LastModified})
	if err != nil || !res3.NotModified {
		t.Errorf("conditional by Last-Modified: %+v %v", res3, err)
	}
	var se *StatusError
	if _, err := c.Get(ctx, Request{URL: srv.URL + "/busy"}); !errors.As(err, &se) || se.StatusCode != 429 || se.RetryAfter != 2*time.Minute || !se.Temporary() {
		t.Errorf("429: %v", err)
	}
	if _, err := c.Get(ctx, Request{URL: srv.URL + "/down"}); !errors.As(err, &se) || se.StatusCode != 503 || se.RetryAfter < 59*time.Minute {
		t.Errorf("503 with date: %v", err)
	}
	if _, err := c.Get(ctx, Request{URL: srv.URL + "/gone"}); !errors.As(err, &se) || se.StatusCode != 410 || se.Temporary() {
		t.Errorf("410: %v", err)
	}
	if _, err := c.Get(ctx, Request{URL: "ftp://example.com/x"}); !errors.Is(err, ErrUnsupportedURL) {
		t.Errorf("ftp: %v", err)
	}
}

func TestHeaderParsers(t *testing.T) {
	f := func(cc string, want time.Duration) {
		t.Helper()
		if got := maxAge(cc); got != want {
			t.Errorf("maxAge(%q) = %v, want %v", cc, got, want)
		}
	}
	f("", 0)
	f("no-cache", 0)
	f("max-age=60", time.Minute)
	f("public, max-age=60, s-maxage=300", 5*time.Minute)
	f(`max-age="30"`, 30*time.Second)
	f("max-age=-5", 0)
	f("max-age=abc", 0)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	g := func(v string, want time.Duration) {
		t.Helper()
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
	g("", 0)
	g("30", 30*time.Second)
	g("-1", 0)
	g("Wed, 25 Nov 2026 12:05:00 GMT", 5*time.Minute)
	g("Wed, 25 Nov 2026 11:05:00 GMT", 0)
	g("soon", 0)
}

func TestRobots(t *testing.T) {
	var robotsHits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			robotsHits.Add(1)
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n\nUser-agent: trendwatch\nDisallow: /no-trendwatch/\n")
			return
		}
		fmt.Fprint(w, "page")
	}))
	defer srv.Close()
	c := newClient(t, Options{Allow: loopback, PerHostRate: 1000, PerHostBurst: 100})
	ctx := context.Background()
	f := func(path string, want error) {
		t.Helper()
		_, err := c.Get(ctx, Request{URL: srv.URL + path})
		if !errors.Is(err, want) {
			t.Errorf("%s: err=%v, want %v", path, err, want)
		}
	}
	f("/public", nil)
	f("/no-trendwatch/x", ErrRobotsDisallowed)
	f("/private/x", nil) // a specific group for our agent replaces "*"
	if _, err := c.Get(ctx, Request{URL: srv.URL + "/no-trendwatch/x", IgnoreRobots: true}); err != nil {
		t.Errorf("IgnoreRobots: %v", err)
	}
	if n := robotsHits.Load(); n != 1 {
		t.Errorf("robots.txt fetched %d times, want 1 (cached)", n)
	}

	// robots.txt answering 5xx means disallow all; 404 means allow all.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "page")
	}))
	defer down.Close()
	if _, err := c.Get(ctx, Request{URL: down.URL + "/x"}); !errors.Is(err, ErrRobotsDisallowed) {
		t.Errorf("5xx robots: %v", err)
	}
}

func TestPerHostConcurrency(t *testing.T) {
	var cur, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
	}))
	defer srv.Close()
	c := newClient(t, Options{IgnoreRobots: true, Allow: loopback, PerHostRate: 1000, PerHostBurst: 100, PerHostConcurrency: 2})
	done := make(chan error)
	for range 8 {
		go func() {
			_, err := c.Get(context.Background(), Request{URL: srv.URL})
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("peak concurrency %d, want <= 2", p)
	}
}

func TestRateLimitCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := newClient(t, Options{IgnoreRobots: true, Allow: loopback, PerHostRate: 0.01, PerHostBurst: 1})
	if _, err := c.Get(context.Background(), Request{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, Request{URL: srv.URL}); err == nil {
		t.Error("second request inside the rate limit did not wait")
	}
}

// FuzzHeaders: the header parsers never panic and stay within bounds.
func FuzzHeaders(f *testing.F) {
	f.Add("public, max-age=600", "120")
	f.Add("s-maxage=99999999999999999999", "Wed, 25 Nov 2026 12:05:00 GMT")
	f.Fuzz(func(t *testing.T, cc, ra string) {
		if d := maxAge(cc); d < 0 || d > 365*24*time.Hour {
			t.Fatalf("maxAge(%q) = %v", cc, d)
		}
		if d := retryAfter(ra, time.Now()); d < 0 || d > 7*24*time.Hour {
			t.Fatalf("retryAfter(%q) = %v", ra, d)
		}
	})
}

// FuzzAllowList: parsing never panics; a parsed list never allows a
// public-range check to fail open for addresses it does not name.
func FuzzAllowList(f *testing.F) {
	f.Add("10.0.0.0/8,::1,intranet.example", "10.1.2.3:80")
	f.Fuzz(func(t *testing.T, entries, addr string) {
		a, err := parseAllowList(strings.Split(entries, ","))
		if err != nil {
			return
		}
		if a.control("tcp", addr, nil) == nil {
			ap, perr := netip.ParseAddrPort(addr)
			if perr != nil {
				t.Fatalf("unparsable %q allowed", addr)
			}
			if !IsPublic(ap.Addr()) && !a.allowsIP(ap.Addr()) {
				t.Fatalf("%q allowed without being public or listed", addr)
			}
		}
	})
}

// TestCheckURL: what the guard would refuse is known before any fetch.
func TestCheckURL(t *testing.T) {
	strict, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	open, err := New(Options{Allow: []string{"127.0.0.1", "10.0.0.0/8", "intranet.example"}})
	if err != nil {
		t.Fatal(err)
	}
	f := func(c *Client, u string, blocked bool) {
		t.Helper()
		err := c.CheckURL(context.Background(), u)
		if blocked != errors.Is(err, ErrBlockedAddress) {
			t.Errorf("CheckURL(%q) = %v, want blocked %v", u, err, blocked)
		}
	}
	f(strict, "http://127.0.0.1:8081/feed.xml", true)
	f(strict, "http://[::1]/feed", true)
	f(strict, "http://10.1.2.3/rss", true)
	f(strict, "http://169.254.169.254/latest/meta-data", true)
	f(strict, "http://localhost:9/feed", true) // resolves to loopback only
	f(strict, "https://93.184.215.14/feed", false)
	f(open, "http://127.0.0.1:8081/feed.xml", false)
	f(open, "http://10.1.2.3/rss", false)
	f(open, "http://intranet.example/rss", false)
	f(open, "http://192.168.1.1/rss", true)
}
