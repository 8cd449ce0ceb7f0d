package email

import (
	"bytes"
	"encoding/json"
	"flag"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden renders the shared notification fixture as a whole RFC 5322
// message (with its random MIME boundary replaced) and compares it with
// testdata/escalation.eml-result (go test -update rewrites it).
func TestGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("..", "testdata", "escalation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var n notify.Notification
	if err := json.Unmarshal(in, &n); err != nil {
		t.Fatal(err)
	}
	from, _ := mail.ParseAddress("Trendwatch <alerts@trendwatch.test>")
	to, _ := mail.ParseAddress("Bàn trực <desk@press.test>")
	raw, err := Build(from, []*mail.Address{to}, n, time.Date(2026, 11, 25, 8, 48, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	got := bytes.ReplaceAll(raw, []byte(params["boundary"]), []byte("BOUNDARY"))
	golden := filepath.Join("testdata", "escalation.eml-result")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Build differs from %s:\n%s", golden, got)
	}
}
