// Package push is the HTTP endpoint through which partners and scripts
// hand posts to trendwatch directly (POST /api/v1/ingest): a JSON batch in,
// per-item results out. It uses only the standard library (encoding/json
// with per-item strict decoding, http.MaxBytesReader for the size cap);
// authentication is the web layer's job, around this handler.
//
// Request:  {"items":[{"id":"…","url":"…","title":"…","text":"…","author":"…",
//
//	"published":"RFC 3339","lang":"vi","platform":"…","source":"…"}]}
//
// Response: {"accepted":n,"ids":["…"],"errors":[{"index":i,"code":"…","message":"…"}]}
// with 200 when at least one item was accepted, 400 when none was.
// Whole-request failures answer {"error":{"code":"…","message":"…"}} with
// 400 (invalid_json, no_items), 405, 413 (body_too_large, too_many_items),
// 415 (unsupported_media_type) or 503 (unavailable: the publisher failed;
// nothing was accepted, retry the batch).
package push

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

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
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is the response to a batch.
type Result struct {
	Accepted int         `json:"accepted"`
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
		if err != nil || mt != "application/json" || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
			fail(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json (UTF-8)")
			return
		}
		var batch struct {
			Items []json.RawMessage `json:"items"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, opts.MaxBodyBytes))
		if err := dec.Decode(&batch); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				fail(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("body larger than %d bytes", opts.MaxBodyBytes))
				return
			}
			fail(w, http.StatusBadRequest, "invalid_json", "cannot decode the batch: "+err.Error())
			return
		}
		if dec.More() {
			fail(w, http.StatusBadRequest, "invalid_json", "trailing data after the batch object")
			return
		}
		switch {
		case len(batch.Items) == 0:
			fail(w, http.StatusBadRequest, "no_items", `the batch has no "items"`)
			return
		case len(batch.Items) > opts.MaxItems:
			fail(w, http.StatusRequestEntityTooLarge, "too_many_items", fmt.Sprintf("%d items; at most %d per batch", len(batch.Items), opts.MaxItems))
			return
		}
		now := opts.Now().UTC()
		res := Result{IDs: []string{}, Errors: []ItemError{}}
		posts := make([]schema.Post, 0, len(batch.Items))
		inBatch := map[string]int{}
		for i, raw := range batch.Items {
			p, ierr := convert(raw, opts, now)
			if ierr == nil {
				if j, dup := inBatch[p.ID]; dup {
					ierr = &ItemError{Code: "duplicate_in_batch", Message: fmt.Sprintf("same post as item %d", j)}
				}
			}
			if ierr != nil {
				ierr.Index = i
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
				fail(w, http.StatusServiceUnavailable, "unavailable", "cannot store the batch now; retry later")
				return
			}
		}
		res.Accepted = len(posts)
		itemsTotal.WithLabelValues("accepted").Add(float64(len(posts)))
		itemsTotal.WithLabelValues("rejected").Add(float64(len(res.Errors)))
		status := http.StatusOK
		if res.Accepted == 0 {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, res)
	})
}

// convert validates one item and builds its post.
func convert(raw json.RawMessage, opts Options, now time.Time) (schema.Post, *ItemError) {
	var it Item
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt field would otherwise vanish silently
	if err := dec.Decode(&it); err != nil {
		return schema.Post{}, &ItemError{Code: "invalid_item", Message: err.Error()}
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
		return p, &ItemError{Code: "published_in_future", Message: fmt.Sprintf("published %s is ahead of the server clock", it.Published.Format(time.RFC3339))}
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
		return p, &ItemError{Code: "invalid_item", Message: err.Error()}
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
