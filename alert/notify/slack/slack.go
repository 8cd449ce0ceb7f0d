// Package slack delivers notifications to a Slack incoming webhook as Block
// Kit messages (header, fields, sample posts, links), with a plain "text"
// fallback for notifications and clients that do not render blocks.
//
// Standard library only: an incoming webhook is one JSON POST; the Slack SDK
// would add a dependency for the same request.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
)

// Config of a Slack channel.
type Config struct {
	WebhookURL string
	Client     *http.Client // nil uses a client with a 10s timeout
}

// Channel posts to one Slack incoming webhook.
type Channel struct{ cfg Config }

// New checks cfg and returns the channel.
func New(cfg Config) (*Channel, error) {
	if cfg.WebhookURL == "" {
		return nil, errors.New("slack: webhook URL is required")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Channel{cfg: cfg}, nil
}

// Text is a Block Kit text object.
type Text struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Block is the subset of Block Kit blocks the alerter uses.
type Block struct {
	Type     string  `json:"type"` // header, section, context, divider
	BlockID  string  `json:"block_id,omitempty"`
	Text     *Text   `json:"text,omitempty"`
	Fields   []*Text `json:"fields,omitempty"`
	Elements []*Text `json:"elements,omitempty"`
}

// Message is the incoming-webhook payload.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Escape escapes the three characters Slack's mrkdwn treats as control
// characters (&, <, >), so post text cannot inject links or mentions.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// link renders a mrkdwn link; URLs with characters that would break the
// <url|label> syntax are shown escaped instead of linked.
func link(url, label string) string {
	if url == "" || strings.ContainsAny(url, "<>| \n") || !(strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://")) {
		return Escape(label)
	}
	return "<" + strings.ReplaceAll(url, "&", "&amp;") + "|" + Escape(label) + ">"
}

// Limits from Slack's Block Kit reference.
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
)

// Build renders n as a Block Kit message.
func Build(n notify.Notification) Message {
	title := notify.Title(n)
	fields := []*Text{
		{Type: "mrkdwn", Text: "*Severity*\n" + Escape(n.Severity)},
		{Type: "mrkdwn", Text: "*Verdict*\n" + Escape(n.Verdict)},
		{Type: "mrkdwn", Text: fmt.Sprintf("*Posts*\n%d (%d in %s)", n.Posts, n.Rate, Escape(n.Window))},
		{Type: "mrkdwn", Text: fmt.Sprintf("*Authors*\n%d", n.Authors)},
	}
	if len(n.Platforms) > 0 {
		fields = append(fields, &Text{Type: "mrkdwn", Text: "*Platforms*\n" + notify.Clip(Escape(strings.Join(n.Platforms, ", ")), maxField-20)})
	}
	if len(n.Langs) > 0 {
		fields = append(fields, &Text{Type: "mrkdwn", Text: "*Languages*\n" + notify.Clip(Escape(strings.Join(n.Langs, ", ")), maxField-20)})
	}
	blocks := []Block{
		{Type: "header", Text: &Text{Type: "plain_text", Text: notify.Clip(title, maxHeader), Emoji: true}},
		{Type: "section", Text: &Text{Type: "mrkdwn", Text: notify.Clip("*Claim:* "+Escape(n.Claim), maxSection)}, Fields: fields},
	}
	if len(n.Samples) > 0 {
		var b strings.Builder
		b.WriteString("*Sample posts*\n")
		for _, s := range n.Samples {
			label := s.Title
			if label == "" {
				label = s.Text
			}
			line := "• " + link(s.URL, notify.Clip(label, 140))
			if s.Author != "" {
				line += " — " + Escape(notify.Clip(s.Author, 60))
			}
			if s.Platform != "" {
				line += " (" + Escape(s.Platform) + ")"
			}
			line += "\n"
			if b.Len()+len(line) > maxSection {
				break
			}
			b.WriteString(line)
		}
		blocks = append(blocks, Block{Type: "divider"}, Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: b.String()}})
	}
	var ctx []*Text
	if n.FactURL != "" {
		ctx = append(ctx, &Text{Type: "mrkdwn", Text: link(n.FactURL, "Fact check")})
	}
	if n.CaseURL != "" {
		ctx = append(ctx, &Text{Type: "mrkdwn", Text: link(n.CaseURL, "Open case")})
	}
	ctx = append(ctx, &Text{Type: "mrkdwn", Text: "case " + Escape(n.CaseID) + " · key " + Escape(n.Key)})
	blocks = append(blocks, Block{Type: "context", BlockID: notify.Clip(n.Key, 255), Elements: ctx})
	return Message{Text: Escape(title) + "\n" + Escape(notify.Summary(n)), Blocks: blocks}
}

// Send posts n. Slack answers 200 "ok"; 429 carries Retry-After; other
// 4xx (invalid_blocks, no_service…) are permanent.
func (c *Channel) Send(ctx context.Context, n notify.Notification) error {
	body, err := json.Marshal(Build(n))
	if err != nil {
		return notify.Permanent(fmt.Errorf("cannot encode slack message %s: %w", n.Key, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(fmt.Errorf("cannot build slack request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		// The URL is a secret: report the host only.
		return fmt.Errorf("cannot post to slack (%s): %w", req.URL.Host, notify.StripURL(err))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err := notify.ClassifyHTTP(resp.StatusCode, resp.Header.Get("Retry-After"), msg); err != nil {
		return fmt.Errorf("slack %s: %w", n.Key, err)
	}
	return nil
}
