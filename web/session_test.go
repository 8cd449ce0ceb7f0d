package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browserClient keeps cookies and does not follow redirects.
func browserClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func login(t *testing.T, c *http.Client, base, user, pw string) *http.Response {
	t.Helper()
	resp, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {pw}, "next": {"/cases"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// postForm posts a form and returns the status.
func postForm(t *testing.T, c *http.Client, u string, form url.Values) int {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// pageCSRF gets a page that must answer 200 with a form, and returns its
// body and CSRF token.
func pageCSRF(t *testing.T, c *http.Client, u string) (body, token string) {
	t.Helper()
	page, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := csrfField.FindSubmatch(b)
	if page.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("%s: %d without csrf field", u, page.StatusCode)
	}
	return string(b), string(m[1])
}

func TestSessionLoginCSRFLogout(t *testing.T) {
	fx := newFixture(t)
	c := browserClient(t)
	if resp := login(t, c, fx.http.URL, "responder1", "wrong password!"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp := login(t, c, fx.http.URL, "responder1", testPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cases" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/" {
		t.Fatalf("session cookie %+v must be HttpOnly, SameSite=Strict", sc)
	}
	// The session id is stored hashed only.
	if _, err := fx.st.SessionByHash(context.Background(), sc.Value); err == nil {
		t.Error("the raw session id is a stored key")
	}
	if _, err := fx.st.SessionByHash(context.Background(), hashSecret(sc.Value)); err != nil {
		t.Errorf("hashed session not stored: %v", err)
	}

	_, token := pageCSRF(t, c, fx.http.URL+"/cases")
	post := func(path string, form url.Values) int { return postForm(t, c, fx.http.URL+path, form) }
	if got := post("/cases/case-low/acknowledge", url.Values{}); got != http.StatusForbidden {
		t.Errorf("form post without csrf: %d, want 403", got)
	}
	if got := post("/cases/case-low/acknowledge", url.Values{"csrf": {csrfToken("another session")}}); got != http.StatusForbidden {
		t.Errorf("form post with another session's csrf: %d, want 403", got)
	}
	if got := post("/cases/case-low/notes", url.Values{"csrf": {token}, "note": {"đang xác minh với EVN"}}); got != http.StatusSeeOther {
		t.Errorf("form post with csrf: %d, want 303", got)
	}
	cmds := fx.alerter.commands()
	if len(cmds) != 1 || cmds[0].Kind != "note" || cmds[0].Note != "đang xác minh với EVN" || cmds[0].Actor != "responder1" {
		t.Errorf("commands %+v", cmds)
	}
	// Import upload from the facts page (multipart, CSRF in the form).
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("csrf", token)
	fw, _ := mw.CreateFormFile("file", "facts.jsonl")
	_, _ = fw.Write([]byte(`{"id":"up-1","claim":"tải lên từ trang","verdict":"false"}` + "\n"))
	_ = mw.Close()
	up, err := c.Post(fx.http.URL+"/facts/import", mw.FormDataContentType(), &mp)
	if err != nil {
		t.Fatal(err)
	}
	up.Body.Close()
	if up.StatusCode != http.StatusSeeOther || !strings.Contains(up.Header.Get("Location"), "imported=1/1") {
		t.Errorf("import upload: %d %q", up.StatusCode, up.Header.Get("Location"))
	}
	if f, err := fx.st.Fact(context.Background(), "up-1"); err != nil || f.Claim != "tải lên từ trang" {
		t.Errorf("uploaded fact not stored: %+v %v", f, err)
	}
	// A cross-site form post is refused before anything else.
	req, _ := http.NewRequest("POST", fx.http.URL+"/cases/case-low/resolve", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	cross, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cross.Body.Close()
	if cross.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", cross.StatusCode)
	}
	// The responder may not open admin pages.
	settings, err := c.Get(fx.http.URL + "/settings")
	if err != nil {
		t.Fatal(err)
	}
	settings.Body.Close()
	if settings.StatusCode != http.StatusForbidden {
		t.Errorf("responder on /settings: %d", settings.StatusCode)
	}
	// Logout revokes the session server-side: replaying the cookie fails.
	if got := post("/logout", url.Values{"csrf": {token}}); got != http.StatusSeeOther {
		t.Fatalf("logout: %d", got)
	}
	replay, _ := http.NewRequest("GET", fx.http.URL+"/cases", nil)
	replay.AddCookie(&http.Cookie{Name: sessionCookie, Value: sc.Value})
	resp2, err := browserClient(t).Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusSeeOther {
		t.Errorf("old session cookie after logout: %d, want redirect to login", resp2.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	fx := newFixture(t)
	for _, path := range []string{"/login", "/api/v1/openapi.json", "/static/app.css"} {
		resp := fx.do(t, "GET", path, "", nil)
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: missing nosniff/DENY", path)
		}
	}
}

// TestOpenMode: with no user and no token anywhere, loopback clients keep
// the pre-auth behaviour (they may write); others are refused.
func TestOpenMode(t *testing.T) {
	st := newStore(t)
	srv, err := New(Options{Store: st, Facts: storeFacts{st}}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	req := func(remote string) int {
		r := httptest.NewRequest("POST", "/api/v1/facts", strings.NewReader(`{"id":"f1","claim":"c"}`))
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if got := req("127.0.0.1:5555"); got != http.StatusAccepted {
		t.Errorf("loopback write in open mode: %d, want 202", got)
	}
	if got := req("192.0.2.7:5555"); got != http.StatusUnauthorized {
		t.Errorf("remote write in open mode: %d, want 401", got)
	}
	// Once a user exists, loopback needs credentials too.
	if err := EnsureUser(context.Background(), st, "ana", RoleAnalyst, testPassword); err != nil {
		t.Fatal(err)
	}
	srv2, _ := New(Options{Store: st, Facts: storeFacts{st}}, quietLog())
	h = srv2.Handler()
	if got := req("127.0.0.1:5555"); got != http.StatusUnauthorized {
		t.Errorf("loopback write with users configured: %d, want 401", got)
	}
}
