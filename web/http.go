// Package web is trendwatch's HTTP face: the JSON API (documented by the
// OpenAPI 3 document it serves at /api/v1/openapi.json, generated from the
// same route table that registers the handlers), health and metrics, and
// the dashboard for analysts, editors and responders. It reads ClickHouse
// through store/clickhouse and writes through Kafka (facts, case
// commands), never directly into another stage's state.
//
// Choices:
//   - Dashboard: server-rendered html/template (contextual escaping keeps
//     crawled text inert) with charts drawn as SVG in Go (svg.go): no
//     JavaScript at all, no npm, every asset embedded with go:embed, so it
//     works offline and the CSP can refuse every other origin.
//   - HTML from sources: github.com/microcosm-cc/bluemonday, the standard
//     Go sanitiser (strict policy for post text, UGC policy for fact
//     summaries).
//   - Auth: users, API tokens and sessions in ClickHouse (store/clickhouse
//     auth.go); passwords with PBKDF2-HMAC-SHA256 from the standard library
//     (crypto/pbkdf2, 600k iterations), tokens and session ids as SHA-256
//     of 256-bit random secrets; HttpOnly SameSite=Strict cookies; CSRF
//     tokens derived from the session for every form, plus Go's
//     http.CrossOriginProtection against cross-site posts.
//   - Roles: analyst (trends, topics, fact search), editor (+ spread and
//     CSV exports), responder (+ cases, fact writes and imports), admin
//     (everything: users, tokens, sources, thresholds, routes, ingest).
//   - Browser tests: github.com/chromedp/chromedp driving Debian's
//     chromium (test only).
package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	requests = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "web", Name: "requests_total",
		Help: "HTTP requests by route pattern and status class.",
	}, []string{"route", "code"})
	requestSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "trendwatch", Subsystem: "web", Name: "request_seconds",
		Help:    "HTTP request latency by route pattern.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
	}, []string{"route"})
)

// apiError is the JSON body of every error response; Code is stable and
// documented, Message is for people.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, format string, args ...any) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: fmt.Sprintf(format, args...)}})
}

// statusRecorder remembers the status code for metrics and logs.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// instrument records metrics per route pattern (not per URL, which would
// explode label cardinality) and logs server errors.
func instrument(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				log.Error("handler panicked", slog.String("path", r.URL.Path), slog.Any("panic", v))
				if rec.status == http.StatusOK {
					writeError(rec, http.StatusInternalServerError, "internal", "internal error")
				}
				rec.status = http.StatusInternalServerError
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			requests.WithLabelValues(route, strconv.Itoa(rec.status/100)+"xx").Inc()
			requestSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
			if rec.status >= 500 {
				log.Warn("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status), slog.Duration("took", time.Since(start)))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// securityHeaders sets headers every response carries. The dashboard embeds
// all of its assets, so the policy can refuse every other origin.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// decodeJSON reads a JSON body of at most limit bytes into v, rejecting
// unknown fields so typos surface as errors instead of silent defaults.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body larger than %d bytes", limit)
			return false
		}
		writeError(w, http.StatusBadRequest, "bad_json", "cannot decode request body: %s", plainJSONError(err))
		return false
	}
	return true
}
