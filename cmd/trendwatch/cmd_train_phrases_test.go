package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/text"
)

// train phrases builds a phrase table that text can load, learning the
// collocations of the texts and counting facts' claims as documents.
func TestTrainPhrasesCommand(t *testing.T) {
	dir := t.TempDir()
	texts := filepath.Join(dir, "news.jsonl")
	var b strings.Builder
	verbs := []string{"chờ", "đón", "cổ vũ", "gặp", "xem", "mừng"}
	for i, v := range verbs {
		fmt.Fprintf(&b, `{"title":"Mưa lớn ở Hà Nội lần %d","summary":"Người dân Hà Nội %s đội tuyển Việt Nam."}`+"\n", i, v)
	}
	if err := os.WriteFile(texts, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "phrases.tsv.gz")
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), []string{"train", "phrases", "--facts", filepath.Join("testdata", "match", "facts.jsonl"),
		"--texts", texts, "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tb, err := text.ParsePhraseTable(f)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Docs != 10 || tb.DF("ha noi") != 6 || tb.DF("doi tuyen") != 6 {
		t.Errorf("table: docs %d, df(ha noi) %d, df(doi tuyen) %d", tb.Docs, tb.DF("ha noi"), tb.DF("doi tuyen"))
	}
	if code := runMain(context.Background(), []string{"train", "phrases"}, &stdout, &stderr); code == 0 {
		t.Error("no input was accepted")
	}
}
