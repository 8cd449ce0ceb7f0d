package email

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
)

func sample() notify.Notification {
	return notify.Notification{Key: "c-9-1", CaseID: "c-9", Seq: 1, Kind: notify.KindOpened, Severity: "medium",
		FactID: "f9", Claim: "Hà Nội sẽ cấm xe máy từ ngày mai <script>", Verdict: "false", FactURL: "https://fact.example/hn",
		Posts: 5, Authors: 4, Rate: 5, Window: "1h0m0s", Langs: []string{"vi"},
		Samples: []notify.Sample{{PostID: "p1", URL: "https://s.example/1", Author: "Minh <b>", Platform: "rss", Text: "Cấm xe máy!\r\nBcc: victim@example.com"}}}
}

// mailpitBinary finds the mailpit server installed by scripts/mailpit.sh.
func mailpitBinary(t *testing.T) string {
	t.Helper()
	cands := []string{os.Getenv("TRENDWATCH_MAILPIT")}
	if c := os.Getenv("TRENDWATCH_CACHE"); c != "" {
		cands = append(cands, filepath.Join(c, "bin", "mailpit"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		cands = append(cands, filepath.Join(h, ".cache", "trendwatch", "bin", "mailpit"))
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		cands = append(cands, p)
	}
	for _, c := range cands {
		if c != "" {
			if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
				return c
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("mailpit not found; run scripts/mailpit.sh")
	}
	t.Skip("mailpit not found; run scripts/mailpit.sh (or set TRENDWATCH_MAILPIT)")
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// selfSigned writes a certificate for 127.0.0.1 and returns its paths and
// a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

type mailpit struct {
	smtp, api string
	pool      *x509.CertPool
}

// startMailpit runs a real SMTP server on loopback that requires STARTTLS
// and AUTH (user alerter, password pw), with its HTTP API to read mail.
func startMailpit(t *testing.T) *mailpit {
	bin := mailpitBinary(t)
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	auth := filepath.Join(dir, "auth")
	os.WriteFile(auth, []byte("alerter:pw\n"), 0o600)
	m := &mailpit{smtp: freePort(t), api: freePort(t), pool: pool}
	cmd := exec.Command(bin, "--database", filepath.Join(dir, "db"), "--smtp", m.smtp, "--listen", m.api,
		"--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls", "--smtp-auth-file", auth,
		"--smtp-disable-rdns", "--disable-version-check", "--quiet")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + m.api + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", m.smtp); err == nil {
				c.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("mailpit did not start")
		}
	}
	return m
}

func (m *mailpit) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get("http://" + m.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestSendThroughMailpit(t *testing.T) {
	m := startMailpit(t)
	cfg := Config{Addr: m.smtp, User: "alerter", Password: "pw", From: "Trendwatch <alerts@trendwatch.test>",
		To: []string{"desk@press.test", "Editor <editor@press.test>"}, TLS: &tls.Config{RootCAs: m.pool, ServerName: "127.0.0.1"}}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Messages []struct {
			ID, MessageID, Subject string
			To                     []struct{ Address string }
			Bcc                    []struct{ Address string }
		} `json:"messages"`
	}
	m.get(t, "/api/v1/messages", &list)
	if len(list.Messages) != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", len(list.Messages))
	}
	got := list.Messages[0]
	if !strings.Contains(got.Subject, "Hà Nội sẽ cấm xe máy") || got.MessageID != "c-9-1@trendwatch" || len(got.To) != 2 || len(got.Bcc) != 0 {
		t.Fatalf("message %+v", got)
	}
	var full struct{ Text, HTML string }
	m.get(t, "/api/v1/message/"+got.ID, &full)
	if !strings.Contains(full.Text, "Claim: Hà Nội sẽ cấm xe máy từ ngày mai <script>") || !strings.Contains(full.Text, "c-9-1") {
		t.Errorf("text part: %q", full.Text)
	}
	if !strings.Contains(full.HTML, "&lt;script&gt;") || strings.Contains(full.HTML, "<script>") || !strings.Contains(full.HTML, `href="https://fact.example/hn"`) {
		t.Errorf("HTML part: %q", full.HTML)
	}
	var hdr map[string][]string
	m.get(t, "/api/v1/message/"+got.ID+"/headers", &hdr)
	if k := hdr["X-Trendwatch-Idempotency-Key"]; len(k) != 1 || k[0] != "c-9-1" {
		t.Errorf("idempotency header %v", k)
	}

	// Wrong password: 535, permanent.
	cfg.Password = "nope"
	bad, _ := New(cfg)
	if err := bad.Send(context.Background(), sample()); !notify.IsPermanent(err) {
		t.Fatalf("bad password: want permanent error, got %v", err)
	}
	// Untrusted certificate: refused before any credentials are sent.
	cfg.Password, cfg.TLS = "pw", nil
	untrusted, _ := New(cfg)
	if err := untrusted.Send(context.Background(), sample()); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("untrusted cert: got %v", err)
	}
}

func TestSendUnreachable(t *testing.T) {
	c, _ := New(Config{Addr: freePort(t), From: "a@b.test", To: []string{"c@d.test"}, Timeout: 2 * time.Second})
	err := c.Send(context.Background(), sample())
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("connection refused must be retryable, got %v", err)
	}
}

// FuzzBuild: whatever the post text, the message parses, has exactly the
// headers we wrote (no injected ones) and a single-line subject.
func FuzzBuild(f *testing.F) {
	f.Add("claim", "text", "key-1")
	f.Add("a\r\nBcc: x@y", "\r\n.\r\n", "k\r\nX: y")
	f.Add(strings.Repeat("ừ", 400), "=?utf-8?q?x?=", "")
	from, _ := mail.ParseAddress("a@b.test")
	to, _ := mail.ParseAddress("c@d.test")
	f.Fuzz(func(t *testing.T, claim, text, key string) {
		n := sample()
		n.Claim, n.Key = claim, key
		n.Samples[0].Text = text
		raw, err := Build(from, []*mail.Address{to}, n, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("unparseable: %v", err)
		}
		if len(msg.Header) != 9 || msg.Header.Get("Bcc") != "" {
			t.Fatalf("headers %v", msg.Header)
		}
		if s := msg.Header.Get("Subject"); strings.ContainsAny(s, "\r\n") {
			t.Fatalf("subject %q", s)
		}
		_ = fmt.Sprint
	})
}
