// Package social holds what the platform connectors under
// ingest/social/<platform> share: reconnect backoff, a bounded seen set,
// keyword filtering, and a cancellable sleep. Connectors reach the network
// only through ingest/fetch (its Client for requests, its Transport for
// streams), so the SSRF guard and per-host limits apply to them too.
package social

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/trendwatch/trendwatch/ingest/fetch"
)

// Backoff returns the wait before reconnect attempt n (1-based): base,
// 2·base, 4·base… capped at max, with ±20% jitter so many connectors that
// lost the same server do not return in step.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base << min(attempt-1, 30)
	if d <= 0 || d > max {
		d = max
	}
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// Sleep waits d or until ctx is done, returning ctx.Err() in that case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Seen is a bounded set of ids; the oldest are forgotten first. Safe for
// concurrent use.
type Seen struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
	limit int
}

// NewSeen returns a set remembering up to limit ids.
func NewSeen(limit int) *Seen {
	if limit <= 0 {
		limit = 10000
	}
	return &Seen{ids: map[string]struct{}{}, limit: limit}
}

// Add records id and reports whether it was new.
func (s *Seen) Add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return false
	}
	s.ids[id] = struct{}{}
	s.order = append(s.order, id)
	if len(s.order) > s.limit {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
	return true
}

// Has reports whether id was recorded.
func (s *Seen) Has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

// Keywords matches text against a keyword list, ignoring case and
// diacritics (Vietnamese posts often drop them: "Ha Noi" matches "Hà Nội").
// An empty list matches everything.
type Keywords []string

// NewKeywords folds the keywords once.
func NewKeywords(words []string) Keywords {
	var k Keywords
	for _, w := range words {
		if w = Fold(w); w != "" {
			k = append(k, w)
		}
	}
	return k
}

// Match reports whether text contains any keyword.
func (k Keywords) Match(text string) bool {
	if len(k) == 0 {
		return true
	}
	f := Fold(text)
	for _, w := range k {
		if strings.Contains(f, w) {
			return true
		}
	}
	return false
}

// Fold lower-cases s and strips diacritics (đ → d included).
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToLower(s))
	if err != nil {
		out = strings.ToLower(s)
	}
	// Trim last: removing a leading combining mark can expose a space.
	return strings.TrimSpace(strings.NewReplacer("đ", "d", "ð", "d").Replace(out))
}

// PollLoop calls poll every interval until ctx ends. Failures back off
// exponentially up to maxBackoff, or longer when the server asked for it
// with Retry-After; a successful poll may ask for a longer wait (a feed's
// Cache-Control) through its returned duration. Every polling connector
// shares this loop so they all behave alike towards the sites they read.
func PollLoop(ctx context.Context, name string, interval, maxBackoff time.Duration, log *slog.Logger, poll func(ctx context.Context) (time.Duration, error)) error {
	failures := 0
	for {
		wait := interval
		if next, err := poll(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			wait = Backoff(failures, interval, maxBackoff)
			var se *fetch.StatusError
			if errors.As(err, &se) && se.RetryAfter > wait {
				wait = se.RetryAfter
			}
			log.Warn(name+" poll failed", slog.Int("failures", failures), slog.Duration("retry_in", wait), slog.Any("err", err))
		} else {
			failures = 0
			wait = max(wait, next)
		}
		if Sleep(ctx, wait) != nil {
			return nil
		}
	}
}
