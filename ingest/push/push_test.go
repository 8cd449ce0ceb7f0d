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
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %v", rec.Code, out)
	}
	var res Result
	_ = json.Unmarshal(rec.Body.Bytes(), &res)
	if res.Accepted != 3 || len(res.IDs) != 3 || res.Received != 11 || res.Rejected != 8 {
		t.Errorf("accepted %d ids %v", res.Accepted, res.IDs)
	}
	wantCodes := map[int]string{3: "empty", 4: "invalid_url", 5: "invalid_lang", 6: "published_in_future", 7: "invalid_platform", 8: "unknown_field", 9: "invalid_item", 10: "duplicate_in_batch"}
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
	f(http.MethodPost, "text/html", `{"items":[{"text":"x"}]}`, 415, "unsupported_media_type")
	f(http.MethodPost, "", `{"items":[{"text":"x"}]}`, 415, "unsupported_media_type")
	f(http.MethodPost, "application/json; charset=latin1", `{"items":[{"text":"x"}]}`, 415, "unsupported_media_type")
	f(http.MethodPost, "application/json", `{"items":[{"text":"`+strings.Repeat("x", 300)+`"}]}`, 413, "body_too_large")
	f(http.MethodPost, "application/json", `{"items":[{"text":"a"},{"text":"b"},{"text":"c"}]}`, 413, "too_many_items")
	f(http.MethodPost, "application/json", `[{"text":"x"}`, 400, "bad_json")
	f(http.MethodPost, "application/json", `{"items":[]}`, 400, "no_items")
	f(http.MethodPost, "application/json", `  `, 400, "no_items")
	f(http.MethodPost, "application/json", `{"items":{}}`, 400, "bad_json")
	f(http.MethodPost, "application/json", `{"items":[{"text":"x"}],"extra":1}`, 400, "bad_json")
	// Not a batch: each value is an item, and each bad one is reported.
	f(http.MethodPost, "application/json", `{}`, 400, "")
	f(http.MethodPost, "application/json", `[1,2]`, 400, "")
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
		case 202, 400, 413:
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
			items, _, err := splitItems([]byte(body))
			if err != nil || res.Received != len(items) || res.Accepted+len(res.Errors) != res.Received || res.Rejected != len(res.Errors) {
				t.Fatalf("received %d (split %d, %v), accepted %d + errors %d", res.Received, len(items), err, res.Accepted, len(res.Errors))
			}
		}
		for _, p := range pub.Posts() {
			if err := p.Validate(); err != nil {
				t.Fatalf("published invalid post %+v: %v", p, err)
			}
		}
	})
}

// TestFormats: the same three posts (one bad) arrive whatever the shape the
// document names, with 202, the same ids, and count in = count out.
func TestFormats(t *testing.T) {
	a := `{"id":"f1","title":"Bão số 3 đổ bộ","text":"Bão số 3 đổ bộ Quảng Ninh","lang":"vi","published":"2026-11-25T07:30:00+07:00"}`
	b := `{"id":"f2","text":"Second post","published":"2026-11-25T01:00:00Z"}`
	bad := `{"id":"f3","text":"bad date","published":"25/11/2026 07:30"}`
	cases := []struct{ name, ctype, body string }{
		{"array", "application/json", "[" + a + "," + b + "," + bad + "]"},
		{"items", "application/json; charset=utf-8", `{"items":[` + a + "," + b + "," + bad + "]}"},
		{"ndjson", "application/x-ndjson", a + "\n" + b + "\n" + bad + "\n"},
		{"jsonl", "application/jsonl", a + "\r\n\n" + b + "\r\n" + bad},
		{"text lines", "text/plain; charset=utf-8", a + "\n" + b + "\n" + bad},
		{"json lines as json", "application/json", a + "\n" + b + "\n" + bad},
	}
	var firstIDs []string
	for _, c := range cases {
		pub := &ingest.MemoryPublisher{}
		h := Handler(pub, Options{Now: func() time.Time { return now }}, nil)
		rec, out := do(t, h, http.MethodPost, c.ctype, c.body)
		if rec.Code != http.StatusAccepted {
			t.Errorf("%s: status %d, want 202: %v", c.name, rec.Code, out)
			continue
		}
		var res Result
		_ = json.Unmarshal(rec.Body.Bytes(), &res)
		if res.Received != 3 || res.Accepted != 2 || res.Rejected != 1 || len(res.Errors) != 1 || res.Errors[0].Index != 2 || res.Errors[0].Code != "invalid_published" {
			t.Errorf("%s: %+v", c.name, res)
			continue
		}
		if msg := res.Errors[0].Message; !strings.Contains(msg, "RFC 3339, e.g. 2026-08-20T07:30:00+07:00") {
			t.Errorf("%s: message %q does not show an example", c.name, msg)
		}
		if firstIDs == nil {
			firstIDs = res.IDs
		} else if strings.Join(res.IDs, ",") != strings.Join(firstIDs, ",") {
			t.Errorf("%s: ids %v, want %v", c.name, res.IDs, firstIDs)
		}
		if ps := pub.Posts(); len(ps) != 2 || !ps[0].Published.Equal(time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)) || ps[0].Lang != "vi" {
			t.Errorf("%s: published %+v", c.name, ps)
		}
	}
}

// TestPlainMessages: no message names a Go type, a Go package or a Go time
// layout, whatever is wrong with a record.
func TestPlainMessages(t *testing.T) {
	h := Handler(&ingest.MemoryPublisher{}, Options{Now: func() time.Time { return now }}, nil)
	body := `[{"text":42},{"text":"x","published":"yesterday"},{"text":"x","published":12},{"text":"x","kind":"rss"},"just a string",{"text":"x","published":"2030-01-01T00:00:00Z"},{"text":["a"]}]`
	lines := "{\"text\":\"ok\"}\n{\"text\": broken\n"
	for _, b := range []struct{ ctype, body string }{{"application/json", body}, {"application/x-ndjson", lines}, {"application/json", `[{"text":"x"`}} {
		rec, _ := do(t, h, http.MethodPost, b.ctype, b.body)
		s := rec.Body.String()
		for _, bad := range []string{"Go ", "struct", "2006-01-02", "schema.", "push.Item", "json:"} {
			if strings.Contains(s, bad) {
				t.Errorf("answer to %q shows %q: %s", b.body, bad, s)
			}
		}
	}
	rec, _ := do(t, h, http.MethodPost, "application/x-ndjson", lines)
	var res Result
	_ = json.Unmarshal(rec.Body.Bytes(), &res)
	if rec.Code != http.StatusAccepted || res.Received != 2 || res.Accepted != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 2 || res.Errors[0].Index != 1 {
		t.Errorf("JSON lines with a broken line: %d %+v", rec.Code, res)
	}
}
