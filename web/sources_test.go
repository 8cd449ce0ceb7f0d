package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/schema"
)

func TestSourceHealth(t *testing.T) {
	on, off := schema.Source{Enabled: true}, schema.Source{}
	f := func(src schema.Source, st *schema.SourceStatus, want string) {
		t.Helper()
		if got := sourceHealth(src, st); got != want {
			t.Errorf("sourceHealth(%+v, %+v) = %q, want %q", src, st, got, want)
		}
	}
	f(off, &schema.SourceStatus{Failures: 3}, schema.HealthPaused)
	f(on, nil, schema.HealthPending)
	f(on, &schema.SourceStatus{Health: schema.HealthSilent}, schema.HealthSilent)
	f(on, &schema.SourceStatus{Failures: 1}, schema.HealthFailing) // a collector that gives no verdict
	f(on, &schema.SourceStatus{}, schema.HealthHealthy)

	l := func(src schema.Source, st *schema.SourceStatus, want string) {
		t.Helper()
		if got := sourceLabel(src, st); got != want {
			t.Errorf("sourceLabel = %q, want %q", got, want)
		}
	}
	l(schema.Source{ID: "ab12", Name: "Sở Y tế", URL: "https://soyte.hanoi.gov.vn/rss"}, &schema.SourceStatus{Title: "Feed"}, "Sở Y tế")
	l(schema.Source{ID: "ab12", URL: "https://soyte.hanoi.gov.vn/rss"}, &schema.SourceStatus{Title: "Tin Sở Y tế"}, "Tin Sở Y tế")
	l(schema.Source{ID: "ab12", URL: "https://soyte.hanoi.gov.vn/rss/"}, nil, "soyte.hanoi.gov.vn/rss")
}

type sourcesJSON struct {
	Sources []struct {
		ID     string          `json:"id"`
		Health string          `json:"health"`
		Label  string          `json:"label"`
		Status json.RawMessage `json:"status"`
	} `json:"sources"`
}

func listSourcesAPI(t *testing.T, fx *fixture) sourcesJSON {
	t.Helper()
	resp := fx.do(t, "GET", "/api/v1/sources", fx.tokens[RoleAdmin], nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET sources: %d", resp.StatusCode)
	}
	var out sourcesJSON
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The API says each source's health as the collector judged it, names it
// without hex ids and leaves out times that never happened.
func TestSourcesAPIHealth(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	if err := fx.st.PutSource(ctx, schema.Source{ID: "src-quiet", Kind: "feed", URL: "https://quiet.example/rss", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := fx.st.PutSourceStatus(ctx, schema.SourceStatus{SourceID: "src-quiet", LastAttempt: fx.now, LastSuccess: fx.now,
		Health: schema.HealthSilent, HealthDetail: "no new item for 72h0m0s", Title: "Quiet news"}); err != nil {
		t.Fatal(err)
	}
	if err := fx.st.PutSource(ctx, schema.Source{ID: "src-new", Kind: "feed", URL: "https://new.example/rss", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var order []string
	for _, s := range listSourcesAPI(t, fx).Sources {
		got[s.ID] = s.Health + " " + s.Label
		order = append(order, s.ID)
		if strings.Contains(string(s.Status), "0001-01-01") {
			t.Errorf("%s: status shows a zero time: %s", s.ID, s.Status)
		}
	}
	want := map[string]string{"src-bad": "failing Broken feed", "src-quiet": "silent Quiet news", "src-new": "pending new.example/rss", "src-ok": "healthy OK feed"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	if len(order) < 2 || order[0] != "src-bad" || order[1] != "src-quiet" {
		t.Errorf("order %v: want failing, then silent, first", order)
	}

	// Pause and resume through the API.
	resp := fx.do(t, "POST", "/api/v1/sources/src-quiet/pause", fx.tokens[RoleAdmin], nil)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("pause: %d %s", resp.StatusCode, b)
	}
	for _, s := range listSourcesAPI(t, fx).Sources {
		if s.ID == "src-quiet" && s.Health != schema.HealthPaused {
			t.Errorf("after pause: %s", s.Health)
		}
	}
	if resp := fx.do(t, "POST", "/api/v1/sources/src-quiet/resume", fx.tokens[RoleAdmin], nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("resume: %d", resp.StatusCode)
	}
	if resp := fx.do(t, "POST", "/api/v1/sources/nope/pause", fx.tokens[RoleAdmin], nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("pause of an unknown source: %d, want 404", resp.StatusCode)
	}
	if resp := fx.do(t, "POST", "/api/v1/sources/src-quiet/pause", fx.tokens[RoleAnalyst], nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("pause by an analyst: %d, want 403", resp.StatusCode)
	}
}

// An admin adds, pauses and removes a source from the page, and the page
// says a fetch error in the reader's language.
func TestSourcesPageForms(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	if err := fx.st.PutSourceStatus(ctx, schema.SourceStatus{SourceID: "src-bad", Failures: 4, LastError: "GET https://bad.example/rss: HTTP 503 Service Unavailable",
		ErrorKind: "http_503", Health: schema.HealthFailing, LastAttempt: fx.now}); err != nil {
		t.Fatal(err)
	}
	c := browserClient(t)
	if resp := login(t, c, fx.http.URL, "admin1", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	page, token := pageCSRF(t, c, fx.http.URL+"/sources?hl=vi")
	if !strings.Contains(page, "Máy chủ trả lời lỗi HTTP 503") || !strings.Contains(page, "Đang lỗi") {
		t.Errorf("the vi page does not say the error in Vietnamese")
	}
	if strings.Contains(page, "0001") || strings.Contains(page, "src-ok</strong>") {
		t.Errorf("the page shows a zero time or a bare id")
	}
	post := func(path string, form url.Values) {
		t.Helper()
		form.Set("csrf", token)
		resp, err := c.PostForm(fx.http.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
	}
	post("/sources", url.Values{"url": {"https://soyte.hanoi.gov.vn/rss"}, "kind": {"feed"}, "name": {"Sở Y tế Hà Nội"}, "lang": {"vi"}})
	id := schema.SourceID("feed", "https://soyte.hanoi.gov.vn/rss")
	src, found, err := fx.srv.sourceByID(httptestRequest(ctx), id)
	if err != nil || !found || src.Name != "Sở Y tế Hà Nội" || !src.Enabled || src.Lang != "vi" {
		t.Fatalf("added source: %+v found=%v err=%v", src, found, err)
	}
	post("/sources/"+id+"/pause", url.Values{})
	if src, _, _ := fx.srv.sourceByID(httptestRequest(ctx), id); src.Enabled {
		t.Errorf("pause from the page left the source enabled")
	}
	post("/sources/"+id+"/delete", url.Values{})
	if _, found, _ := fx.srv.sourceByID(httptestRequest(ctx), id); found {
		t.Errorf("remove from the page left the source")
	}
	// A bad address is refused with a message, not stored.
	resp, err := c.PostForm(fx.http.URL+"/sources", url.Values{"csrf": {token}, "url": {"ftp://x"}, "kind": {"feed"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=") {
		t.Errorf("bad address: redirected to %q, want an error", loc)
	}
}

func httptestRequest(ctx context.Context) *http.Request {
	r, _ := http.NewRequestWithContext(ctx, "GET", "/", nil)
	return r
}
