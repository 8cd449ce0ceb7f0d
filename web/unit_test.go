package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/store/clickhouse"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "pbkdf2-sha256$600000$") {
		t.Errorf("hash %q lacks its algorithm and cost", h)
	}
	h2, _ := HashPassword("a long enough password")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
	f := func(hash, pw string, want bool) {
		t.Helper()
		if got := CheckPassword(hash, pw); got != want {
			t.Errorf("CheckPassword(%.30q, %q) = %v, want %v", hash, pw, got, want)
		}
	}
	f(h, "a long enough password", true)
	f(h, "a long enough passworD", false)
	f(h, "", false)
	f("", "", false)
	f("pbkdf2-sha256$1$AAAA$AAAA", "x", false)           // cost below the floor
	f("pbkdf2-sha256$99999999999$AAAA$AAAA", "x", false) // absurd cost refused, not computed
	f("md5$1000$AAAA$AAAA", "x", false)
	f(strings.Replace(h, "$600000$", "$600001$", 1), "a long enough password", false)
	if _, err := HashPassword("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
}

func TestCSRFTokenBoundToSession(t *testing.T) {
	a, b := csrfToken("session-a"), csrfToken("session-b")
	if a == b || a != csrfToken("session-a") || len(a) < 40 {
		t.Errorf("csrf tokens %q %q are not per-session and stable", a, b)
	}
}

func TestSafeNext(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
	f("/cases?state=open", "/cases?state=open")
	f("", "/trends")
	f("https://evil.example/", "/trends")
	f("//evil.example/", "/trends")
	f("/\\evil.example", "/trends")
	f("/ok\r\nSet-Cookie: x", "/trends")
	f("javascript:alert(1)", "/trends")
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "http://x", "/a?b=c#d", "\t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := safeNext(in)
		// Invariant: the redirect stays on this origin.
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.HasPrefix(out, "/\\") || strings.ContainsAny(out, "\r\n") {
			t.Fatalf("safeNext(%q) = %q leaves the site", in, out)
		}
	})
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("pbkdf2-sha256$1000$c2FsdA$a2V5", "pw")
	f.Add("pbkdf2-sha256$$$", "")
	f.Add("$$$$", "x")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		// Invariant: never panics, and a hash not made by HashPassword with
		// a real salt/key never matches the empty password.
		if CheckPassword(hash, pw) && !strings.HasPrefix(hash, pbkdf2Prefix+"$") {
			t.Fatalf("foreign hash %q matched", hash)
		}
	})
}

func TestCSVSafe(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
	f("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")")
	f("+1", "'+1")
	f("-2", "'-2")
	f("@SUM(A1)", "'@SUM(A1)")
	f("\tx", "'\tx")
	f("plain", "plain")
	f("", "")
	f("#giadien", "#giadien")
}

func FuzzQueryDuration(f *testing.F) {
	for _, s := range []string{"1h", "7d", "15m", "-1h", "99999999d", "1e9h", "d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/x", nil)
		q := r.URL.Query()
		q.Set("window", v)
		r.URL.RawQuery = q.Encode()
		d, err := queryDuration(r, "window", time.Hour, 30*24*time.Hour)
		// Invariant: either an error or a duration within bounds.
		if err == nil && (d <= 0 || d > 30*24*time.Hour) {
			t.Fatalf("queryDuration(%q) = %v without error", v, d)
		}
	})
}

// TestChartsEscape feeds markup through every chart label.
func TestChartsEscape(t *testing.T) {
	evil := `</text><script>alert(1)</script>`
	tz := time.UTC
	out := string(barList([]clickhouse.Count{{Key: evil, Posts: 3}, {Key: "ok", Posts: 1}}, evil)) +
		string(timeChart([]clickhouse.Point{{Time: time.Unix(0, 0), Posts: 2}, {Time: time.Unix(60, 0), Posts: 0}}, false, tz, evil)) +
		string(timeChart(nil, true, tz, evil)) + string(sparkline([]int{1, 5, 2}))
	if strings.Contains(out, "<script") {
		t.Fatalf("chart markup carries a live script:\n%s", out)
	}
	for _, want := range []string{"&lt;script&gt;", "<rect", "<polyline"} {
		if !strings.Contains(out, want) {
			t.Errorf("charts lack %q", want)
		}
	}
}

func FuzzCharts(f *testing.F) {
	f.Add("a", int64(3), 5)
	f.Add("<&>\"'", int64(-1), 0)
	f.Fuzz(func(t *testing.T, key string, n int64, m int) {
		if !utf8.ValidString(key) {
			return
		}
		svg := string(barList([]clickhouse.Count{{Key: key, Posts: n}}, key)) +
			string(timeChart([]clickhouse.Point{{Posts: n}}, m%2 == 0, time.UTC, key)) + string(sparkline([]int{m, int(n % 1000)}))
		// Invariant: no label can open an element: every '<' in the output
		// belongs to our own tags.
		for _, part := range strings.Split(svg, "<")[1:] {
			tag := strings.TrimPrefix(part, "/")
			ok := false
			for _, name := range []string{"svg", "polyline", "circle", "line", "text", "rect", "title", "path"} {
				if strings.HasPrefix(tag, name+" ") || strings.HasPrefix(tag, name+">") || strings.HasPrefix(tag, name+"/") {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("unexpected markup <%.20s in %q", part, svg)
			}
		}
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Fatalf("non-finite coordinate in %q", svg)
		}
	})
}

// TestMessagesComplete: every UI string exists in the three languages and
// every key the templates use is defined.
func TestMessagesComplete(t *testing.T) {
	for k, m := range messages {
		for i, s := range m {
			if strings.TrimSpace(s) == "" {
				t.Errorf("message %q has no %s text", k, uiLangs[i])
			}
		}
	}
	for _, name := range append(pageNames, "layout") {
		b, err := assets.ReadFile("templates/" + name + ".html")
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range strings.Split(string(b), `.T "`)[1:] {
			key := part[:strings.IndexByte(part, '"')]
			if _, ok := messages[key]; !ok {
				t.Errorf("template %s uses undefined message %q", name, key)
			}
		}
	}
	for _, k := range []string{"state.open", "state.acknowledged", "state.snoozed", "state.resolved", "sev.critical", "sev.high", "sev.medium", "sev.low", "healthy", "failing", "unknown"} {
		if _, ok := messages[k]; !ok {
			t.Errorf("dynamic message %q undefined", k)
		}
	}
}

func TestUILang(t *testing.T) {
	f := func(query, cookie, want string) {
		t.Helper()
		r := httptest.NewRequest("GET", "/trends"+query, nil)
		r.Header.Set("Accept-Language", "en-US,en;q=0.9")
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: cookie})
		}
		if got := uiLang(httptest.NewRecorder(), r); got != want {
			t.Errorf("uiLang(%q, cookie %q) = %q, want %q", query, cookie, got, want)
		}
	}
	f("", "", "vi")
	f("?hl=fr", "", "fr")
	f("?hl=en", "fr", "en")
	f("", "fr", "fr")
	f("?hl=xx", "zz", "vi")
}

// TestTemplatesEscape renders a page with hostile data directly.
func TestTemplatesEscape(t *testing.T) {
	pg, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	v := &view{Lang: "vi", Langs: uiLangs, TZ: time.UTC, Path: "/x", User: &principal{Name: `<b>me</b>`, Role: RoleAdmin, session: "s"}, CSRF: "tok"}
	v.Data = trendsData{Window: "1h", Windows: windows, Topics: []clickhouse.Trend{{Topic: `"><script>alert(1)</script>`, Posts: 2, Series: []int{1, 2}}}}
	var b strings.Builder
	if err := pg.byName["trends"].ExecuteTemplate(&b, "layout.html", v); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<script>") || strings.Contains(out, "<b>me</b>") {
		t.Fatalf("hostile data rendered live:\n%s", out)
	}
	if !strings.Contains(out, `href="/topics/%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`) && !strings.Contains(out, "/topics/%22%3E%3Cscript%3E") {
		t.Errorf("topic link not path-escaped:\n%s", out)
	}
}

func TestMemo(t *testing.T) {
	m := newMemo()
	now := time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC)
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func(ctx context.Context) (any, error) {
		calls.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			v, err := m.get(context.Background(), "k", now, compute)
			if err != nil || v.(int) != 42 {
				t.Errorf("get = %v, %v", v, err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("8 concurrent gets computed %d times, want 1", calls.Load())
	}
	// Errors are not kept.
	fail := func(ctx context.Context) (any, error) { calls.Add(1); return nil, errors.New("down") }
	for range 2 {
		if _, err := m.get(context.Background(), "e", now, fail); err == nil {
			t.Error("error not returned")
		}
	}
	if calls.Load() != 3 {
		t.Errorf("a failed computation was cached (calls %d)", calls.Load())
	}
	// A full cache drops past minutes first.
	for i := range memoMax + 10 {
		_, _ = m.get(context.Background(), fmt.Sprint("x", i), now.Add(time.Duration(i/(memoMax/2))*time.Minute), func(context.Context) (any, error) { return i, nil })
	}
	if len(m.entries) > memoMax {
		t.Errorf("memo holds %d entries, max %d", len(m.entries), memoMax)
	}
}

func TestNiceTicks(t *testing.T) {
	f := func(mx int64, want string) {
		t.Helper()
		if got := fmt.Sprint(niceTicks(mx)); got != want {
			t.Errorf("niceTicks(%d) = %s, want %s", mx, got, want)
		}
	}
	f(0, "[0 1]")
	f(3, "[0 1 2 3]")
	f(5, "[0 1 2 3 4 5]")
	f(7, "[0 2 4 6 8]")
	f(11, "[0 5 10 15]")
	f(48, "[0 10 20 30 40 50]")
	f(1234, "[0 500 1000 1500]")
}

func TestShortLabelsStayApart(t *testing.T) {
	keys := []string{"https://vnexpress.net/rss/the-gioi.rss", "https://vnexpress.net/rss/thoi-su.rss", "https://www.tuoitre.vn/rss/tin-moi-nhat.rss", "Bộ Y tế"}
	got := shortLabels(keys, 22)
	seen := map[string]bool{}
	for i, g := range got {
		if n := len([]rune(g)); n > 22 {
			t.Errorf("%q is %d runes", g, n)
		}
		if seen[g] {
			t.Errorf("two labels read %q: %q", g, got)
		}
		seen[g] = true
		if i < 2 && !strings.HasPrefix(g, "vnexpress.net/") {
			t.Errorf("%q lost its host", g)
		}
	}
	if got[3] != "Bộ Y tế" {
		t.Errorf("a short label changed: %q", got[3])
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
