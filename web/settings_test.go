package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/settings"
)

// topicStub stands in for the settings topic and this server's follower:
// a published record is applied at once.
type topicStub struct {
	live *settings.Live
	fail error
}

func (s *topicStub) PutSetting(ctx context.Context, rec schema.Setting) error {
	if s.fail != nil {
		return s.fail
	}
	s.live.Apply(rec)
	return nil
}

// newLiveSettings is what the serve stage builds from the default flags.
func newLiveSettings() *settings.Live {
	base := policy.Default()
	base.Thresholds = map[string]float64{"vi": 0.5, "fr": 0.5, "en": 0.5, "und": 0.6}
	return settings.NewLive(base, nil)
}

func settingsFixture(t *testing.T) (*fixture, *settings.Live) {
	t.Helper()
	fx := newFixture(t)
	return fx, fx.srv.opts.Settings
}

func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestSettingsAPI(t *testing.T) {
	fx, live := settingsFixture(t)
	admin := fx.tokens[RoleAdmin]
	var got struct {
		Thresholds map[string]float64 `json:"thresholds"`
		Stored     bool               `json:"stored"`
		Revision   uint64             `json:"revision"`
		ChangedBy  string             `json:"changed_by"`
	}
	resp := fx.do(t, "GET", "/api/v1/settings/thresholds", admin, nil)
	decodeBody(t, resp, &got)
	if resp.StatusCode != 200 || got.Thresholds["vi"] != 0.5 || got.Stored {
		t.Fatalf("GET thresholds: %d %+v", resp.StatusCode, got)
	}

	// Not an admin: refused, nothing changes.
	for _, role := range []string{RoleAnalyst, RoleEditor, RoleResponder} {
		if resp := fx.do(t, "PUT", "/api/v1/settings/thresholds", fx.tokens[role], strings.NewReader(`{"vi":0.9}`)); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s PUT thresholds: %d, want 403", role, resp.StatusCode)
		}
	}
	// Bad values: 400 naming them.
	for body, want := range map[string][]string{
		`{"vi":1.5}`:               {"vi", "1.5"},
		`{"fr":"zero"}`:            {"fr", "zero", "not a number"},
		`{"Vietnamese":0.5}`:       {"Vietnamese", "language code"},
		`{"thresholds":{"en":-1}}`: {"en", "-1"},
	} {
		resp := fx.do(t, "PUT", "/api/v1/settings/thresholds", admin, strings.NewReader(body))
		var e map[string]apiError
		decodeBody(t, resp, &e)
		if resp.StatusCode != 400 || e["error"].Code != "invalid_setting" {
			t.Errorf("PUT %s: %d %+v, want 400 invalid_setting", body, resp.StatusCode, e)
		}
		for _, w := range want {
			if !strings.Contains(e["error"].Message, w) {
				t.Errorf("PUT %s: message %q does not name %s", body, e["error"].Message, w)
			}
		}
	}
	if live.Effective().Threshold("vi") != 0.5 {
		t.Fatal("a refused change took effect")
	}

	resp = fx.do(t, "PUT", "/api/v1/settings/thresholds", admin, strings.NewReader(`{"vi":0.7,"fr":0.55}`))
	decodeBody(t, resp, &got)
	if resp.StatusCode != 200 || got.Thresholds["vi"] != 0.7 || got.Thresholds["en"] != 0.5 || !got.Stored || got.Revision != 1 || got.ChangedBy == "" {
		t.Fatalf("PUT thresholds: %d %+v", resp.StatusCode, got)
	}
	if live.Effective().Threshold("vi") != 0.7 || live.Effective().Policy.Threshold("vi") != 0.7 {
		t.Fatal("the change is not in force")
	}

	// The policy: validated by the policy's own rules, thresholds apart.
	for body, want := range map[string]string{
		`{"min_posts": 0}`:            "min_posts",
		`{"min_posts": "3"}`:          "min_posts",
		`{"window": "soon"}`:          "window",
		`{"thresholds": {"vi": 0.2}}`: "/api/v1/settings/thresholds",
		`{"min_posts": 3,`:            "",
	} {
		resp := fx.do(t, "PUT", "/api/v1/settings/alert-policy", admin, strings.NewReader(body))
		var e map[string]apiError
		decodeBody(t, resp, &e)
		if resp.StatusCode != 400 || !strings.Contains(e["error"].Message, want) || strings.Contains(e["error"].Message, "Go ") {
			t.Errorf("PUT policy %s: %d %+v, want 400 naming %s", body, resp.StatusCode, e, want)
		}
	}
	var pol struct {
		Policy map[string]any `json:"policy"`
		Stored bool           `json:"stored"`
	}
	resp = fx.do(t, "GET", "/api/v1/settings/alert-policy", admin, nil)
	decodeBody(t, resp, &pol)
	pol.Policy["min_posts"], pol.Policy["min_authors"], pol.Policy["cooldown"] = 3, 2, "15m"
	b, _ := json.Marshal(map[string]any{"policy": pol.Policy}) // GET's shape goes back
	resp = fx.do(t, "PUT", "/api/v1/settings/alert-policy", admin, strings.NewReader(string(b)))
	decodeBody(t, resp, &pol)
	if resp.StatusCode != 200 || pol.Policy["min_posts"] != 3.0 || pol.Policy["cooldown"] != "15m0s" || !pol.Stored {
		t.Fatalf("PUT policy: %d %+v", resp.StatusCode, pol)
	}
	if p := live.Effective().Policy; p.MinPosts != 3 || p.Threshold("vi") != 0.7 {
		t.Fatalf("policy in force: %+v", p)
	}
	// A policy may repeat the thresholds in force (the stored ones); as
	// nothing changes, nothing is audited and the revision stays.
	pol.Policy["thresholds"] = live.Effective().Policy.Thresholds
	b, _ = json.Marshal(pol.Policy)
	if resp := fx.do(t, "PUT", "/api/v1/settings/alert-policy", admin, strings.NewReader(string(b))); resp.StatusCode != 200 {
		t.Fatalf("PUT policy repeating the stored thresholds: %d", resp.StatusCode)
	}
	if r, _ := live.Record(schema.SettingAlertPolicy); r.Revision != 1 {
		t.Errorf("an unchanged policy made revision %d", r.Revision)
	}

	// The audit: who, when, old → new, newest first.
	var audit struct {
		Changes []struct {
			Setting, Actor, Old, New string
			Revision                 uint64
		} `json:"changes"`
	}
	resp = fx.do(t, "GET", "/api/v1/settings/audit", admin, nil)
	decodeBody(t, resp, &audit)
	if resp.StatusCode != 200 || len(audit.Changes) != 2 {
		t.Fatalf("audit: %d %+v", resp.StatusCode, audit)
	}
	th := audit.Changes[1]
	if th.Setting != "thresholds" || th.Actor == "" || !strings.Contains(th.Old, `"vi":0.5`) || !strings.Contains(th.New, `"vi":0.7`) {
		t.Errorf("thresholds audit row %+v", th)
	}
	if p := audit.Changes[0]; p.Setting != "alert-policy" || !strings.Contains(p.Old, `"min_posts":1`) || !strings.Contains(p.New, `"min_posts":3`) {
		t.Errorf("policy audit row %+v", p)
	}
	if resp := fx.do(t, "GET", "/api/v1/settings/audit", fx.tokens[RoleEditor], nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("editor reads the audit: %d", resp.StatusCode)
	}

	// Kafka down: the change is refused with 503 and does not apply.
	fx.srv.opts.SettingWriter = &topicStub{live: live, fail: os.ErrDeadlineExceeded}
	if resp := fx.do(t, "PUT", "/api/v1/settings/thresholds", admin, strings.NewReader(`{"vi":0.8}`)); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("PUT with Kafka down: %d, want 503", resp.StatusCode)
	}
	if live.Effective().Threshold("vi") != 0.7 {
		t.Error("a change that was not published took effect")
	}
}

// The Settings page edits both settings with CSRF, says a refused value in
// the page's language, keeps what was typed, and lists the audit.
func TestSettingsPageForms(t *testing.T) {
	fx, live := settingsFixture(t)
	c := browserClient(t)
	if resp := login(t, c, fx.http.URL, "admin1", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	page, token := pageCSRF(t, c, fx.http.URL+"/settings?hl=vi")
	if !strings.Contains(page, `name="th_vi" value="0.5"`) || !strings.Contains(page, "Chưa có thay đổi nào") {
		t.Fatalf("the vi page lacks the thresholds form or the empty audit")
	}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		resp, err := c.PostForm(fx.http.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Without the CSRF token: refused.
	if st, _ := post("/settings/thresholds", url.Values{"th_vi": {"0,65"}}); st != http.StatusForbidden {
		t.Errorf("thresholds form without csrf: %d", st)
	}
	st, body := post("/settings/thresholds", url.Values{"csrf": {token}, "th_vi": {"1,5"}, "th_fr": {"0.5"}})
	if st != http.StatusBadRequest || !strings.Contains(body, "ngưỡng của vi là 1.5; phải nằm trong khoảng 0 đến 1") || !strings.Contains(body, `value="1,5"`) {
		t.Errorf("bad threshold: %d, page without the Vietnamese message or the typed value", st)
	}
	if st, _ := post("/settings/thresholds", url.Values{"csrf": {token}, "th_vi": {"0,65"}, "th_fr": {"0.5"}, "new_lang": {"de"}, "new_value": {"0.7"}}); st != http.StatusSeeOther {
		t.Fatalf("thresholds form: %d", st)
	}
	if e := live.Effective(); e.Threshold("vi") != 0.65 || e.Threshold("de") != 0.7 {
		t.Fatalf("after the form: vi %v de %v", e.Threshold("vi"), e.Threshold("de"))
	}
	st, body = post("/settings/alert-policy", url.Values{"csrf": {token}, "policy": {`{"min_posts": 2, "min_authors": 5}`}})
	if st != http.StatusBadRequest || !strings.Contains(body, "chính sách vi phạm quy tắc") || !strings.Contains(body, "min_authors&#34;: 5") {
		t.Errorf("bad policy: %d, page without the message or the typed text", st)
	}
	if st, _ := post("/settings/alert-policy", url.Values{"csrf": {token}, "policy": {`{"min_posts": 2, "min_authors": 2}`}}); st != http.StatusSeeOther {
		t.Fatalf("policy form: %d", st)
	}
	page, _ = pageCSRF(t, c, fx.http.URL+"/settings?hl=fr")
	for _, want := range []string{"Historique des réglages", "admin1", "min_posts: 1 → 2", "vi: 0.5 → 0.65", "Seuils d’alerte", "Valeur enregistrée"} {
		if !strings.Contains(page, want) {
			t.Errorf("the fr page lacks %q", want)
		}
	}
}
