// Package schema holds the records that cross process boundaries (Kafka
// messages, ClickHouse rows, API bodies) and their versioned JSON encoding.
//
// Every message carries "v" (the schema version). Decoders accept any
// version up to Version and reject newer ones with a clear error, so an old
// analyzer never silently misreads a message written by a newer ingester.
package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Version is the current version of every record encoded by this package.
const Version = 1

// Kafka topic names.
const (
	TopicPosts  = "trendwatch.posts"
	TopicFacts  = "trendwatch.facts" // compacted, keyed by fact id; empty value deletes
	TopicAlerts = "trendwatch.alerts"
	TopicDLQ    = "trendwatch.dlq"
)

// Limits that keep one bad record from exhausting memory downstream.
const (
	MaxTextBytes  = 64 << 10
	MaxTitleBytes = 2 << 10
)

// Engagement counters as reported by the source platform, when it reports any.
type Engagement struct {
	Likes   int64 `json:"likes,omitempty"`
	Shares  int64 `json:"shares,omitempty"`
	Replies int64 `json:"replies,omitempty"`
}

// Post is one item collected from a feed, page or social platform.
type Post struct {
	V            int        `json:"v"`
	ID           string     `json:"id"`
	Source       string     `json:"source"`   // the collector's source: feed URL, site, channel
	Platform     string     `json:"platform"` // rss, web, mastodon, bluesky, reddit, telegram, youtube, push
	URL          string     `json:"url,omitempty"`
	CanonicalURL string     `json:"canonical_url,omitempty"`
	Author       string     `json:"author,omitempty"`
	Lang         string     `json:"lang,omitempty"`
	Title        string     `json:"title,omitempty"`
	Text         string     `json:"text"`
	Published    time.Time  `json:"published"`
	Fetched      time.Time  `json:"fetched"`
	Engagement   Engagement `json:"engagement,omitempty"`
}

// PostID returns a stable id for an item. The canonical URL wins when
// known, so the same article reached through two feeds and the crawler gets
// one id; otherwise the source and the item's own id (GUID) decide.
func PostID(canonicalURL, source, guid string) string {
	key := "url\x00" + canonicalURL
	if canonicalURL == "" {
		key = "src\x00" + source + "\x00" + guid
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// Validate reports the first problem that makes p unusable downstream.
func (p *Post) Validate() error {
	switch {
	case p.ID == "":
		return errors.New("post has no id")
	case len(p.ID) > 128:
		return errors.New("post id longer than 128 bytes")
	case p.Text == "" && p.Title == "":
		return errors.New("post has neither text nor title")
	case p.Published.IsZero():
		return errors.New("post has no published time")
	case !utf8.ValidString(p.Text) || !utf8.ValidString(p.Title) || !utf8.ValidString(p.Author):
		return errors.New("post has invalid UTF-8")
	}
	return nil
}

// Clamp truncates over-long fields at a rune boundary instead of rejecting
// the post: a long article is still worth analysing.
func (p *Post) Clamp() {
	p.Text = truncate(p.Text, MaxTextBytes)
	p.Title = truncate(p.Title, MaxTitleBytes)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Verdicts after normalisation. Publishers use hundreds of ratings
// ("Pants on Fire", "Faux", "Sai sự thật"); NormalizeVerdict maps them here.
const (
	VerdictFalse      = "false"
	VerdictMisleading = "misleading"
	VerdictMixed      = "mixed"
	VerdictTrue       = "true"
	VerdictUnproven   = "unproven"
	VerdictOther      = "other"
)

// Fact is one verified claim from the facts database.
type Fact struct {
	V            int               `json:"v"`
	ID           string            `json:"id"`
	Claim        string            `json:"claim"`
	Title        string            `json:"title,omitempty"`
	Summary      string            `json:"summary,omitempty"`
	Lang         string            `json:"lang,omitempty"`
	Verdict      string            `json:"verdict,omitempty"` // normalised, see Verdict*
	Rating       string            `json:"rating,omitempty"`  // the publisher's own wording
	Publisher    string            `json:"publisher,omitempty"`
	URL          string            `json:"url,omitempty"`
	Date         time.Time         `json:"date,omitempty"`
	Tags         []string          `json:"tags,omitempty"`
	Translations map[string]string `json:"translations,omitempty"` // lang -> claim text
	// Appearances are texts of posts known to restate the claim: matches
	// the team confirmed, or the appearances a fact-checker listed. The
	// matcher compares new posts with them too, since a claim spreading
	// again tends to reuse an earlier version's wording.
	Appearances []string  `json:"appearances,omitempty"`
	Updated     time.Time `json:"updated,omitempty"`
}

// Validate reports the first problem that makes f unusable.
func (f *Fact) Validate() error {
	switch {
	case strings.TrimSpace(f.ID) == "":
		return errors.New("fact has no id")
	case len(f.ID) > 256:
		return errors.New("fact id longer than 256 bytes")
	case strings.TrimSpace(f.Claim) == "" && strings.TrimSpace(f.Title) == "":
		return errors.New("fact has neither claim nor title")
	case !utf8.ValidString(f.Claim) || !utf8.ValidString(f.Title) || !utf8.ValidString(f.Summary):
		return errors.New("fact has invalid UTF-8")
	case slices.ContainsFunc(f.Appearances, func(a string) bool { return !utf8.ValidString(a) }):
		return errors.New("fact has an appearance with invalid UTF-8")
	}
	return nil
}

// FoldText folds case and runs of white space, so texts that differ only
// in those compare equal.
func FoldText(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// ClaimText is what identifies a fact-check's claim across databases and
// imports: the claim, or the title when there is none, FoldText-ed.
func ClaimText(claim, title string) string {
	if strings.TrimSpace(claim) == "" {
		claim = title
	}
	return FoldText(claim)
}

// Alerting reports whether the fact's verdict is one that alerts by default.
func (f *Fact) Alerting() bool {
	return f.Verdict == VerdictFalse || f.Verdict == VerdictMisleading
}

// NormalizeVerdict maps a publisher's rating to one of the Verdict* values.
func NormalizeVerdict(rating string) string {
	r := strings.ToLower(strings.TrimSpace(rating))
	if r == "" {
		return ""
	}
	for _, v := range []struct {
		verdict string
		words   []string
	}{
		{VerdictMisleading, []string{"misleading", "trompeur", "gây hiểu lầm", "sai lệch", "out of context", "hors contexte", "missing context", "miscaptioned", "distorted", "exaggerat"}},
		{VerdictMixed, []string{"mixture", "mixed", "half", "partly", "partially", "en partie", "mostly true", "mostly false", "mitigé", "một phần"}},
		{VerdictFalse, []string{"not true", "untrue", "not correct", "false", "fake", "faux", "fausse", "sai", "pants on fire", "incorrect", "hoax", "scam", "debunked", "bịa đặt", "tin giả", "không đúng", "wrong", "inexact"}},
		{VerdictTrue, []string{"true", "correct", "vrai", "accurate", "đúng", "sự thật", "legit"}},
		{VerdictUnproven, []string{"unproven", "unverified", "non prouvé", "chưa được xác minh", "research in progress", "undetermined"}},
	} {
		for _, w := range v.words {
			if strings.Contains(r, w) {
				return v.verdict
			}
		}
	}
	return VerdictOther
}

// Alert is emitted by the analyzer when a post matches a fact that alerts.
type Alert struct {
	V         int       `json:"v"`
	Key       string    `json:"key"` // idempotency key: one per (fact, post)
	FactID    string    `json:"fact_id"`
	PostID    string    `json:"post_id"`
	Verdict   string    `json:"verdict"`
	Claim     string    `json:"claim"`
	FactURL   string    `json:"fact_url,omitempty"`
	Score     float64   `json:"score"` // calibrated confidence, 0..1
	Lang      string    `json:"lang,omitempty"`
	Platform  string    `json:"platform,omitempty"`
	Source    string    `json:"source,omitempty"`
	Author    string    `json:"author,omitempty"`
	PostURL   string    `json:"post_url,omitempty"`
	PostTitle string    `json:"post_title,omitempty"`
	PostText  string    `json:"post_text,omitempty"`
	Published time.Time `json:"published"`
	Detected  time.Time `json:"detected"`
	// Command, when set, makes this message a case command from the API
	// instead of a match. Commands travel on trendwatch.alerts keyed by
	// fact id so they reach the alerter that owns the fact's case, in order
	// with its matches.
	Command *CaseCommand `json:"command,omitempty"`
}

// Case command kinds.
const (
	CmdAcknowledge = "acknowledge"
	CmdSnooze      = "snooze"
	CmdResolve     = "resolve"
	CmdNote        = "note"
	CmdResponse    = "response" // attach the published correction
	CmdReopen      = "reopen"
)

// CaseCommand is a responder's action on the case of a fact.
type CaseCommand struct {
	ID     string    `json:"id"` // idempotency key of the command
	Kind   string    `json:"kind"`
	CaseID string    `json:"case_id,omitempty"`
	Actor  string    `json:"actor"`
	Until  time.Time `json:"until,omitempty"` // snooze
	Note   string    `json:"note,omitempty"`
	URL    string    `json:"url,omitempty"` // response
	Time   time.Time `json:"time"`
}

// AlertKey is the idempotency key of the alert for (fact, post).
func AlertKey(factID, postID string) string {
	sum := sha256.Sum256([]byte(factID + "\x00" + postID))
	return hex.EncodeToString(sum[:16])
}

// DeadLetter wraps a message that could not be processed, with the reason.
type DeadLetter struct {
	V         int       `json:"v"`
	Topic     string    `json:"topic"`
	Partition int       `json:"partition"`
	Offset    int64     `json:"offset"`
	Key       string    `json:"key,omitempty"`
	Value     string    `json:"value"` // the original bytes, as a string (may be invalid UTF-8, JSON-escaped)
	Reason    string    `json:"reason"`
	Stage     string    `json:"stage"`
	Time      time.Time `json:"time"`
}

// versioned is implemented by every record so Encode can stamp the version.
type versioned interface{ setVersion() }

func (p *Post) setVersion()       { p.V = Version }
func (f *Fact) setVersion()       { f.V = Version }
func (a *Alert) setVersion()      { a.V = Version }
func (d *DeadLetter) setVersion() { d.V = Version }

// Encode stamps the current version and marshals rec (a *Post, *Fact,
// *Alert or *DeadLetter).
func Encode(rec versioned) ([]byte, error) {
	rec.setVersion()
	return json.Marshal(rec)
}

// DecodePost parses and validates a post message. It gives exactly what
// encoding/json would (see decodePostFast), only cheaper for the common case.
func DecodePost(b []byte) (Post, error) {
	var p Post
	if !decodePostFast(b, &p) {
		p = Post{} // the fast path may have filled part of it
		if err := json.Unmarshal(b, &p); err != nil {
			return Post{}, fmt.Errorf("cannot decode post: %w", err)
		}
	}
	if err := checkVersion(p.V); err != nil {
		return Post{}, fmt.Errorf("cannot decode post: %w", err)
	}
	if err := p.Validate(); err != nil {
		return Post{}, err
	}
	p.Clamp()
	return p, nil
}

// DecodeFact parses and validates a fact message.
func DecodeFact(b []byte) (Fact, error) {
	var f Fact
	if err := decode(b, &f, &f.V); err != nil {
		return Fact{}, fmt.Errorf("cannot decode fact: %w", err)
	}
	if err := f.Validate(); err != nil {
		return Fact{}, err
	}
	return f, nil
}

// DecodeAlert parses an alert message.
func DecodeAlert(b []byte) (Alert, error) {
	var a Alert
	if err := decode(b, &a, &a.V); err != nil {
		return Alert{}, fmt.Errorf("cannot decode alert: %w", err)
	}
	if a.Command != nil {
		if a.FactID == "" || a.Command.Kind == "" || a.Command.ID == "" {
			return Alert{}, errors.New("case command lacks fact_id, kind or id")
		}
		return a, nil
	}
	if a.Key == "" || a.FactID == "" || a.PostID == "" {
		return Alert{}, errors.New("alert lacks key, fact_id or post_id")
	}
	return a, nil
}

func decode(b []byte, v any, version *int) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	return checkVersion(*version)
}

func checkVersion(v int) error {
	if v > Version {
		return fmt.Errorf("schema version %d is newer than this build understands (%d)", v, Version)
	}
	return nil
}

// Topic key prefixes. A topic key is a string so that every stage, table and
// URL can carry it unchanged: "#hashtag", "url:host/path", "kw:word",
// "ent:name", "story:cluster", "fact:id".
const (
	TopicHashtag = "#"
	TopicURL     = "url:"
	TopicKeyword = "kw:"
	TopicEntity  = "ent:"
	TopicStory   = "story:"
	TopicFact    = "fact:"
)

// Match is one fact a post was matched to.
type Match struct {
	FactID  string  `json:"fact_id"`
	Score   float64 `json:"score"` // calibrated confidence, 0..1
	Verdict string  `json:"verdict,omitempty"`
}

// Analyzed is a post with what the analyzer derived from it; it is what
// the analyzer hands to the ClickHouse sink.
type Analyzed struct {
	Post
	Topics  []string `json:"topics,omitempty"`
	Labels  []string `json:"labels,omitempty"` // Labels[i]: this post's display form of Topics[i], "" if none
	Matches []Match  `json:"matches,omitempty"`
}

// Source is one thing a collector watches: a feed, a site to crawl, a
// social account, hashtag or channel.
type Source struct {
	ID       string            `json:"id"`   // stable: derived from kind and URL when not given
	Kind     string            `json:"kind"` // feed, crawl, mastodon, bluesky, reddit, telegram, youtube
	URL      string            `json:"url"`
	Name     string            `json:"name,omitempty"`
	Lang     string            `json:"lang,omitempty"`
	Interval time.Duration     `json:"interval,omitempty"` // poll interval; 0 lets the collector adapt
	Enabled  bool              `json:"enabled"`
	Options  map[string]string `json:"options,omitempty"` // kind-specific: allowed_domains, depth, tag…
	Created  time.Time         `json:"created"`
}

// SourceID derives a stable id for a source from its kind and URL.
func SourceID(kind, url string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + url))
	return hex.EncodeToString(sum[:8])
}

// SourceStatus is a collector's health report for one source.
type SourceStatus struct {
	SourceID     string    `json:"source_id"`
	LastAttempt  time.Time `json:"last_attempt"`
	LastSuccess  time.Time `json:"last_success"`
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at"`
	Failures     int       `json:"consecutive_failures"`
	ItemsPerDay  float64   `json:"items_per_day"`
	NextPoll     time.Time `json:"next_poll"`
	LastNewItems int       `json:"last_new_items"`
}

// TopicEvent is one post counted under one topic key; the analyzer
// repartitions these by topic key so each key's velocity is computed in one
// place, whatever the number of analyzer processes.
type TopicEvent struct {
	V        int       `json:"v"`
	Topic    string    `json:"topic"`
	PostID   string    `json:"post_id"`
	Author   string    `json:"author,omitempty"`
	Source   string    `json:"source,omitempty"`
	Platform string    `json:"platform,omitempty"`
	Lang     string    `json:"lang,omitempty"`
	Time     time.Time `json:"time"`
}

func (e *TopicEvent) setVersion() { e.V = Version }

// Flag is a trend detector's verdict that a topic is rising.
type Flag struct {
	V       int       `json:"v"`
	Time    time.Time `json:"time"`
	Topic   string    `json:"topic"`
	Kind    string    `json:"kind"` // emerging, burst, …
	Score   float64   `json:"score"`
	Count   int       `json:"count"`
	Authors int       `json:"authors,omitempty"`
	PostIDs []string  `json:"post_ids,omitempty"`
}

func (f *Flag) setVersion() { f.V = Version }
