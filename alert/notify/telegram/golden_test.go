package telegram

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/trendwatch/trendwatch/alert/notify"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden renders the shared notification fixture and compares it with
// testdata/escalation.html-result (go test -update rewrites it).
func TestGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("..", "testdata", "escalation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var n notify.Notification
	if err := json.Unmarshal(in, &n); err != nil {
		t.Fatal(err)
	}
	got := bytes.NewBufferString(Render(n))
	golden := filepath.Join("testdata", "escalation.html-result")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, got.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("Render differs from %s:\n%s", golden, got.String())
	}
}
