// Package notify defines what the alerter sends (Notification), the
// Channel interface every transport implements, and the error
// classification (permanent, retry-after) the delivery loop relies on.
//
// Transports live in sub-packages, one per protocol: webhook (signed JSON),
// slack (incoming webhook, Block Kit), telegram (Bot API sendMessage, HTML)
// and email (SMTP with STARTTLS and AUTH). They use only the standard
// library (net/http, net/smtp, mime/multipart, html): each protocol is small
// and stable, and a client library per service would add four dependency
// trees for a few dozen lines each.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Notification kinds.
const (
	KindOpened     = "opened"     // first notification of a case
	KindUpdate     = "update"     // velocity jumped, or posts arrived during a snooze
	KindEscalation = "escalation" // not acknowledged in time, sent to the escalation route
)

// Sample is one post shown in a notification.
type Sample struct {
	PostID    string    `json:"post_id"`
	URL       string    `json:"url,omitempty"`
	Author    string    `json:"author,omitempty"`
	Platform  string    `json:"platform,omitempty"`
	Lang      string    `json:"lang,omitempty"`
	Title     string    `json:"title,omitempty"`
	Text      string    `json:"text,omitempty"`
	Score     float64   `json:"score"`
	Published time.Time `json:"published"`
}

// Notification is one message about a case. Key is the idempotency key
// (case id + notification sequence): the same notification re-sent after a
// retry or an alerter restart carries the same key, so receivers drop
// duplicates.
type Notification struct {
	Key       string    `json:"idempotency_key"`
	CaseID    string    `json:"case_id"`
	Seq       int       `json:"seq"`
	Kind      string    `json:"kind"`
	Severity  string    `json:"severity"`
	FactID    string    `json:"fact_id"`
	Claim     string    `json:"claim"`
	Verdict   string    `json:"verdict"`
	FactURL   string    `json:"fact_url,omitempty"`
	CaseURL   string    `json:"case_url,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	Posts     int       `json:"posts"`
	Authors   int       `json:"authors"`
	Rate      int       `json:"posts_in_window"` // matching posts in the velocity window
	Window    string    `json:"window"`
	Platforms []string  `json:"platforms,omitempty"`
	Langs     []string  `json:"langs,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Samples   []Sample  `json:"samples,omitempty"`
	// Created is when the alerter decided to notify: the start of the
	// publish→delivery latency.
	Created time.Time `json:"created"`
}

// NotificationKey is the idempotency key of a case's seq-th notification.
func NotificationKey(caseID string, seq int) string {
	return fmt.Sprintf("%s-%d", caseID, seq)
}

// Channel delivers notifications over one transport to one destination.
// Send must be safe for concurrent use and must honour ctx.
type Channel interface {
	Send(ctx context.Context, n Notification) error
}

// Title is the one-line summary all channels share.
func Title(n Notification) string {
	var prefix string
	switch n.Kind {
	case KindEscalation:
		prefix = "ESCALATED: "
	case KindUpdate:
		prefix = "Update: "
	}
	return fmt.Sprintf("%s[%s] %s claim spreading: %s", prefix, strings.ToUpper(n.Severity), n.Verdict, Clip(n.Claim, 200))
}

// Summary is the counters line all channels share.
func Summary(n Notification) string {
	s := fmt.Sprintf("%d matching posts by %d authors; %d in the last %s", n.Posts, n.Authors, n.Rate, n.Window)
	if len(n.Platforms) > 0 {
		s += "; platforms: " + strings.Join(n.Platforms, ", ")
	}
	if len(n.Langs) > 0 {
		s += "; languages: " + strings.Join(n.Langs, ", ")
	}
	return s
}

// Clip shortens s to at most n runes, marking the cut with an ellipsis.
// It cuts at rune boundaries of the original bytes, so a prefix stays a
// byte-for-byte prefix.
func Clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	count, cut := 0, 0
	for pos := range s {
		if count == n-1 {
			cut = pos // room for the ellipsis
		}
		if count == n {
			return s[:cut] + "…"
		}
		count++
	}
	return s
}

// StripURL removes the request URL from an http.Client error, for
// channels whose URL is a secret (Slack webhook, Telegram bot token).
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// permanentError marks a failure retrying cannot fix (bad credentials,
// rejected payload): the notification goes to the dead-letter sink at once.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err (or one it wraps) was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError carries the receiver's requested wait (HTTP Retry-After,
// Telegram's parameters.retry_after).
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter wraps err with the wait the receiver asked for.
func RetryAfter(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return &retryAfterError{err, d}
}

// RetryAfterOf returns the wait requested in err, or 0.
func RetryAfterOf(err error) time.Duration {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after
	}
	return 0
}

// ClassifyHTTP turns a non-2xx HTTP status into an error: 408, 425, 429 and
// 5xx are retried (honouring Retry-After), other 4xx are permanent.
func ClassifyHTTP(status int, retryAfter string, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	err := fmt.Errorf("receiver answered %d: %s", status, Clip(strings.TrimSpace(string(body)), 200))
	switch {
	case status == 408 || status == 425 || status == 429 || status >= 500:
		return RetryAfter(err, ParseRetryAfter(retryAfter, time.Now()))
	default:
		return Permanent(err)
	}
}

// ParseRetryAfter reads an HTTP Retry-After value (seconds or HTTP date).
// Unparseable or negative values give 0; waits are capped at one hour so a
// hostile receiver cannot park a notification forever.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := parseUint(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := time.Parse(time.RFC1123, v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, time.Hour)
}

func parseUint(s string) (int64, error) {
	if s == "" || len(s) > 9 {
		return 0, errors.New("not a small unsigned integer")
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("not a small unsigned integer")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}
