package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/ingest/fetch"
)

// TestPostSourceRefusesGuardedURL: a feed the collectors' SSRF guard will
// refuse is refused at once with 400 naming --fetch-allow, not accepted
// with 201 and left to fail at every poll; an allowed one is created.
func TestPostSourceRefusesGuardedURL(t *testing.T) {
	fx := newFixture(t)
	strict, err := fetch.New(fetch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fx.srv.opts.CheckSourceURL = strict.CheckURL
	resp := fx.do(t, "POST", "/api/v1/sources", fx.tokens[RoleAdmin], strings.NewReader(`{"kind":"feed","url":"http://127.0.0.1:8089/feed.xml"}`))
	var e struct{ Error apiError }
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || e.Error.Code != "invalid_source" || !strings.Contains(e.Error.Message, "--fetch-allow") {
		t.Errorf("loopback feed without --fetch-allow: %d %+v", resp.StatusCode, e.Error)
	}
	allowed, err := fetch.New(fetch.Options{Allow: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	fx.srv.opts.CheckSourceURL = allowed.CheckURL
	resp = fx.do(t, "POST", "/api/v1/sources", fx.tokens[RoleAdmin], strings.NewReader(`{"kind":"feed","url":"http://127.0.0.1:8089/feed.xml"}`))
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("loopback feed with --fetch-allow 127.0.0.1: %d", resp.StatusCode)
	}
}
