package main

// End-to-end scenario of the walking skeleton: real Kafka and ClickHouse
// (or the embedded default), an RSS feed and a small site on local HTTP
// servers, the stages as separate processes of the built binary, and a
// webhook receiver checking signatures.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trendwatch/trendwatch/alert/notify/webhook"
	"github.com/trendwatch/trendwatch/internal/testsvc"
	"github.com/trendwatch/trendwatch/internal/urlcanon"
	"github.com/trendwatch/trendwatch/schema"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trendwatch-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "trendwatch")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot build trendwatch: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a trendwatch subprocess whose output is kept for failure reports.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, done: make(chan error, 1)}
	p.cmd = exec.Command(binPath, args...)
	p.cmd.Env = append(cleanEnv(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %v", name, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("--- %s output ---\n%s", name, tail(p.output(), 6000))
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) error {
	if p.cmd.ProcessState != nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("%s did not stop within 30s of SIGTERM", p.name)
		return <-p.done
	}
}

func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TRENDWATCH_") {
			out = append(out, kv)
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func freePort(t *testing.T) string { t.Helper(); return freePortOn(t, "127.0.0.1") }

// freePortOn returns a free address on the loopback address host.
func freePortOn(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// fixture is the scenario's sources: a feed, a site, the false fact.
type fixture struct {
	feed, site *httptest.Server
	feedURL    string
	items      []feedItem
	hashtag    string
	fact       schema.Fact
	matchItem  int
	polls      int
	mu         sync.Mutex
}

type feedItem struct {
	guid, title, link, desc string
	published               time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{hashtag: "floodwatch"}
	now := time.Now().UTC().Truncate(time.Second)
	fx.site = httptest.NewServer(http.HandlerFunc(fx.serveSite))
	t.Cleanup(fx.site.Close)
	fx.items = []feedItem{
		{"g1", "River levels rise in Hanoi #floodwatch", "/news/river-levels", "Authorities warn residents near the Red River as water levels rise after three days of rain. #floodwatch", now.Add(-50 * time.Minute)},
		{"g2", "Schools closed in low districts #floodwatch", "/news/schools-closed", "Several schools in low-lying districts closed on Tuesday while pumps worked through the night. #floodwatch", now.Add(-40 * time.Minute)},
		{"g3", "Volunteers fill sandbags", "/news/sandbags", "Hundreds of volunteers filled sandbags along the dyke. #floodwatch #volunteers", now.Add(-30 * time.Minute)},
		{"g4", "Power restored to most homes", "/news/power", "Electricity was restored to most homes by the evening, the utility said. #FloodWatch", now.Add(-20 * time.Minute)},
		{"g5", "Viral post: hot lemon water cures COVID-19", "/news/lemon", "A viral post claims that drinking hot water with lemon cures COVID-19 and kills the coronavirus.", now.Add(-15 * time.Minute)},
		{"g6", "City budget approved for new metro line", "/articles/a1.html", "The council approved the budget for the second metro line.", now.Add(-10 * time.Minute)},
	}
	fx.matchItem = 4
	fx.fact = schema.Fact{ID: "e2e-lemon-covid", Claim: "Drinking hot water with lemon cures COVID-19.", Title: "Does hot lemon water cure COVID-19?",
		Rating: "False", Verdict: schema.VerdictFalse, Lang: "en", Publisher: "Test Checkers", URL: "https://checkers.example/lemon"}
	fx.feed = httptest.NewServer(http.HandlerFunc(fx.serveFeed))
	t.Cleanup(fx.feed.Close)
	fx.feedURL = fx.feed.URL + "/feed.xml"
	return fx
}

func (fx *fixture) serveFeed(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/other.xml" {
		// A second outlet republishing the metro article (feed item g6 and
		// crawled page a1): one post, whoever brings it.
		w.Header().Set("Content-Type", "application/atom+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Aggregator</title><id>urn:agg</id><updated>%s</updated>
<entry><id>urn:agg:1</id><title>Metro budget approved</title><link href="%s/articles/a1.html?utm_source=agg&amp;utm_medium=rss"/><updated>%s</updated><summary>Council approves the metro line budget.</summary></entry></feed>`,
			time.Now().UTC().Format(time.RFC3339), fx.site.URL, time.Now().UTC().Add(-8*time.Minute).Format(time.RFC3339))
		return
	}
	if r.URL.Path != "/feed.xml" {
		http.NotFound(w, r)
		return
	}
	fx.mu.Lock()
	fx.polls++
	fx.mu.Unlock()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test News</title><link>` + fx.site.URL + `</link><description>t</description><language>en</language>`)
	for _, it := range fx.items {
		fmt.Fprintf(&b, `<item><guid>%s</guid><title>%s</title><link>%s</link><description>%s</description><pubDate>%s</pubDate></item>`,
			it.guid, it.title, fx.site.URL+it.link, it.desc, it.published.Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	sum := sha256.Sum256([]byte(b.String()))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	io.WriteString(w, b.String())
}

func article(title, body, canonical string, published time.Time) string {
	return `<!doctype html><html lang="en"><head><title>` + title + `</title>
<link rel="canonical" href="` + canonical + `"><meta property="og:type" content="article">
<meta property="article:published_time" content="` + published.Format(time.RFC3339) + `">
<meta name="author" content="Staff Reporter"></head><body><nav><a href="/">Home</a></nav>
<article><h1>` + title + `</h1>` + body + `</article></body></html>`
}

func (fx *fixture) serveSite(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	now := time.Now().UTC().Add(-5 * time.Minute)
	para := strings.Repeat("<p>The city council met on Monday to discuss the plan in detail, and members of the public spoke for and against the proposal during a long session. </p>", 4)
	switch r.URL.Path {
	case "/robots.txt":
		io.WriteString(w, "User-agent: *\nAllow: /\n")
	case "/", "/index.html":
		io.WriteString(w, `<!doctype html><html lang="en"><head><title>Site</title></head><body><h1>Latest</h1><ul>
<li><a href="/articles/a1.html">Metro budget</a></li><li><a href="/articles/a2.html">Park reopens</a></li></ul></body></html>`)
	case "/articles/a1.html":
		io.WriteString(w, article("City budget approved for new metro line", para, fx.site.URL+"/articles/a1.html", now))
	case "/articles/a2.html":
		io.WriteString(w, article("Central park reopens after renovation", para, fx.site.URL+"/articles/a2.html", now))
	default:
		http.NotFound(w, r)
	}
}

// expectedIDs are the post ids the scenario must store: every feed item,
// and the crawled a2 (a1 is the same article as feed item g6 and as the
// second feed's only entry).
func (fx *fixture) expectedIDs(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, it := range fx.items {
		c, err := urlcanon.Canonical(fx.site.URL + it.link)
		if err != nil {
			t.Fatal(err)
		}
		ids[schema.PostID(c, fx.feedURL, it.guid)] = true
	}
	c, _ := urlcanon.Canonical(fx.site.URL + "/articles/a2.html")
	ids[schema.PostID(c, fx.site.URL+"/", fx.site.URL+"/articles/a2.html")] = true
	return ids
}

// receiver is the webhook endpoint: it verifies every delivery.
type receiver struct {
	srv    *httptest.Server
	secret []byte
	mu     sync.Mutex
	good   []webhookDelivery
	bad    []string
}

type webhookDelivery struct {
	key  string
	body map[string]any
}

func newReceiver(t *testing.T, secret string) *receiver {
	rc := &receiver{secret: []byte(secret)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := webhook.Verify(rc.secret, r, 5*time.Minute)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err != nil {
			rc.bad = append(rc.bad, err.Error())
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			rc.bad = append(rc.bad, "bad json: "+err.Error())
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		rc.good = append(rc.good, webhookDelivery{key: r.Header.Get(webhook.HeaderIdempotencyKey), body: m})
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) deliveries() ([]webhookDelivery, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]webhookDelivery(nil), rc.good...), append([]string(nil), rc.bad...)
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last state: %s", timeout, what, last)
}

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if v != nil {
		_ = json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

func postJSON(t *testing.T, u string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// runScenario drives the skeleton scenario against an API at api whose
// stages are already running with the fixture's feed, site and webhook.
func runScenario(t *testing.T, api string, fx *fixture, rc *receiver, countPosts func() (map[string]int, error)) {
	t.Helper()
	waitFor(t, "API ready", 120*time.Second, func() (bool, string) {
		code := getJSON(t, api+"/readyz", nil)
		return code == 200, fmt.Sprint("readyz ", code)
	})
	// The false fact goes in through the API, then the sources.
	if code, body := postJSON(t, api+"/api/v1/facts", fx.fact); code != http.StatusAccepted {
		t.Fatalf("POST fact: %d %s", code, body)
	}
	waitFor(t, "fact mirrored", 30*time.Second, func() (bool, string) {
		code := getJSON(t, api+"/api/v1/facts/"+fx.fact.ID, nil)
		return code == 200, fmt.Sprint("GET fact ", code)
	})
	// A responder confirms a restatement: it goes round the facts topic
	// and comes back from the mirror with the rest of the fact intact.
	app := "hot lemon water cures covid, my aunt swears by it"
	if code, body := postJSON(t, api+"/api/v1/facts/"+fx.fact.ID+"/appearances", map[string]string{"text": app}); code != http.StatusAccepted {
		t.Fatalf("POST appearance: %d %s", code, body)
	}
	waitFor(t, "appearance mirrored", 30*time.Second, func() (bool, string) {
		var f schema.Fact
		code := getJSON(t, api+"/api/v1/facts/"+fx.fact.ID, &f)
		ok := code == 200 && slices.Contains(f.Appearances, app) && f.Claim == fx.fact.Claim && f.Title == fx.fact.Title
		return ok, fmt.Sprintf("GET fact %d: %+v", code, f)
	})
	// The analyzer applies facts within a second of the mirror; give it that.
	time.Sleep(1500 * time.Millisecond)
	if code, body := postJSON(t, api+"/api/v1/sources", map[string]any{"kind": "feed", "url": fx.feedURL, "interval": int64(2 * time.Second)}); code != http.StatusCreated {
		t.Fatalf("POST feed source: %d %s", code, body)
	}
	if code, body := postJSON(t, api+"/api/v1/sources", map[string]any{"kind": "feed", "url": fx.feed.URL + "/other.xml", "interval": int64(2 * time.Second)}); code != http.StatusCreated {
		t.Fatalf("POST second feed: %d %s", code, body)
	}
	if code, body := postJSON(t, api+"/api/v1/sources", map[string]any{"kind": "crawl", "url": fx.site.URL + "/", "interval": int64(3 * time.Second), "options": map[string]string{"depth": "2"}}); code != http.StatusCreated {
		t.Fatalf("POST crawl source: %d %s", code, body)
	}

	want := fx.expectedIDs(t)
	waitFor(t, "posts stored", 120*time.Second, func() (bool, string) {
		got, err := countPosts()
		if err != nil {
			return false, err.Error()
		}
		for id := range want {
			if got[id] == 0 {
				return false, fmt.Sprintf("have %d posts, missing %s", len(got), id)
			}
		}
		return true, ""
	})
	// Several more polls (the feed answers 304 or the same items) and
	// crawl passes must add nothing.
	fx.mu.Lock()
	polls := fx.polls
	fx.mu.Unlock()
	waitFor(t, "two more feed polls", 60*time.Second, func() (bool, string) {
		fx.mu.Lock()
		defer fx.mu.Unlock()
		return fx.polls >= polls+2, fmt.Sprint("polls ", fx.polls)
	})
	time.Sleep(2 * time.Second)
	got, err := countPosts()
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range got {
		if !want[id] {
			t.Errorf("unexpected post %s stored", id)
		}
		if n != 1 {
			t.Errorf("post %s stored %d times", id, n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("stored %d posts, want exactly %d", len(got), len(want))
	}

	// The trends API counts the hashtag once per post (4 feed items). One
	// feed is one source: min_sources=1 lifts the default support check.
	waitFor(t, "hashtag in trends", 30*time.Second, func() (bool, string) {
		var tr struct {
			Topics []struct {
				Topic string `json:"topic"`
				Posts int64  `json:"posts"`
			} `json:"topics"`
		}
		getJSON(t, api+"/api/v1/trends?window=2h&limit=100&sort=posts&min_sources=1", &tr)
		for _, x := range tr.Topics {
			if x.Topic == "#"+fx.hashtag {
				return x.Posts == 4, fmt.Sprintf("%s has %d posts", x.Topic, x.Posts)
			}
		}
		return false, fmt.Sprintf("not among %d topics", len(tr.Topics))
	})
	var tl struct {
		Posts int64 `json:"posts"`
	}
	if code := getJSON(t, api+"/api/v1/topics/"+url.PathEscape("#"+fx.hashtag)+"?window=2h", &tl); code != 200 || tl.Posts != 4 {
		t.Errorf("topic timeline: status %d, %d posts, want 4", code, tl.Posts)
	}

	// Exactly one signed alert, for the matching post.
	waitFor(t, "webhook alert", 60*time.Second, func() (bool, string) {
		good, bad := rc.deliveries()
		return len(good) >= 1, fmt.Sprintf("%d good, bad: %v", len(good), bad)
	})
	time.Sleep(3 * time.Second) // anything extra would arrive by now
	good, bad := rc.deliveries()
	if len(bad) > 0 {
		t.Errorf("receiver refused deliveries: %v", bad)
	}
	if len(good) != 1 {
		t.Fatalf("receiver got %d alerts, want exactly 1: %+v", len(good), good)
	}
	d := good[0]
	if d.key == "" || d.body["idempotency_key"] != d.key {
		t.Errorf("idempotency key header %q vs body %v", d.key, d.body["idempotency_key"])
	}
	if d.body["fact_id"] != fx.fact.ID || d.body["verdict"] != schema.VerdictFalse {
		t.Errorf("alert is about %v (%v), want %s (false)", d.body["fact_id"], d.body["verdict"], fx.fact.ID)
	}
	matchURL, _ := urlcanon.Canonical(fx.site.URL + fx.items[fx.matchItem].link)
	if b, _ := json.Marshal(d.body); !strings.Contains(string(b), "lemon") {
		t.Errorf("alert does not carry the matching post (%s): %s", matchURL, b)
	}
}

// chPosts counts stored posts per id straight from ClickHouse.
func chPosts(t *testing.T, addr, db string) func() (map[string]int, error) {
	return func() (map[string]int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Auth: ch.Auth{Database: db, Username: "default"}})
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		// FINAL: what the table holds once ReplacingMergeTree has merged,
		// i.e. what every query that reads posts sees.
		rows, err := conn.Query(ctx, "SELECT id, count() FROM posts FINAL GROUP BY id")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var id string
			var n uint64
			if err := rows.Scan(&id, &n); err != nil {
				return nil, err
			}
			out[id] = int(n)
		}
		return out, rows.Err()
	}
}

func TestSkeletonDistributed(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	brokers := testsvc.Kafka(t)
	chAddr := testsvc.ClickHouse(t)
	db := testsvc.Database(t, chAddr)
	fx := newFixture(t)
	rc := newReceiver(t, "e2e-secret")
	api := freePort(t)
	group := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	env := []string{
		"TRENDWATCH_KAFKA_BROKERS=" + brokers,
		"TRENDWATCH_CLICKHOUSE_ADDR=" + chAddr,
		"TRENDWATCH_CLICKHOUSE_DATABASE=" + db,
		"TRENDWATCH_ANALYZE_GROUP=" + group,
		"TRENDWATCH_KAFKA_TOPIC_PREFIX=" + group + ".",
		"TRENDWATCH_FETCH_ALLOW=127.0.0.1",
		"TRENDWATCH_DATA_DIR=" + t.TempDir(),
		"TRENDWATCH_SOURCES_RELOAD=1s",
		"TRENDWATCH_POLL_INTERVAL=2s",
		"TRENDWATCH_BATCH_LINGER=50ms",
	}
	cmd := exec.Command(binPath, "migrate")
	cmd.Env = append(cleanEnv(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	startProc(t, "serve", env, "serve", "--listen", api)
	startProc(t, "analyze", env, "analyze", "--metrics-listen", freePort(t))
	startProc(t, "alert", append(env, "TRENDWATCH_WEBHOOK_URL="+rc.srv.URL+"/hook", "TRENDWATCH_WEBHOOK_SECRET=e2e-secret"), "alert", "--metrics-listen", freePort(t), "--alert-group", group+"-alert")
	startProc(t, "ingest", env, "ingest", "--metrics-listen", freePort(t))
	runScenario(t, "http://"+api, fx, rc, chPosts(t, chAddr, db))
}

func TestSkeletonEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if _, err := exec.LookPath("clickhouse-server"); err != nil {
		if _, err2 := exec.LookPath("clickhouse"); err2 != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("clickhouse-server is not installed (scripts/test.sh installs it)")
			}
			t.Skip("clickhouse-server is not installed")
		}
	}
	fx := newFixture(t)
	rc := newReceiver(t, "e2e-secret")
	api := freePort(t)
	dataDir := t.TempDir()
	env := []string{
		"TRENDWATCH_FETCH_ALLOW=127.0.0.1",
		"TRENDWATCH_DATA_DIR=" + dataDir,
		"TRENDWATCH_SOURCES_RELOAD=1s",
		"TRENDWATCH_POLL_INTERVAL=2s",
		"TRENDWATCH_BATCH_LINGER=50ms",
		"TRENDWATCH_WEBHOOK_URL=" + rc.srv.URL + "/hook",
		"TRENDWATCH_WEBHOOK_SECRET=e2e-secret",
	}
	p := startProc(t, "run", env, "run", "--listen", api)
	var chAddr string
	waitFor(t, "embedded ClickHouse address in the log", 120*time.Second, func() (bool, string) {
		chAddr = embeddedCHAddr(p.output())
		return chAddr != "", "no address yet"
	})
	runScenario(t, "http://"+api, fx, rc, chPosts(t, chAddr, "trendwatch"))

	// SIGTERM leaves no ClickHouse or broker behind.
	if err := p.stop(t); err != nil {
		t.Errorf("run exited with %v after SIGTERM", err)
	}
	if conn, err := net.DialTimeout("tcp", chAddr, time.Second); err == nil {
		conn.Close()
		t.Errorf("ClickHouse still listening on %s after trendwatch stopped", chAddr)
	}
	if out, _ := exec.Command("pgrep", "-f", dataDir).Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("processes left behind using %s: %s", dataDir, out)
	}
}

var chAddrRE = regexp.MustCompile(`embedded ClickHouse started.*? addr=(\S+)`)

func embeddedCHAddr(log string) string {
	if m := chAddrRE.FindStringSubmatch(log); m != nil {
		return m[1]
	}
	return ""
}

func execEnv(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(cleanEnv(), env...)
	return cmd
}
