package telegram

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/trendwatch/trendwatch/alert/notify"
)

func sample() notify.Notification {
	return notify.Notification{Key: "c-1-2", CaseID: "c-1", Seq: 2, Kind: notify.KindEscalation, Severity: "critical",
		FactID: "f1", Claim: `Tin giả: "nước muối" chữa <b>cúm</b> & sốt`, Verdict: "false", FactURL: `https://f.example/?a=1&b="2"`,
		Posts: 40, Authors: 22, Rate: 30, Window: "1h0m0s",
		Samples: []notify.Sample{{PostID: "p", URL: "https://s.example/1", Author: "a<script>", Text: "x < y"}}}
}

// botAPI is a minimal Bot API: POST /bot<token>/sendMessage with a JSON
// body; it answers like Telegram, including its error shapes.
type botAPI struct {
	token string
	got   []SendMessage
	fail  int // answer 429 this many times first
}

func (b *botAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/bot"+b.token+"/sendMessage" {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	var m SendMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.ChatID == "" || m.Text == "" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}`)
		return
	}
	if b.fail > 0 {
		b.fail--
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`)
		return
	}
	b.got = append(b.got, m)
	io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`)
}

func TestSend(t *testing.T) {
	api := &botAPI{token: "123:ABC", fail: 1}
	srv := httptest.NewServer(api)
	defer srv.Close()
	c, err := New(Config{Token: "123:ABC", ChatID: "-100200", API: srv.URL, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Send(context.Background(), sample())
	if err == nil || notify.IsPermanent(err) || notify.RetryAfterOf(err) != 3*time.Second {
		t.Fatalf("429: got %v, want retryable after 3s", err)
	}
	if strings.Contains(err.Error(), "123:ABC") {
		t.Fatalf("error leaks the token: %v", err)
	}
	if err := c.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	m := api.got[0]
	if m.ChatID != "-100200" || m.ParseMode != "HTML" {
		t.Fatalf("bad request %+v", m)
	}
	for _, want := range []string{"&lt;b&gt;cúm&lt;/b&gt; &amp; sốt", "a&lt;script&gt;", `href="https://f.example/?a=1&amp;b=&#34;2&#34;"`, "<code>c-1-2</code>"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("missing %q in %s", want, m.Text)
		}
	}
	bad, _ := New(Config{Token: "wrong", ChatID: "1", API: srv.URL, Client: srv.Client()})
	if err := bad.Send(context.Background(), sample()); !notify.IsPermanent(err) {
		t.Fatalf("404: want permanent, got %v", err)
	}
}

// allowed are the tags Render emits; Telegram rejects anything else.
var allowed = map[string]bool{"b": true, "a": true, "code": true}

// FuzzRender: the HTML is within Telegram's limit, valid UTF-8, and every
// tag in it is one Render wrote (user text never opens a tag).
func FuzzRender(f *testing.F) {
	f.Add("claim", "author", "text", "https://x")
	f.Add("<i>x</i>", "<a href=x>", "&amp;", `"><b>`)
	f.Add(strings.Repeat("ạ", 9000), "", strings.Repeat("<", 100), "")
	f.Fuzz(func(t *testing.T, claim, author, text, url string) {
		if !utf8.ValidString(claim + author + text + url) {
			return
		}
		n := sample()
		n.Claim, n.FactURL = claim, url
		n.Samples = []notify.Sample{{Author: author, Text: text, URL: url}, {Text: text}}
		out := Render(n)
		if utf8.RuneCountInString(out) > MaxText {
			t.Fatalf("%d runes", utf8.RuneCountInString(out))
		}
		z := html.NewTokenizer(strings.NewReader(out))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			if tt == html.StartTagToken || tt == html.EndTagToken || tt == html.SelfClosingTagToken {
				name, _ := z.TagName()
				if !allowed[string(name)] {
					t.Fatalf("tag %q in %q", name, out)
				}
			}
		}
	})
}

func TestUnreachableHidesToken(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, _ := New(Config{Token: "999:SECRET", ChatID: "1", API: url})
	err := c.Send(context.Background(), sample())
	if err == nil || notify.IsPermanent(err) || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("got %v", err)
	}
}
