// Package email delivers notifications over SMTP: STARTTLS (required by
// default), AUTH PLAIN, and a multipart/alternative message with a plain
// text and an HTML part, both quoted-printable UTF-8.
//
// It uses the standard library's net/smtp, frozen but complete for a
// client that only submits mail, plus mime/multipart and html/template
// (which escapes every post's text in the HTML part). The idempotency key
// travels as the Message-ID and an X-Trendwatch-Idempotency-Key header, so
// mail filters and the receiving tools can drop duplicates.
package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
)

// Config of an email channel.
type Config struct {
	Addr     string // host:port of the submission server
	User     string // empty skips AUTH
	Password string
	From     string
	To       []string
	// TLS configures STARTTLS; nil verifies the server against the system
	// roots with ServerName = the Addr host.
	TLS *tls.Config
	// AllowPlaintext sends without STARTTLS when the server does not offer
	// it (never with AUTH). Off by default: alerts name people and posts.
	AllowPlaintext bool
	Timeout        time.Duration // per message; 0 means 30s
	Now            func() time.Time
}

// Channel sends to a fixed list of recipients.
type Channel struct {
	cfg  Config
	host string
	from *mail.Address
	to   []*mail.Address
}

// New checks cfg and returns the channel.
func New(cfg Config) (*Channel, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("email: address %q is not host:port: %w", cfg.Addr, err)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: bad sender %q: %w", cfg.From, err)
	}
	if len(cfg.To) == 0 {
		return nil, errors.New("email: at least one recipient is required")
	}
	c := &Channel{cfg: cfg, host: host, from: from}
	for _, t := range cfg.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("email: bad recipient %q: %w", t, err)
		}
		c.to = append(c.to, a)
	}
	if c.cfg.Timeout <= 0 {
		c.cfg.Timeout = 30 * time.Second
	}
	if c.cfg.Now == nil {
		c.cfg.Now = time.Now
	}
	if c.cfg.TLS == nil {
		c.cfg.TLS = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	return c, nil
}

// Send delivers n in one SMTP session. 5xx replies are permanent, 4xx and
// network errors retryable.
func (c *Channel) Send(ctx context.Context, n notify.Notification) error {
	msg, err := Build(c.from, c.to, n, c.cfg.Now())
	if err != nil {
		return notify.Permanent(err)
	}
	if err := c.send(ctx, msg); err != nil {
		return classify(fmt.Errorf("email %s via %s: %w", n.Key, c.cfg.Addr, err))
	}
	return nil
}

func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return notify.Permanent(err)
	}
	return err
}

func (c *Channel) send(ctx context.Context, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// Cancelling ctx (shutdown) unblocks a stuck exchange.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	cl, err := smtp.NewClient(conn, c.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer cl.Close()
	if err := cl.Hello("trendwatch.localhost"); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if ok, _ := cl.Extension("STARTTLS"); ok {
		if err := cl.StartTLS(c.cfg.TLS); err != nil {
			return notify.Permanent(fmt.Errorf("STARTTLS: %w", err))
		}
	} else if !c.cfg.AllowPlaintext || c.cfg.User != "" {
		return notify.Permanent(errors.New("server does not offer STARTTLS"))
	}
	if c.cfg.User != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.cfg.User, c.cfg.Password, c.host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := cl.Mail(c.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, t := range c.to {
		if err := cl.Rcpt(t.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", t.Address, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	// The message is accepted once DATA ends; a failed QUIT changes nothing.
	_ = cl.Quit()
	return nil
}

var htmlBody = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><body style="font-family:sans-serif">
<h2>{{.Title}}</h2>
<p><b>Claim:</b> {{.N.Claim}}</p>
<p>{{.Summary}}</p>
{{if .N.FactURL}}<p><a href="{{.N.FactURL}}">Fact check</a></p>{{end}}
{{if .N.CaseURL}}<p><a href="{{.N.CaseURL}}">Open case</a></p>{{end}}
{{if .N.Samples}}<h3>Sample posts</h3><ul>
{{range .N.Samples}}<li>{{if .URL}}<a href="{{.URL}}">{{if .Title}}{{.Title}}{{else}}{{.Text}}{{end}}</a>{{else}}{{if .Title}}{{.Title}}{{else}}{{.Text}}{{end}}{{end}}{{if .Author}} — {{.Author}}{{end}}{{if .Platform}} ({{.Platform}}){{end}}</li>
{{end}}</ul>{{end}}
<p style="color:#888">case {{.N.CaseID}} · key {{.N.Key}}</p>
</body></html>
`))

// Build renders the RFC 5322 message for n.
func Build(from *mail.Address, to []*mail.Address, n notify.Notification, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	title := notify.Title(n)
	tos := make([]string, len(to))
	for i, t := range to {
		tos[i] = t.String()
	}
	mw := multipart.NewWriter(&b)
	hdr := []struct{ k, v string }{
		{"From", from.String()},
		{"To", strings.Join(tos, ", ")},
		// Q-encoding keeps Vietnamese and French subjects intact; header
		// values have CR/LF removed so post text cannot inject headers.
		{"Subject", mime.QEncoding.Encode("utf-8", oneLine(notify.Clip(title, 180)))},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", "<" + messageID(n.Key) + "@trendwatch>"},
		{"X-Trendwatch-Idempotency-Key", oneLine(n.Key)},
		{"X-Trendwatch-Case", oneLine(n.CaseID)},
		{"MIME-Version", "1.0"},
		{"Content-Type", "multipart/alternative; boundary=" + mw.Boundary()},
	}
	for _, h := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", h.k, h.v)
	}
	b.WriteString("\r\n")

	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\nClaim: %s\n%s\n", title, n.Claim, notify.Summary(n))
	if n.FactURL != "" {
		fmt.Fprintf(&text, "Fact check: %s\n", n.FactURL)
	}
	if n.CaseURL != "" {
		fmt.Fprintf(&text, "Case: %s\n", n.CaseURL)
	}
	if len(n.Samples) > 0 {
		text.WriteString("\nSample posts:\n")
		for _, s := range n.Samples {
			label := s.Title
			if label == "" {
				label = s.Text
			}
			fmt.Fprintf(&text, "- %s — %s (%s) %s\n", notify.Clip(label, 200), s.Author, s.Platform, s.URL)
		}
	}
	fmt.Fprintf(&text, "\ncase %s · key %s\n", n.CaseID, n.Key)
	if err := part(mw, "text/plain; charset=utf-8", []byte(text.String())); err != nil {
		return nil, err
	}
	var h bytes.Buffer
	if err := htmlBody.Execute(&h, map[string]any{"Title": title, "Summary": notify.Summary(n), "N": n}); err != nil {
		return nil, fmt.Errorf("cannot render email HTML: %w", err)
	}
	if err := part(mw, "text/html; charset=utf-8", h.Bytes()); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("cannot close multipart body: %w", err)
	}
	return b.Bytes(), nil
}

func part(mw *multipart.Writer, ctype string, body []byte) error {
	w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
	if err != nil {
		return fmt.Errorf("cannot start %s part: %w", ctype, err)
	}
	qw := quotedprintable.NewWriter(w)
	if _, err := qw.Write(body); err != nil {
		return fmt.Errorf("cannot write %s part: %w", ctype, err)
	}
	return qw.Close()
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// messageID keeps the id's left part to safe atext characters.
func messageID(key string) string {
	var b strings.Builder
	for _, r := range key {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.+", r)) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		var r [8]byte
		_, _ = rand.Read(r[:])
		return hex.EncodeToString(r[:])
	}
	return b.String()
}
