package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify/webhook"
	"github.com/trendwatch/trendwatch/bench"
)

// benchHook is the bench's signed-webhook receiver: the rapid-response
// team's end of the pipeline. For each case's opening notification it
// records publish→webhook latency, from the case's first post (generated
// and published at its Published time) to the verified delivery.
type benchHook struct {
	srv    *httptest.Server
	secret []byte

	mu        sync.Mutex
	since     time.Time // only cases whose first post is at or after this count
	keys      map[string]bool
	latencies []float64 // ms
	opened    int
	other     int // updates and escalations
	dupes     int
	badSig    int
}

// webhookResult is the publish→webhook measurement in the report.
type webhookResult struct {
	CasesOpened   int     `json:"cases_opened"`
	Notifications int     `json:"other_notifications"`
	Duplicates    int     `json:"duplicate_deliveries"`
	BadSignatures int     `json:"bad_signatures"`
	P50Ms         float64 `json:"publish_to_webhook_p50_ms"`
	P99Ms         float64 `json:"publish_to_webhook_p99_ms"`
}

func newBenchHook(secret string) *benchHook {
	h := &benchHook{secret: []byte(secret), keys: map[string]bool{}, since: time.Now().Add(24 * time.Hour)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := webhook.Verify(h.secret, r, 10*time.Minute)
		now := time.Now()
		h.mu.Lock()
		defer h.mu.Unlock()
		if err != nil {
			h.badSig++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		key := r.Header.Get(webhook.HeaderIdempotencyKey)
		if h.keys[key] {
			h.dupes++
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.keys[key] = true
		var n struct {
			Kind      string    `json:"kind"`
			FirstSeen time.Time `json:"first_seen"`
		}
		if json.Unmarshal(body, &n) == nil && !n.FirstSeen.Before(h.since) {
			if n.Kind == "opened" {
				h.opened++
				h.latencies = append(h.latencies, float64(now.Sub(n.FirstSeen))/float64(time.Millisecond))
			} else {
				h.other++
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	return h
}

// measureFrom starts counting: cases opened by the warm-up are left out.
func (h *benchHook) measureFrom(t time.Time) {
	h.mu.Lock()
	h.since = t
	h.mu.Unlock()
}

func (h *benchHook) opens() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.opened
}

func (h *benchHook) result() *webhookResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	res := &webhookResult{CasesOpened: h.opened, Notifications: h.other, Duplicates: h.dupes, BadSignatures: h.badSig}
	if len(h.latencies) > 0 { // Quantile is NaN on none, which JSON cannot carry
		res.P50Ms, res.P99Ms = bench.Quantile(h.latencies, 0.5), bench.Quantile(h.latencies, 0.99)
	}
	return res
}
