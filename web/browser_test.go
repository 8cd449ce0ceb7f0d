package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's browser; the test fails rather than skips
// without it, because CI installs it (scripts/test.sh).
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("TRENDWATCH_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("chromium not found: apt-get install -y chromium (or set TRENDWATCH_CHROMIUM)")
	return ""
}

// TestBrowser drives headless Chromium through the dashboard over a
// ClickHouse seeded by the analyzer's enrichment and sink: log in, see a
// rising topic, open its spread chart, acknowledge a case, add a fact, and
// check that a <script> in a crawled title stays text. Screenshots go to
// $TRENDWATCH_SCREENSHOTS, default $TMPDIR/trendwatch-screenshots (named
// in the log).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	fx := newFixture(t)
	shots := os.Getenv("TRENDWATCH_SCREENSHOTS")
	if shots == "" {
		// Kept after the run (unlike t.TempDir) so CI can upload them.
		shots = filepath.Join(os.TempDir(), "trendwatch-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "vi"), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	base := fx.http.URL
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg) // quality 100 gives PNG
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name), buf, 0o644)
		})
	}
	do := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string { return runT(t, ctx, "text of "+sel, chromedp.Text(chromedp.CSS(sel))) }
	count := func(sel string) int {
		return runT(t, ctx, "count "+sel, chromedp.Evaluate[int](`document.querySelectorAll(`+strconvQuote(sel)+`).length`))
	}
	vis := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }

	// 1. Log in: an unauthenticated visit lands on the login page.
	do("open login", chromedp.Navigate(base+"/trends?window=1h"), vis("#login-form"), shot("01-login.png"))
	if lang := runT(t, ctx, "lang", chromedp.AttributeValue(chromedp.CSS("html"), "lang")); lang.Value != "vi" {
		t.Errorf("default UI language %q, want vi", lang.Value)
	}
	do("log in", chromedp.SendKeys(chromedp.CSS("#username"), "admin1"), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")), vis("#trends"))
	if loc := runT(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "/trends?window=1h") {
		t.Errorf("after login at %s, want back at /trends?window=1h", loc)
	}

	// The embedded stylesheet loads under the CSP, and nothing is fetched
	// from another origin.
	if n := runT(t, ctx, "css", chromedp.Evaluate[int](`document.styleSheets.length ? document.styleSheets[0].cssRules.length : 0`)); n < 20 {
		t.Errorf("stylesheet has %d rules: not loaded?", n)
	}
	if ext := runT(t, ctx, "resources", chromedp.Evaluate[[]string](`performance.getEntriesByType('resource').map(e => e.name).filter(u => !u.startsWith(location.origin))`)); len(ext) > 0 {
		t.Errorf("external resources fetched: %v", ext)
	}

	// 2. A rising topic with its sparkline.
	do("trends", shot("02-trends.png"))
	if trends := text("#trends"); !strings.Contains(trends, "#giadien") {
		t.Fatalf("rising topic #giadien missing from trends:\n%s", trends)
	}
	if count("#trends svg.spark polyline") == 0 {
		t.Error("no sparklines drawn")
	}

	// 3. Its spread chart.
	do("topic", chromedp.Click(chromedp.CSS(`a.topic[href="/topics/%23giadien"]`)), vis("#spread-chart svg"), shot("03-topic-spread.png"))
	if n := text("#spread-posts"); n == "" || n == "0" {
		t.Errorf("spread shows %q posts", n)
	}
	if count("#timeline-chart rect") == 0 || count("#spread-chart path") == 0 {
		t.Error("timeline or spread chart is empty")
	}
	if facts := text("#linked-facts"); !strings.Contains(facts, "Giá điện tăng gấp đôi") || !strings.Contains(facts, "EVN") {
		t.Errorf("linked fact missing:\n%s", facts)
	}
	if count("#linked-facts a[href='https://evn.example']") != 1 || count("script") != 0 {
		t.Error("fact summary not sanitised to its link")
	}
	// Platform and language codes are said in the page's language (vi).
	if main := text("main"); !strings.Contains(main, "Trang web") || !strings.Contains(main, "Tiếng Việt") {
		t.Errorf("platform or language names not in Vietnamese on the topic page")
	}

	// 4. Acknowledge the high-severity case, which the queue lists first.
	do("cases", chromedp.Navigate(base+"/cases"), vis("article.case"), shot("04-cases.png"))
	if first := runT(t, ctx, "first case", chromedp.AttributeValue(chromedp.CSS("article.case"), "data-case")); first.Value != "case-high" {
		t.Errorf("queue starts with %q, want case-high (severity order)", first.Value)
	}
	do("acknowledge", chromedp.Click(chromedp.CSS("#case-case-high button.ack")), vis(".flash"), shot("05-case-acknowledged.png"))
	cmds := fx.alerter.commands()
	if len(cmds) != 1 || cmds[0].Kind != "acknowledge" || cmds[0].CaseID != "case-high" || cmds[0].Actor != "admin1" {
		t.Fatalf("published commands %+v, want one acknowledge of case-high by admin1", cmds)
	}
	if state := text("#case-case-high .state"); state != translate("vi", "state.acknowledged") {
		t.Errorf("case state shows %q after acknowledging", state)
	}

	// 5. Add a fact.
	claim := "Uống nước chanh chữa khỏi cúm"
	do("new fact", chromedp.Navigate(base+"/facts/new"), vis("#fact-form"),
		chromedp.SendKeys(chromedp.CSS("#fact-claim"), claim), chromedp.SetValue(chromedp.CSS("#fact-verdict"), "false"),
		shot("06-fact-form.png"), chromedp.Click(chromedp.CSS("#fact-save")), vis("#facts"), shot("07-facts.png"))
	if facts := text("#facts"); !strings.Contains(facts, claim) {
		t.Errorf("new fact missing from the list:\n%s", facts)
	}
	// The list's search ignores case, diacritics and word order.
	do("search facts", chromedp.Navigate(base+"/facts?q=cum+NUOC+chanh"), vis("#facts"), shot("07-facts-search.png"))
	if facts := text("#facts"); !strings.Contains(facts, claim) {
		t.Errorf("q=cum NUOC chanh does not find %q:\n%s", claim, facts)
	}

	// 6. A <script> payload in a crawled title renders as text.
	do("xss", chromedp.Navigate(base+"/topics/%23xsstest"), vis("#samples"), shot("08-script-as-text.png"))
	title := runT(t, ctx, "title", chromedp.Title())
	if strings.Contains(title, "pwned") || count("script") != 0 || count("#samples img") != 0 {
		t.Errorf("crawled markup became live: title %q", title)
	}
	if samples := text("#samples"); !strings.Contains(samples, "<script>document.title='pwned'</script>") {
		t.Errorf("the crawled title is not shown as text:\n%s", samples)
	}

	// 7. The other pages render, in other languages too.
	do("sources", chromedp.Navigate(base+"/sources?hl=en"), vis("#sources"), shot("09-sources-en.png"))
	if first := text("#sources tbody tr"); !strings.Contains(first, "Broken feed") {
		t.Errorf("failing source not first: %q", first)
	}
	do("sources vi", chromedp.Navigate(base+"/sources?hl=vi"), vis("#source-add"), shot("09-sources-vi.png"))
	if first := text("#sources tbody tr"); !strings.Contains(first, "Đang lỗi") || !strings.Contains(first, "Lỗi khi lấy dữ liệu") {
		t.Errorf("failing source in Vietnamese: %q", first)
	}
	do("settings", chromedp.Navigate(base+"/settings?hl=fr"), vis("main h1"), shot("10-settings-fr.png"))
	if h1 := text("main h1"); h1 != "Réglages" {
		t.Errorf("settings title in French is %q", h1)
	}
	if who, main := text("#who"), text("main"); !strings.Contains(who, "Administrateur") || !strings.Contains(main, "Réponse rapide") || !strings.Contains(main, "Vietnamien") {
		t.Errorf("role and language names are not in French: %q / %q", who, main)
	}

	// 8. An admin edits a threshold on the Settings page, in Vietnamese: a
	// value out of range is refused in Vietnamese, naming it; a decimal
	// comma is accepted, takes effect and is audited.
	thVi := chromedp.CSS(`#thresholds-form input[name="th_vi"]`)
	do("settings vi", chromedp.Navigate(base+"/settings?hl=vi"), vis("#thresholds-form"),
		chromedp.SetValue(thVi, "1,5"), chromedp.Click(chromedp.CSS("#thresholds-form button")), vis(".error"), shot("11-settings-refused-vi.png"))
	if msg := text(".error"); !strings.Contains(msg, "ngưỡng của vi là 1.5; phải nằm trong khoảng 0 đến 1") {
		t.Errorf("refused threshold message: %q", msg)
	}
	do("settings save", chromedp.SetValue(thVi, "0,7"), chromedp.Click(chromedp.CSS("#thresholds-form button")), vis(".flash"), shot("12-settings-saved-vi.png"))
	if flash := text(".flash"); flash != translate("vi", "settings.saved") {
		t.Errorf("flash after saving: %q", flash)
	}
	if got := fx.srv.opts.Settings.Effective().Threshold("vi"); got != 0.7 {
		t.Errorf("vi threshold in force %v after the form, want 0.7", got)
	}
	if audit := text("#settings-audit"); !strings.Contains(audit, "admin1") || !strings.Contains(audit, "vi: 0.5 → 0.7") || !strings.Contains(audit, "Ngưỡng cảnh báo") {
		t.Errorf("audit list after the change:\n%s", audit)
	}
}

func runT[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

func strconvQuote(s string) string { return strconv.Quote(s) }
