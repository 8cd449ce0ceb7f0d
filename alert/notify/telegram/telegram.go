// Package telegram delivers notifications through the Telegram Bot API
// method sendMessage with parse_mode HTML. Every piece of user text is
// escaped with html.EscapeString (Telegram's HTML mode accepts exactly the
// &lt; &gt; &amp; &quot; entities), and the message is cut to Telegram's
// 4096-character limit without splitting a tag or an entity.
//
// Standard library only: one JSON POST per message; a bot framework would
// bring polling machinery the alerter does not need.
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
)

// DefaultAPI is the Bot API base URL.
const DefaultAPI = "https://api.telegram.org"

// MaxText is Telegram's limit on a message's text, in characters after
// entity parsing; we count before parsing, which is stricter.
const MaxText = 4096

// Config of a Telegram channel.
type Config struct {
	Token  string
	ChatID string
	API    string       // base URL; empty uses DefaultAPI (tests point it at httptest)
	Client *http.Client // nil uses a client with a 10s timeout
}

// Channel sends to one chat.
type Channel struct{ cfg Config }

// New checks cfg and returns the channel.
func New(cfg Config) (*Channel, error) {
	if cfg.Token == "" || cfg.ChatID == "" {
		return nil, errors.New("telegram: token and chat id are required")
	}
	if cfg.API == "" {
		cfg.API = DefaultAPI
	}
	cfg.API = strings.TrimRight(cfg.API, "/")
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Channel{cfg: cfg}, nil
}

// SendMessage is the request body of sendMessage.
type SendMessage struct {
	ChatID             string              `json:"chat_id"`
	Text               string              `json:"text"`
	ParseMode          string              `json:"parse_mode"`
	LinkPreviewOptions *LinkPreviewOptions `json:"link_preview_options,omitempty"`
}

// LinkPreviewOptions turns off the preview of the first link.
type LinkPreviewOptions struct {
	IsDisabled bool `json:"is_disabled"`
}

type response struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// Render builds the HTML text of n, at most MaxText characters.
func Render(n notify.Notification) string {
	e := html.EscapeString
	var parts []string
	parts = append(parts, "<b>"+e(notify.Title(n))+"</b>", e(notify.Summary(n)))
	if n.FactURL != "" {
		parts = append(parts, `<a href="`+e(n.FactURL)+`">Fact check</a>`)
	}
	if n.CaseURL != "" {
		parts = append(parts, `<a href="`+e(n.CaseURL)+`">Open case</a>`)
	}
	parts = append(parts, "<code>"+e(n.Key)+"</code>")
	head := strings.Join(parts, "\n")
	var b strings.Builder
	b.WriteString(head)
	for _, s := range n.Samples {
		label := s.Title
		if label == "" {
			label = s.Text
		}
		line := "\n• " + e(notify.Clip(label, 200))
		if s.Author != "" {
			line += " — " + e(notify.Clip(s.Author, 60))
		}
		if s.URL != "" {
			line += ` <a href="` + e(s.URL) + `">link</a>`
		}
		// Whole lines only, so the cut never splits a tag or an entity.
		if runeLen(b.String())+runeLen(line) > MaxText {
			break
		}
		b.WriteString(line)
	}
	if runeLen(b.String()) > MaxText {
		// The head alone is too long (huge claim): fall back to plain
		// escaped text clipped before escaping.
		return e(notify.Clip(notify.Title(n), MaxText/8)) + "\n<code>" + e(notify.Clip(n.Key, 200)) + "</code>"
	}
	return b.String()
}

func runeLen(s string) int { return len([]rune(s)) }

// Send calls sendMessage. Telegram answers {"ok":true,…}; 429 carries
// parameters.retry_after; 5xx are retried; other errors are permanent.
func (c *Channel) Send(ctx context.Context, n notify.Notification) error {
	body, err := json.Marshal(SendMessage{ChatID: c.cfg.ChatID, Text: Render(n), ParseMode: "HTML",
		LinkPreviewOptions: &LinkPreviewOptions{IsDisabled: true}})
	if err != nil {
		return notify.Permanent(fmt.Errorf("cannot encode telegram message %s: %w", n.Key, err))
	}
	url := c.cfg.API + "/bot" + c.cfg.Token + "/sendMessage"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(errors.New("cannot build telegram request (check the API URL)"))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		// The URL holds the bot token: never print it.
		return fmt.Errorf("cannot reach telegram (%s): %w", req.URL.Host, notify.StripURL(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	var r response
	if jerr := json.Unmarshal(raw, &r); jerr != nil && resp.StatusCode/100 == 2 {
		return fmt.Errorf("telegram %s: unreadable answer: %w", n.Key, jerr)
	}
	if resp.StatusCode/100 == 2 && r.OK {
		return nil
	}
	err = fmt.Errorf("telegram %s: %d %s", n.Key, resp.StatusCode, notify.Clip(r.Description, 200))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return notify.RetryAfter(err, min(time.Duration(r.Parameters.RetryAfter)*time.Second, time.Hour))
	case resp.StatusCode >= 500 || resp.StatusCode/100 == 2:
		return err
	default:
		return notify.Permanent(err)
	}
}
