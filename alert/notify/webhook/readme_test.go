package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The README's shell recipe accepts what the alerter signs and refuses a
// tampered body: operators copy it as it stands.
func TestREADMEShellVerification(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "<!-- webhook-verify-sh -->\n```sh\n")
	if !ok {
		t.Fatal("README has no webhook-verify-sh block")
	}
	script, _, _ := strings.Cut(after, "```")
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("the README's recipe needs openssl: %v", err)
	}
	dir := t.TempDir()
	body := []byte(`{"key":"case-1:opened","fact_id":"f1","claim":"Uống nước chanh chữa ung thư"}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	run := func(file []byte) string {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "body.json"), file, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TS="+ts, "SECRET=s3cret", "SIG="+Sign([]byte("s3cret"), ts, body))
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := run(body); !strings.Contains(out, "signature valid") {
		t.Errorf("the recipe refused a genuine signature: %q", out)
	}
	if out := run(append(body, ' ')); strings.Contains(out, "signature valid") {
		t.Errorf("the recipe accepted a changed body: %q", out)
	}
}

// readmeVerify is the README's Go recipe, word for word.
func readmeVerify(secret []byte, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	ts := r.Header.Get("X-Trendwatch-Timestamp")
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Trendwatch-Signature"))) {
		return nil, errors.New("bad signature")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(secs, 0)).Abs() > 5*time.Minute {
		return nil, errors.New("stale or missing timestamp")
	}
	return body, nil
}

func TestREADMEGoVerification(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, fn, _ := strings.Cut(string(src), "// readmeVerify is the README's Go recipe, word for word.\n")
	fn, _, _ = strings.Cut(fn, "\n}\n")
	fn = strings.Replace(fn, "func readmeVerify(", "func verify(", 1) + "\n}\n"
	if !strings.Contains(string(readme), fn) {
		t.Fatalf("the README's Go recipe differs from readmeVerify:\n%s", fn)
	}
	body := []byte(`{"key":"k"}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req := httptest.NewRequest("POST", "/hook", strings.NewReader(string(body)))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign([]byte("s3cret"), ts, body))
	if got, err := readmeVerify([]byte("s3cret"), req); err != nil || string(got) != string(body) {
		t.Errorf("genuine request: %q, %v", got, err)
	}
	req = httptest.NewRequest("POST", "/hook", strings.NewReader(string(body)))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign([]byte("other"), ts, body))
	if _, err := readmeVerify([]byte("s3cret"), req); err == nil {
		t.Error("a request signed with another secret was accepted")
	}
}
