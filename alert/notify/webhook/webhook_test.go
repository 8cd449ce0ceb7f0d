package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
)

var secret = []byte("s3cret")

func sample() notify.Notification {
	return notify.Notification{Key: "c-abc-1", CaseID: "c-abc", Seq: 1, Kind: notify.KindOpened, Severity: "high",
		FactID: "f1", Claim: "Drinking salt water cures flu", Verdict: "false", Posts: 3, Authors: 2, Rate: 3, Window: "1h0m0s"}
}

func TestSendVerified(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := Verify(secret, r, 5*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "content type", http.StatusUnsupportedMediaType)
			return
		}
		var n notify.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if n.Key != r.Header.Get(HeaderIdempotencyKey) {
			http.Error(w, "key mismatch", http.StatusBadRequest)
			return
		}
		got.Store(n)
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, Secret: secret, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	n, _ := got.Load().(notify.Notification)
	if n.Key != "c-abc-1" || n.Claim != sample().Claim {
		t.Fatalf("receiver got %+v", n)
	}
}

func TestSendClassifiesStatus(t *testing.T) {
	f := func(status int, retryAfter string, permanent bool, wait time.Duration) {
		t.Helper()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
		}))
		defer srv.Close()
		c, _ := New(Config{URL: srv.URL, Secret: secret, Client: srv.Client()})
		err := c.Send(context.Background(), sample())
		if err == nil {
			t.Fatalf("status %d: no error", status)
		}
		if notify.IsPermanent(err) != permanent {
			t.Fatalf("status %d: permanent=%v, want %v (%v)", status, !permanent, permanent, err)
		}
		if got := notify.RetryAfterOf(err); got != wait {
			t.Fatalf("status %d: retry after %v, want %v", status, got, wait)
		}
	}
	f(500, "", false, 0)
	f(503, "7", false, 7*time.Second)
	f(429, "120", false, 2*time.Minute)
	f(400, "", true, 0)
	f(401, "", true, 0)
	f(404, "", true, 0)
}

func signed(t *testing.T, ts time.Time, body []byte, key []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
	s := strconv.FormatInt(ts.Unix(), 10)
	r.Header.Set(HeaderTimestamp, s)
	r.Header.Set(HeaderSignature, Sign(key, s, body))
	return r
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"idempotency_key":"k"}`)
	f := func(name string, r *http.Request, window time.Duration, want error) {
		t.Helper()
		got, err := verifyAt(secret, r, window, now)
		if !errors.Is(err, want) {
			t.Fatalf("%s: err %v, want %v", name, err, want)
		}
		if want == nil && !bytes.Equal(got, body) {
			t.Fatalf("%s: body %q", name, got)
		}
	}
	f("fresh", signed(t, now, body, secret), time.Minute, nil)
	f("skewed future", signed(t, now.Add(30*time.Second), body, secret), time.Minute, nil)
	f("stale", signed(t, now.Add(-2*time.Minute), body, secret), time.Minute, ErrStale)
	f("future", signed(t, now.Add(2*time.Minute), body, secret), time.Minute, ErrStale)
	f("no window", signed(t, now.Add(-48*time.Hour), body, secret), 0, nil)
	f("wrong key", signed(t, now, body, []byte("other")), time.Minute, ErrBadSignature)

	r := signed(t, now, body, secret)
	r.Body = http.NoBody
	f("tampered body", r, time.Minute, ErrBadSignature)

	r = signed(t, now, body, secret)
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10))
	f("tampered timestamp", r, time.Minute, ErrBadSignature)

	r = signed(t, now, body, secret)
	r.Header.Del(HeaderSignature)
	f("unsigned", r, time.Minute, ErrMissingSignature)
}

// FuzzVerify: Verify never panics, and accepts a request only when its
// signature is the HMAC of exactly what it returns.
func FuzzVerify(f *testing.F) {
	f.Add("1800000000", "sha256=00", []byte(`{}`))
	f.Add("", "", []byte(nil))
	f.Add("-1", "sha256=", []byte("x"))
	f.Add("99999999999999999999", "md5=1", []byte("{\"a\":1}"))
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set(HeaderTimestamp, ts)
		r.Header.Set(HeaderSignature, sig)
		got, err := verifyAt(secret, r, time.Minute, now)
		if err == nil && (sig != Sign(secret, ts, body) || !bytes.Equal(got, body)) {
			t.Fatalf("accepted a bad signature %q for %q", sig, body)
		}
		// A correctly signed body is accepted whenever its timestamp is fresh.
		r = signed(t, now, body, secret)
		if _, err := verifyAt(secret, r, time.Minute, now); err != nil && len(body) <= MaxBody {
			t.Fatalf("rejected a good signature: %v", err)
		}
	})
}
