package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/alert/notify"
)

func sample() notify.Notification {
	return notify.Notification{Key: "c-1-1", CaseID: "c-1", Seq: 1, Kind: notify.KindOpened, Severity: "high",
		FactID: "f1", Claim: "Vaccines contain <chips> & trackers", Verdict: "false", FactURL: "https://factcheck.example/a?x=1&y=2",
		Posts: 12, Authors: 7, Rate: 9, Window: "1h0m0s", Platforms: []string{"mastodon", "rss"}, Langs: []string{"en", "vi"},
		Samples: []notify.Sample{{PostID: "p1", URL: "https://social.example/p/1", Author: "<@U123>", Platform: "mastodon", Text: "they put <!channel> chips in"}}}
}

// TestSendShape checks the request a Slack incoming webhook receives.
func TestSendShape(t *testing.T) {
	var msg map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &msg); err != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c, err := New(Config{WebhookURL: srv.URL + "/services/T/B/X", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	blocks, _ := msg["blocks"].([]any)
	if len(blocks) < 3 {
		t.Fatalf("want header, section, context blocks; got %v", msg)
	}
	types := []string{}
	for _, b := range blocks {
		types = append(types, b.(map[string]any)["type"].(string))
	}
	if got := strings.Join(types, ","); got != "header,section,divider,section,context" {
		t.Fatalf("block types %s", got)
	}
	// Content: every mrkdwn text escapes user input (plain_text is not parsed).
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, bl := range Build(sample()).Blocks {
		if bl.Type != "header" {
			enc.Encode(bl)
		}
	}
	s := b.String()
	for _, bad := range []string{"<chips>", "<@U123>", "<!channel>"} {
		if strings.Contains(s, bad) {
			t.Errorf("unescaped %q reached slack: %s", bad, s)
		}
	}
	for _, want := range []string{"&lt;chips&gt; &amp; trackers", "<https://factcheck.example/a?x=1&amp;y=2|Fact check>", "c-1-1"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in %s", want, s)
		}
	}
	if msg["text"] == "" {
		t.Error("no fallback text")
	}
}

func TestSendErrors(t *testing.T) {
	f := func(status int, body string, permanent bool) {
		t.Helper()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		defer srv.Close()
		c, _ := New(Config{WebhookURL: srv.URL, Client: srv.Client()})
		err := c.Send(context.Background(), sample())
		if err == nil || notify.IsPermanent(err) != permanent {
			t.Fatalf("status %d: err %v, permanent want %v", status, err, permanent)
		}
	}
	f(400, "invalid_blocks", true)
	f(403, "action_prohibited", true)
	f(404, "no_service", true)
	f(429, "rate_limited", false)
	f(500, "rollup_error", false)
}

// FuzzBuild: any notification renders to valid JSON whose blocks respect
// Slack's size limits and carry no unescaped '<' from user text.
func FuzzBuild(f *testing.F) {
	f.Add("claim <b>", "author", "text & more", "https://x.example/a")
	f.Add(strings.Repeat("é", 5000), "", "", "javascript:alert(1)")
	f.Add("\xff\xfe", "<!here>", "|>", "https://a|b")
	f.Fuzz(func(t *testing.T, claim, author, text, url string) {
		n := sample()
		n.Claim, n.FactURL = claim, url
		n.Samples = []notify.Sample{{Author: author, Text: text, URL: url}}
		m := Build(n)
		if _, err := json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		h := m.Blocks[0].Text.Text
		if utf8.RuneCountInString(h) > maxHeader {
			t.Fatalf("header has %d runes", utf8.RuneCountInString(h))
		}
		for _, b := range m.Blocks {
			if b.Text != nil && utf8.RuneCountInString(b.Text.Text) > maxSection {
				t.Fatalf("section too long")
			}
			if b.Type == "section" && b.Text != nil && strings.Contains(b.Text.Text, "<!") {
				t.Fatalf("mention injected: %q", b.Text.Text)
			}
		}
	})
}
