package push

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/schema"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func do(t *testing.T, h http.Handler, method, ctype, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, "/api/v1/ingest", strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("response is not JSON: %q", rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("response content type %q", ct)
	}
	return rec, out
}

func TestBatch(t *testing.T) {
	pub := &ingest.MemoryPublisher{}
	h := Handler(pub, Options{Now: func() time.Time { return now }}, nil)
	body := `{"items":[
 {"url":"https://www.news.example/a.html?utm_source=x","title":"Bridge closed","text":"From tonight.","author":"An","published":"2026-11-25T15:00:00+07:00","lang":"vi-VN","platform":"zalo","source":"partner-1"},
 {"id":"p-2","text":"no url, client id"},
 {"text":"no url, no id"},
 {"title":""},
 {"text":"x","url":"ftp://nope"},
 {"text":"x","lang":"klingon-language"},
 {"text":"x","published":"2030-01-01T00:00:00Z"},
 {"text":"x","platform":"Bad Platform!"},
 {"text":"x","colour":"blue"},
 {"text":42},
 {"url":"http://news.example/a.html#c","title":"Bridge closed (again)"}
]}`
	rec, out := do(t, h, http.MethodPost, "application/json; charset=utf-8", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %v", rec.Code, out)
	}
	var res Result
	_ = json.Unmarshal(rec.Body.Bytes(), &res)
	if res.Accepted != 3 || len(res.IDs) != 3 {
		t.Errorf("accepted %d ids %v", res.Accepted, res.IDs)
	}
	wantCodes := map[int]string{3: "empty", 4: "invalid_url", 5: "invalid_lang", 6: "published_in_future", 7: "invalid_platform", 8: "invalid_item", 9: "invalid_item", 10: "duplicate_in_batch"}
	if len(res.Errors) != len(wantCodes) {
		t.Errorf("errors %+v", res.Errors)
	}
	for _, e := range res.Errors {
		if wantCodes[e.Index] != e.Code || e.Message == "" {
			t.Errorf("item %d: code %q (%s), want %q", e.Index, e.Code, e.Message, wantCodes[e.Index])
		}
	}
	posts := pub.Posts()
	if len(posts) != 3 {
		t.Fatalf("published %d", len(posts))
	}
	p := posts[0]
	if p.CanonicalURL != "https://news.example/a.html" || p.ID != schema.PostID(p.CanonicalURL, "", "") || p.Lang != "vi" || p.Platform != "zalo" ||
		p.Source != "partner-1" || !p.Published.Equal(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)) || !p.Fetched.Equal(now) {
		t.Errorf("post 0: %+v", p)
	}
	if q := posts[1]; q.ID != schema.PostID("", "push", "p-2") || q.Platform != "push" || !q.Published.Equal(now) {
		t.Errorf("post 1: %+v", q)
	}
	// Resending the same batch yields the same ids (idempotent downstream).
	rec2, _ := do(t, h, http.MethodPost, "application/json", body)
	var res2 Result
	_ = json.Unmarshal(rec2.Body.Bytes(), &res2)
	if strings.Join(res2.IDs, ",") != strings.Join(res.IDs, ",") {
		t.Errorf("ids differ on resend: %v vs %v", res2.IDs, res.IDs)
	}
}

func TestRequestErrors(t *testing.T) {
	h := Handler(&ingest.MemoryPublisher{}, Options{MaxBodyBytes: 200, MaxItems: 2}, nil)
	f := func(method, ctype, body string, status int, code string) {
		t.Helper()
		rec, out := do(t, h, method, ctype, body)
		if rec.Code != status {
			t.Errorf("%s %q: status %d, want %d (%v)", method, body, rec.Code, status, out)
		}
		if code != "" {
			e, _ := out["error"].(map[string]any)
			if e == nil || e["code"] != code {
				t.Errorf("%q: body %v, want code %s", body, out, code)
			}
		}
	}
	f(http.MethodGet, "application/json", "", 405, "method_not_allowed")
	f(http.MethodPost, "text/plain", `{"items":[{"text":"x"}]}`, 415, "unsupported_media_type")
	f(http.MethodPost, "", `{"items":[{"text":"x"}]}`, 415, "unsupported_media_type")
	f(http.MethodPost, "application/json; charset=latin1", `{"items":[{"text":"x"}]}`, 415, "unsupported_media_type")
	f(http.MethodPost, "application/json", `{"items":[{"text":"`+strings.Repeat("x", 300)+`"}]}`, 413, "body_too_large")
	f(http.MethodPost, "application/json", `{"items":[{"text":"a"},{"text":"b"},{"text":"c"}]}`, 413, "too_many_items")
	f(http.MethodPost, "application/json", `{"items":[`, 400, "invalid_json")
	f(http.MethodPost, "application/json", `{"items":[]}`, 400, "no_items")
	f(http.MethodPost, "application/json", `{}`, 400, "no_items")
	f(http.MethodPost, "application/json", `{"items":[{"text":"x"}]} {}`, 400, "invalid_json")
	f(http.MethodPost, "application/json", `[1,2]`, 400, "invalid_json")
	f(http.MethodPost, "application/json", `{"items":[{"title":""}]}`, 400, "")
}

type brokenPublisher struct{}

func (brokenPublisher) Publish(context.Context, ...schema.Post) error {
	return errors.New("kafka down")
}

func TestPublisherFailure(t *testing.T) {
	h := Handler(brokenPublisher{}, Options{}, nil)
	rec, out := do(t, h, http.MethodPost, "application/json", `{"items":[{"text":"x"}]}`)
	if rec.Code != http.StatusServiceUnavailable || out["error"].(map[string]any)["code"] != "unavailable" {
		t.Errorf("status %d body %v", rec.Code, out)
	}
}

// FuzzHandler: any body gets a JSON answer with a known status; item
// results account for every item; accepted posts validate.
func FuzzHandler(f *testing.F) {
	f.Add(`{"items":[{"url":"https://a.example/x","title":"t","text":"x","published":"2026-11-25T10:00:00Z"}]}`)
	f.Add(`{"items":[{"text":"x","lang":"fr"},{"text":"\ud800"},{"id":"1","text":"y","source":"s"}]}`)
	f.Add(`{"items":[{"text":null,"title":"t","published":null}]}`)
	f.Add(`{"items":{}}`)
	f.Fuzz(func(t *testing.T, body string) {
		pub := &ingest.MemoryPublisher{}
		h := Handler(pub, Options{MaxBodyBytes: 64 << 10, MaxItems: 50, Now: func() time.Time { return now }}, nil)
		req := httptest.NewRequest(http.MethodPost, "/api/v1/ingest", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		var res struct {
			Result
			Error *struct{ Code string } `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
			t.Fatalf("non-JSON answer %q", rec.Body.String())
		}
		if res.Error == nil {
			var batch struct {
				Items []json.RawMessage `json:"items"`
			}
			_ = json.Unmarshal([]byte(body), &batch)
			if res.Accepted+len(res.Errors) != len(batch.Items) {
				t.Fatalf("accepted %d + errors %d != items %d", res.Accepted, len(res.Errors), len(batch.Items))
			}
		}
		for _, p := range pub.Posts() {
			if err := p.Validate(); err != nil {
				t.Fatalf("published invalid post %+v: %v", p, err)
			}
		}
	})
}
