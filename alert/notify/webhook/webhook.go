// Package webhook delivers notifications as JSON POSTs signed with
// HMAC-SHA256, and verifies them on the receiving side.
//
// Headers: X-Trendwatch-Timestamp (unix seconds), X-Trendwatch-Signature
// ("sha256=" + hex HMAC(secret, timestamp + "." + body)) and
// X-Trendwatch-Idempotency-Key. Signing the timestamp with the body lets
// Verify refuse replays older than a window; the idempotency key (also in
// the body) lets receivers drop the duplicates at-least-once delivery
// produces. Standard library only: crypto/hmac is all it takes.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
)

// Header names of the signed-webhook contract.
const (
	HeaderTimestamp      = "X-Trendwatch-Timestamp"
	HeaderSignature      = "X-Trendwatch-Signature"
	HeaderIdempotencyKey = "X-Trendwatch-Idempotency-Key"
)

// MaxBody caps what Verify reads from a request.
const MaxBody = 1 << 20

// Config of a webhook channel.
type Config struct {
	URL    string
	Secret []byte
	Client *http.Client     // nil uses a client with a 10s timeout
	Now    func() time.Time // nil uses time.Now
}

// Channel posts signed JSON to one URL.
type Channel struct {
	cfg Config
}

// New checks cfg and returns the channel.
func New(cfg Config) (*Channel, error) {
	if cfg.URL == "" {
		return nil, errors.New("webhook: URL is required")
	}
	if len(cfg.Secret) == 0 {
		return nil, errors.New("webhook: secret is required")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Channel{cfg: cfg}, nil
}

// Sign returns the X-Trendwatch-Signature value for body sent at ts.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Send posts n. 2xx is success; 408/425/429/5xx and network errors are
// retryable; other statuses are permanent.
func (c *Channel) Send(ctx context.Context, n notify.Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return notify.Permanent(fmt.Errorf("cannot encode notification %s: %w", n.Key, err))
	}
	ts := strconv.FormatInt(c.cfg.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(fmt.Errorf("cannot build webhook request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trendwatch-alerter")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(c.cfg.Secret, ts, body))
	req.Header.Set(HeaderIdempotencyKey, n.Key)
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot post webhook %s: %w", n.Key, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err := notify.ClassifyHTTP(resp.StatusCode, resp.Header.Get("Retry-After"), msg); err != nil {
		return fmt.Errorf("webhook %s: %w", n.Key, err)
	}
	return nil
}

// Errors Verify returns, for receivers that answer differently to each.
var (
	ErrMissingSignature = errors.New("webhook: missing timestamp or signature")
	ErrBadSignature     = errors.New("webhook: signature does not match")
	ErrStale            = errors.New("webhook: timestamp outside the replay window")
)

// Verify reads r's body (up to MaxBody bytes) and checks its signature and
// that its timestamp is within window of now (either side, for clock skew).
// It returns the body only when both hold. A window <= 0 disables the
// replay check.
func Verify(secret []byte, r *http.Request, window time.Duration) ([]byte, error) {
	return verifyAt(secret, r, window, time.Now())
}

func verifyAt(secret []byte, r *http.Request, window time.Duration, now time.Time) ([]byte, error) {
	ts := r.Header.Get(HeaderTimestamp)
	sig := r.Header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return nil, ErrMissingSignature
	}
	if r.Body == nil {
		return nil, errors.New("webhook: request has no body")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("webhook: cannot read body: %w", err)
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("webhook: body larger than %d bytes", MaxBody)
	}
	// Check the MAC before trusting the timestamp's value.
	want := Sign(secret, ts, body)
	if !strings.HasPrefix(sig, "sha256=") || !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, ErrBadSignature
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("webhook: bad timestamp %q: %w", notify.Clip(ts, 32), err)
	}
	if window > 0 {
		d := now.Sub(time.Unix(secs, 0))
		if d > window || d < -window {
			return nil, ErrStale
		}
	}
	return body, nil
}
