package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestFactsImportListenAnd401: `facts import` takes the API address as
// --listen (not only from the environment), and a 401 from the API tells
// the user how to authenticate.
func TestFactsImportListenAnd401(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":"unauthorized","message":"credentials required"}}`))
	}))
	defer srv.Close()
	for _, k := range []string{"TRENDWATCH_KAFKA_BROKERS", "TRENDWATCH_LISTEN", "TRENDWATCH_API_TOKEN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	var out, errb bytes.Buffer
	listen := strings.TrimPrefix(srv.URL, "http://")
	code := runMain(context.Background(), []string{"facts", "import", "testdata/replay/facts.jsonl", "--listen", listen, "--api-token", "wrong", "--data-dir", t.TempDir()}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if auth != "Bearer wrong" {
		t.Errorf("the API got Authorization %q", auth)
	}
	for _, want := range []string{"--api-token", "TRENDWATCH_API_TOKEN_FILE", "same machine", listen} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("401 message lacks %q: %s", want, errb.String())
		}
	}
}
