package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/enrich"
	"github.com/trendwatch/trendwatch/internal/testsvc"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// xssTitle is a crawled title that must render as text everywhere.
const xssTitle = `<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'"> Tin giả về giá điện`

// testPassword is every fixture user's password.
const testPassword = "correct horse battery"

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newStore(t testing.TB) *clickhouse.Store {
	t.Helper()
	addr := testsvc.ClickHouse(t)
	db := testsvc.Database(t, addr)
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, clickhouse.Options{Addrs: []string{addr}, Database: db}, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// storeFacts stands in for the facts topic and its ClickHouse mirror: a
// published fact is written where the dashboard reads it.
type storeFacts struct{ st *clickhouse.Store }

func (f storeFacts) PutFacts(ctx context.Context, fs []schema.Fact) error {
	return f.st.WriteFacts(ctx, fs)
}
func (f storeFacts) DeleteFact(ctx context.Context, id string) error { return f.st.DeleteFact(ctx, id) }

// alerterStub stands in for the alerter: it records commands and applies
// acknowledge/resolve to the stored case, as the alerter would.
type alerterStub struct {
	st   *clickhouse.Store
	mu   sync.Mutex
	cmds []schema.CaseCommand
}

func (a *alerterStub) PublishAlerts(ctx context.Context, as []schema.Alert) error {
	for _, al := range as {
		if al.Command == nil {
			continue
		}
		c := *al.Command
		a.mu.Lock()
		a.cmds = append(a.cmds, c)
		a.mu.Unlock()
		rows, err := a.st.Cases(ctx, clickhouse.CaseQuery{Limit: 1000})
		if err != nil {
			return err
		}
		for _, row := range rows {
			if row.ID != c.CaseID {
				continue
			}
			switch c.Kind {
			case schema.CmdAcknowledge:
				row.State = "acknowledged"
			case schema.CmdResolve:
				row.State = "resolved"
			case schema.CmdSnooze:
				row.State = "snoozed"
			}
			var body map[string]any
			_ = json.Unmarshal([]byte(row.Body), &body)
			if c.Kind == schema.CmdAcknowledge {
				body["acked_by"] = c.Actor
			}
			b, _ := json.Marshal(body)
			row.Body, row.Version, row.Updated = string(b), 0, c.Time
			if err := a.st.PutCase(ctx, row); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *alerterStub) commands() []schema.CaseCommand {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]schema.CaseCommand(nil), a.cmds...)
}

type fixture struct {
	st      *clickhouse.Store
	srv     *Server
	http    *httptest.Server
	alerter *alerterStub
	tokens  map[string]string // role -> bearer token
	now     time.Time
}

// seedPosts runs posts through the analyzer's enrichment (the same code
// the analyze stage runs) and the ClickHouse sink.
func seedPosts(t testing.TB, st *clickhouse.Store, now time.Time) {
	t.Helper()
	ix := claims.NewIndex(claims.Options{})
	ix.Upsert(dienFact(now))
	en := enrich.New(enrich.Options{Index: ix})
	var posts []schema.Post
	add := func(n int, src, author, title, text, platform, lang string, age time.Duration) {
		for i := range n {
			p := schema.Post{Source: src, Platform: platform, URL: "https://" + src + "/a/" + strconv.Itoa(len(posts)),
				Author: author + string(rune('a'+i%7)), Lang: lang, Title: title, Text: text,
				Published: now.Add(-age + time.Duration(i)*time.Minute/2), Fetched: now}
			p.ID = schema.PostID("", p.Source, p.URL)
			posts = append(posts, p)
		}
	}
	add(40, "baomoi.example", "user", "Giá điện tăng gấp đôi", "Tin đồn giá điện tăng gấp đôi từ tháng sau #giadien lan truyền mạnh", "web", "vi", 25*time.Minute)
	add(3, "baomoi.example", "old", "Giá điện ổn định", "Giá điện giữ nguyên #giadien", "web", "vi", 5*time.Hour)
	add(12, "social.example", "fr", "Rumeur vaccin", "Une rumeur sur le vaccin circule #vaccin", "mastodon", "fr", 40*time.Minute)
	add(5, "evil.example", "=cmd|' /C calc'!A0", xssTitle, "Bài viết có tiêu đề độc hại #xsstest <b>in đậm</b>", "web", "vi", 30*time.Minute)
	items := make([]schema.Analyzed, 0, len(posts))
	for _, p := range posts {
		items = append(items, en.Enrich(p))
	}
	if err := st.WriteAnalyzed(context.Background(), items); err != nil {
		t.Fatal(err)
	}
}

// dienFact is the fact the electricity rumour matches; its summary carries
// markup that must be sanitised.
func dienFact(now time.Time) schema.Fact {
	return schema.Fact{V: 1, ID: "fc-dien", Claim: "Giá điện tăng gấp đôi từ tháng sau", Lang: "vi", Verdict: schema.VerdictFalse,
		Publisher: "Báo Kiểm chứng", URL: "https://factcheck.example/gia-dien", Summary: `Sai. <a href="https://evn.example">EVN</a> bác bỏ. <script>alert(1)</script>`, Updated: now}
}

func seedCases(t testing.TB, st *clickhouse.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := st.WriteFacts(ctx, []schema.Fact{dienFact(now)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, sev, claim string }{
		{"case-low", "low", "Một tin nhỏ"},
		{"case-high", "high", "Giá điện tăng gấp đôi từ tháng sau"},
	} {
		body, _ := json.Marshal(map[string]any{"id": c.id, "fact_id": "fc-dien", "status": "open", "severity": c.sev, "claim": c.claim,
			"verdict": "false", "posts": 40, "authors": 7, "samples": []map[string]string{{"title": xssTitle, "text": "<i>x</i> mẫu", "author": "user"}}})
		if err := st.PutCase(ctx, clickhouse.CaseRow{ID: c.id, FactID: "fc-dien", State: "open", Severity: c.sev, Opened: now.Add(-time.Hour), Updated: now.Add(-time.Hour), Body: string(body)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutSource(ctx, schema.Source{ID: "src-ok", Kind: "feed", URL: "https://ok.example/rss", Name: "OK feed", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSource(ctx, schema.Source{ID: "src-bad", Kind: "feed", URL: "https://bad.example/rss", Name: "Broken feed", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSourceStatus(ctx, schema.SourceStatus{SourceID: "src-bad", Failures: 4, LastError: "HTTP 503 <b>down</b>", LastAttempt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSourceStatus(ctx, schema.SourceStatus{SourceID: "src-ok", LastSuccess: now, LastAttempt: now, ItemsPerDay: 12}); err != nil {
		t.Fatal(err)
	}
}

// newFixture serves the API and dashboard on loopback over a seeded store,
// with a user and a token per role.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	st := newStore(t)
	now := time.Now().UTC()
	seedPosts(t, st, now)
	seedCases(t, st, now)
	fx := &fixture{st: st, alerter: &alerterStub{st: st}, tokens: map[string]string{}, now: now}
	live := newLiveSettings()
	srv, err := New(Options{Store: st, Facts: storeFacts{st}, Commands: fx.alerter,
		Thresholds: func() map[string]float64 { return live.Effective().Policy.Thresholds },
		Settings:   live, SettingWriter: &topicStub{live: live},
		Routes: json.RawMessage(`{"routes":[{"severity":"high","channels":["telegram","slack"]}]}`)}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	fx.srv = srv
	ctx := context.Background()
	for _, role := range Roles {
		if err := EnsureUser(ctx, st, role+"1", role, testPassword); err != nil {
			t.Fatal(err)
		}
		secret, _, err := NewToken(ctx, st, "test "+role, role, "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		fx.tokens[role] = secret
	}
	fx.http = httptest.NewServer(srv.Handler())
	t.Cleanup(fx.http.Close)
	return fx
}

func (fx *fixture) do(t testing.TB, method, path, token string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, fx.http.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// The test server's client: its idle connections close with the server.
	c := *fx.http.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
