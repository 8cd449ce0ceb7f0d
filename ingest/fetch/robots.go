package fetch

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
)

// robotsCache keeps one parsed robots.txt per scheme://host.
type robotsCache struct {
	c   *Client
	ttl time.Duration

	mu      sync.Mutex
	entries map[string]*robotsEntry
}

type robotsEntry struct {
	ready   chan struct{} // closed once data is set; concurrent callers wait
	data    *robotstxt.RobotsData
	expires time.Time
}

func newRobotsCache(c *Client, ttl time.Duration) *robotsCache {
	return &robotsCache{c: c, ttl: ttl, entries: map[string]*robotsEntry{}}
}

// errorTTL is how long an unreachable robots.txt (treated as "disallow
// all", RFC 9309 §2.3.1.4) is remembered before we ask again.
const errorTTL = 5 * time.Minute

func (r *robotsCache) allowed(ctx context.Context, u *url.URL) (bool, error) {
	key := u.Scheme + "://" + u.Host
	r.mu.Lock()
	e := r.entries[key]
	if e != nil {
		select {
		case <-e.ready:
			if time.Now().After(e.expires) {
				e = nil
			}
		default:
		}
	}
	owner := false
	if e == nil {
		e = &robotsEntry{ready: make(chan struct{})}
		r.entries[key] = e
		owner = true
	}
	r.mu.Unlock()
	if owner {
		e.data, e.expires = r.load(ctx, key)
		close(e.ready)
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if e.data == nil {
		return false, nil
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return e.data.TestAgent(path, r.c.opts.UserAgent), nil
}

// load fetches robots.txt. 4xx means no rules; 5xx or an unreachable host
// means disallow everything for a while (RFC 9309). A blocked address is
// not cached as a robots answer: the request itself will report it.
func (r *robotsCache) load(ctx context.Context, base string) (*robotstxt.RobotsData, time.Time) {
	res, err := r.c.Get(ctx, Request{URL: base + "/robots.txt", IgnoreRobots: true, Accept: "text/plain"})
	var se *StatusError
	switch {
	case err == nil:
		data, perr := robotstxt.FromStatusAndBytes(res.StatusCode, res.Body)
		if perr != nil {
			data, _ = robotstxt.FromStatusAndString(404, "")
		}
		return data, time.Now().Add(r.ttl)
	case errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500 && se.StatusCode != 429:
		data, _ := robotstxt.FromStatusAndString(404, "")
		return data, time.Now().Add(r.ttl)
	case errors.Is(err, ErrBlockedAddress), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		data, _ := robotstxt.FromStatusAndString(404, "")
		return data, time.Time{} // let the real request fail or retry; do not cache
	default:
		return nil, time.Now().Add(errorTTL)
	}
}
