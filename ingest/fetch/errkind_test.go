package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestErrorKind(t *testing.T) {
	f := func(name string, err error, want string) {
		t.Helper()
		if got := ErrorKind(err); got != want {
			t.Errorf("%s: ErrorKind = %q, want %q (err %v)", name, got, want, err)
		}
	}
	f("nil", nil, "")
	f("blocked", fmt.Errorf("cannot fetch x: %w", ErrBlockedAddress), "blocked")
	f("robots", fmt.Errorf("cannot fetch x: %w", ErrRobotsDisallowed), "robots")
	f("too large", fmt.Errorf("cannot read x: %w", ErrTooLarge), "too_large")
	f("status", fmt.Errorf("poll: %w", &StatusError{URL: "u", StatusCode: 404}), "http_404")
	f("dns", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}}, "dns")
	f("deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), "timeout")
	f("other", errors.New("boom"), "other")
}

// The kinds of errors a real client returns, from real sockets on loopback.
func TestErrorKindFromClient(t *testing.T) {
	// A port nothing listens on: take a free one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }))
	defer gone.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()

	c, err := New(Options{Allow: []string{"127.0.0.0/8"}, Timeout: 300 * time.Millisecond, IgnoreRobots: true, PerHostRate: 1000, PerHostBurst: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{"http://" + closed + "/feed", "refused"},
		{slow.URL + "/feed", "timeout"},
		{gone.URL + "/feed", "http_404"},
		{tlsSrv.URL + "/feed", "tls"},
	} {
		_, err := c.Get(context.Background(), Request{URL: tc.url})
		if got := ErrorKind(err); got != tc.want {
			t.Errorf("%s: ErrorKind = %q, want %q (err %v)", tc.url, got, tc.want, err)
		}
	}
	blocked, err := New(Options{Timeout: time.Second, IgnoreRobots: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blocked.Get(context.Background(), Request{URL: gone.URL}); ErrorKind(err) != "blocked" {
		t.Errorf("loopback without allow-list: ErrorKind = %q, want blocked (err %v)", ErrorKind(err), err)
	}
}
