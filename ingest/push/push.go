// Package push is the HTTP endpoint through which partners and scripts
// hand posts to trendwatch directly (POST /api/v1/ingest): a JSON batch in,
// per-item results out. It uses only the standard library (encoding/json
// with per-item strict decoding, http.MaxBytesReader for the size cap);
// authentication is the web layer's job, around this handler.
//
// A post: {"id":"…","url":"…","title":"…","text":"…","author":"…",
// "published":"RFC 3339","lang":"vi","platform":"…","source":"…"} (title or
// text required). A request holds posts as a JSON array, as one post per
// line (application/x-ndjson, application/jsonl or text/plain), or as
// {"items":[…]}.
//
// Response: {"received":n,"accepted":a,"rejected":r,"ids":["…"],
// "errors":[{"index":i,"line":l,"code":"…","message":"…"}]} where a+r = n,
// with 202 when at least one post was accepted (queued for analysis), 400
// when none was. Whole-request failures answer
// {"error":{"code":"…","message":"…"}} with 400 (bad_json, no_items), 405,
// 413 (body_too_large, too_many_items), 415 (unsupported_media_type) or 503
// (unavailable: the publisher failed; nothing was accepted, retry).
package push

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/feed"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

// Platform is the default platform of pushed posts.
const Platform = "push"

// Options configures the handler.
type Options struct {
	MaxBodyBytes  int64  // default 8 MiB
	MaxItems      int    // default 1000
	DefaultSource string // Post.Source when an item names none (default "push")
	// MaxFuture is how far ahead of the server clock a published time may
	// be (default 24h); clocks drift, but a post from next year is a bug.
	MaxFuture time.Duration
	Now       func() time.Time // for tests
}

func (o *Options) defaults() {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.MaxItems <= 0 {
		o.MaxItems = 1000
	}
	if o.DefaultSource == "" {
		o.DefaultSource = "push"
	}
	if o.MaxFuture <= 0 {
		o.MaxFuture = 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

var (
	requestsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "ingest", Name: "push_requests_total",
		Help: "Push API requests by HTTP status.",
	}, []string{"status"})
	itemsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "ingest", Name: "push_items_total",
		Help: "Pushed items by outcome (accepted, rejected).",
	}, []string{"outcome"})
)

// Item is one pushed post.
type Item struct {
	ID        string     `json:"id,omitempty"`
	URL       string     `json:"url,omitempty"`
	Title     string     `json:"title,omitempty"`
	Text      string     `json:"text,omitempty"`
	Author    string     `json:"author,omitempty"`
	Published *time.Time `json:"published,omitempty"`
	Lang      string     `json:"lang,omitempty"`
	Platform  string     `json:"platform,omitempty"`
	Source    string     `json:"source,omitempty"`
}

// ItemError is the reason one item was rejected.
type ItemError struct {
	Index   int    `json:"index"`          // 0-based position among the items received
	Line    int    `json:"line,omitempty"` // 1-based line, for JSON lines`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is the response to a batch.
type Result struct {
	Received int         `json:"received"` // = accepted + rejected
	Accepted int         `json:"accepted"`
	Rejected int         `json:"rejected"`
	IDs      []string    `json:"ids"`
	Errors   []ItemError `json:"errors"`
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

var platformRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// Handler returns the POST /api/v1/ingest handler.
func Handler(pub ingest.Publisher, opts Options, logger *slog.Logger) http.Handler {
	opts.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
			return
		}
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || !MediaTypes[mt] || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
			fail(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
				"send Content-Type: application/json (an array of posts or {\"items\":[…]}), application/x-ndjson, application/jsonl or text/plain (one post per line), in UTF-8")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, opts.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				fail(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("body larger than %d bytes; split the batch", opts.MaxBodyBytes))
				return
			}
			fail(w, http.StatusBadRequest, "bad_json", "cannot read the body")
			return
		}
		items, lines, err := splitItems(body)
		if err != nil {
			fail(w, http.StatusBadRequest, "bad_json", err.Error())
			return
		}
		switch {
		case len(items) == 0:
			fail(w, http.StatusBadRequest, "no_items", `the body holds no posts; send a JSON array of posts, one post per line, or {"items":[…]}`)
			return
		case len(items) > opts.MaxItems:
			fail(w, http.StatusRequestEntityTooLarge, "too_many_items", fmt.Sprintf("%d posts; at most %d per request", len(items), opts.MaxItems))
			return
		}
		now := opts.Now().UTC()
		res := Result{Received: len(items), IDs: []string{}, Errors: []ItemError{}}
		posts := make([]schema.Post, 0, len(items))
		inBatch := map[string]int{}
		for i, raw := range items {
			p, ierr := convert(raw, opts, now)
			if ierr == nil {
				if j, dup := inBatch[p.ID]; dup {
					ierr = &ItemError{Code: "duplicate_in_batch", Message: fmt.Sprintf("same post as item %d", j)}
				}
			}
			if ierr != nil {
				ierr.Index = i
				if lines != nil {
					ierr.Line = lines[i]
				}
				res.Errors = append(res.Errors, *ierr)
				continue
			}
			inBatch[p.ID] = i
			posts = append(posts, p)
			res.IDs = append(res.IDs, p.ID)
		}
		if len(posts) > 0 {
			if err := pub.Publish(r.Context(), posts...); err != nil {
				logger.Error("cannot publish pushed posts", slog.Int("posts", len(posts)), slog.Any("err", err))
				fail(w, http.StatusServiceUnavailable, "unavailable", "cannot store the batch now; nothing was accepted, retry later")
				return
			}
		}
		res.Accepted, res.Rejected = len(posts), len(res.Errors)
		itemsTotal.WithLabelValues("accepted").Add(float64(res.Accepted))
		itemsTotal.WithLabelValues("rejected").Add(float64(res.Rejected))
		status := http.StatusAccepted
		if res.Accepted == 0 {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, res)
	})
}

// MediaTypes are the request content types the endpoint reads. The body's
// first byte decides the shape whatever the type: '[' an array of posts;
// one object with "items" the batch object; otherwise one post per line.
var MediaTypes = map[string]bool{
	"application/json": true, "application/x-ndjson": true, "application/ndjson": true,
	"application/jsonl": true, "application/x-jsonlines": true, "application/jsonlines": true, "text/plain": true,
}

// splitItems cuts a body into its items. For JSON lines, lines[i] is the
// 1-based line of item i (nil otherwise), and a line that is not JSON
// still counts as an item, reported by convert: every record sent is
// either accepted or rejected by index.
func splitItems(body []byte) (items []json.RawMessage, lines []int, err error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // a BOM some editors write
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil, nil
	}
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, nil, fmt.Errorf("the body starts like a JSON array of posts but is not one: %s", plainJSONError(err))
		}
		return items, nil, nil
	}
	if trimmed[0] == '{' {
		var env map[string]json.RawMessage
		if json.Unmarshal(trimmed, &env) == nil {
			if raw, ok := env["items"]; ok {
				if len(env) > 1 {
					return nil, nil, errors.New(`the batch object may only hold "items"`)
				}
				if err := json.Unmarshal(raw, &items); err != nil {
					return nil, nil, errors.New(`"items" must be an array of posts`)
				}
				return items, nil, nil
			}
		}
	}
	for n, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		items = append(items, json.RawMessage(line))
		lines = append(lines, n+1)
	}
	return items, lines, nil
}

// Fields of a pushed post, for the messages about unknown ones.
var itemFields = []string{"id", "url", "title", "text", "author", "published", "lang", "platform", "source"}

// decodeItem reads one item with messages a partner can act on (the
// standard decoder's name Go types and time layouts).
func decodeItem(raw json.RawMessage) (Item, *ItemError) {
	var it Item
	var obj map[string]json.RawMessage
	if !json.Valid(raw) {
		var v any
		return it, &ItemError{Code: "invalid_item", Message: "not JSON: " + plainJSONError(json.Unmarshal(raw, &v))}
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return it, &ItemError{Code: "invalid_item", Message: "a post must be a JSON object"}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		if string(v) == "null" {
			continue
		}
		var dst *string
		switch strings.ToLower(k) {
		case "id":
			dst = &it.ID
		case "url":
			dst = &it.URL
		case "title":
			dst = &it.Title
		case "text":
			dst = &it.Text
		case "author":
			dst = &it.Author
		case "lang":
			dst = &it.Lang
		case "platform":
			dst = &it.Platform
		case "source":
			dst = &it.Source
		case "published":
			var s string
			if json.Unmarshal(v, &s) != nil {
				return it, &ItemError{Code: "invalid_published", Message: `"published" must be a string: ` + rfc3339Hint}
			}
			if strings.TrimSpace(s) == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
			if err != nil {
				return it, &ItemError{Code: "invalid_published", Message: fmt.Sprintf(`"published" %q is not a date and time we can read: %s`, clip(s, 60), rfc3339Hint)}
			}
			it.Published = &t
			continue
		default:
			// A misspelt field would otherwise vanish silently.
			return it, &ItemError{Code: "unknown_field", Message: fmt.Sprintf("unknown field %q; a post has %s", clip(k, 60), strings.Join(itemFields, ", "))}
		}
		if json.Unmarshal(v, dst) != nil {
			return it, &ItemError{Code: "invalid_item", Message: fmt.Sprintf("%q must be a string", strings.ToLower(k))}
		}
	}
	return it, nil
}

const rfc3339Hint = "use RFC 3339, e.g. 2026-08-20T07:30:00+07:00 (or …T00:30:00Z in UTC)"

// plainJSONError words a syntax error without the decoder's Go vocabulary.
func plainJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	}
	if err != nil && strings.Contains(err.Error(), "unexpected end of JSON input") {
		return "the JSON ends too early"
	}
	return "invalid JSON"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// convert validates one item and builds its post.
func convert(raw json.RawMessage, opts Options, now time.Time) (schema.Post, *ItemError) {
	it, ierr := decodeItem(raw)
	if ierr != nil {
		return schema.Post{}, ierr
	}
	p := schema.Post{
		Title:    strings.TrimSpace(it.Title),
		Text:     strings.TrimSpace(it.Text),
		Author:   strings.TrimSpace(it.Author),
		Source:   strings.TrimSpace(it.Source),
		Platform: strings.ToLower(strings.TrimSpace(it.Platform)),
		Fetched:  now,
	}
	if p.Title == "" && p.Text == "" {
		return p, &ItemError{Code: "empty", Message: "an item needs a title or a text"}
	}
	if p.Source == "" {
		p.Source = opts.DefaultSource
	}
	if len(p.Source) > 1024 || len(it.ID) > 1024 || len(p.Author) > 1024 {
		return p, &ItemError{Code: "too_long", Message: "id, source and author are limited to 1024 bytes"}
	}
	if p.Platform == "" {
		p.Platform = Platform
	} else if !platformRE.MatchString(p.Platform) {
		return p, &ItemError{Code: "invalid_platform", Message: "platform must be 1-32 lower-case letters, digits, '.', '_' or '-'"}
	}
	if it.Lang != "" {
		if p.Lang = feed.NormalizeLang(it.Lang); p.Lang == "" {
			return p, &ItemError{Code: "invalid_lang", Message: fmt.Sprintf("lang %q is not a language tag", it.Lang)}
		}
	}
	if u := strings.TrimSpace(it.URL); u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return p, &ItemError{Code: "invalid_url", Message: "url must be an absolute http(s) URL"}
		}
		p.URL = u
		if c, err := urlcanon.Canonical(u); err == nil {
			p.CanonicalURL = c
		}
	}
	switch {
	case it.Published == nil || it.Published.IsZero():
		p.Published = now
	case it.Published.After(now.Add(opts.MaxFuture)):
		return p, &ItemError{Code: "published_in_future", Message: fmt.Sprintf("published %s is more than %s ahead of the server clock (%s)", it.Published.Format(time.RFC3339), opts.MaxFuture, now.Format(time.RFC3339))}
	default:
		p.Published = it.Published.UTC()
	}
	guid := strings.TrimSpace(it.ID)
	if guid == "" && p.URL == "" {
		// No identity given: the content is the identity, so resending the
		// same item is harmless.
		sum := sha256.Sum256([]byte(p.Title + "\x00" + p.Text + "\x00" + p.Published.Format(time.RFC3339Nano)))
		guid = hex.EncodeToString(sum[:16])
	} else if guid == "" {
		guid = p.URL
	}
	p.ID = schema.PostID(p.CanonicalURL, p.Source, guid)
	p.Clamp()
	if err := p.Validate(); err != nil {
		return p, &ItemError{Code: "invalid_item", Message: strings.TrimPrefix(err.Error(), "post ")}
	}
	return p, nil
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	requestsTotal.WithLabelValues(fmt.Sprint(status)).Inc()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
