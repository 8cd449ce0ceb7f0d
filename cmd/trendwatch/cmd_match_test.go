package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/claims"
)

func TestMatchCommandGolden(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"match", "--facts", filepath.Join(dir, "facts.jsonl"),
		"--queries", filepath.Join(dir, "queries.tsv"), "--top", "2"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want, err := os.ReadFile(filepath.Join(dir, "run.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("run differs from golden:\n%s\nwant:\n%s", out.String(), want)
	}
	// Same input, same output: the run is deterministic.
	var again bytes.Buffer
	runMain(context.Background(), []string{"match", "--facts", filepath.Join(dir, "facts.jsonl"),
		"--queries", filepath.Join(dir, "queries.tsv"), "--top", "2"}, &again, &errb)
	if again.String() != out.String() {
		t.Error("second run differs")
	}
}

func TestEvalMatchCommand(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"eval", "match", "--facts", filepath.Join(dir, "facts.jsonl"),
		"--queries", filepath.Join(dir, "queries.tsv"), "--qrels", filepath.Join(dir, "qrels.txt")}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, w := range []string{"MAP@1\t1.0000", "MAP@5\t1.0000", "MRR\t1.0000", "queries\t3"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

func TestMatchCommandErrors(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := func(wantCode int, wantMsg string, args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := runMain(context.Background(), append([]string{"match"}, args...), &out, &errb)
		if code != wantCode || !strings.Contains(errb.String(), wantMsg) {
			t.Errorf("match %v: exit %d, stderr %q; want %d and %q", args, code, errb.String(), wantCode, wantMsg)
		}
	}
	f(2, "--facts and --queries are required")
	f(1, "cannot read facts", "--facts", "/nonexistent/facts", "--queries", filepath.Join(dir, "queries.tsv"))
	f(1, "cannot open queries", "--facts", filepath.Join(dir, "facts.jsonl"), "--queries", "/nonexistent/q")
	f(1, "no known facts format", "--facts", bad, "--queries", filepath.Join(dir, "queries.tsv"))
	f(2, "--top must be positive", "--facts", bad, "--queries", "x", "--top", "0")
}

// The run echoes query ids exactly as written: TREC tools join on them.
func TestMatchCommandKeepsQueryIDs(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	qs := filepath.Join(t.TempDir(), "q.tsv")
	in := "id\ttext\nQ1\tBill Gates microchips in the vaccine\nTweet-ABC_7\tdrinking bleach cures covid\n"
	if err := os.WriteFile(qs, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"match", "--facts", filepath.Join(dir, "facts.jsonl"),
		"--queries", qs, "--top", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		ids = append(ids, strings.Fields(line)[0])
	}
	if strings.Join(ids, ",") != "Q1,Tweet-ABC_7" {
		t.Errorf("query ids %v, want [Q1 Tweet-ABC_7]:\n%s", ids, out.String())
	}
}

// train background builds a table the claims index can load.
func TestTrainBackgroundCommand(t *testing.T) {
	dir := t.TempDir()
	texts := filepath.Join(dir, "news.jsonl")
	if err := os.WriteFile(texts, []byte(`{"title":"Hà Nội cấm xe máy","summary":"Hà Nội sẽ cấm xe máy từ năm 2030."}`+"\n"+
		`{"title":"Hà Nội mưa lớn","summary":"Mưa lớn ở Hà Nội."}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bg.tsv.gz")
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), []string{"train", "background", "--facts", filepath.Join("testdata", "match", "facts.jsonl"),
		"--texts", texts, "--min-df", "1", "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bg, err := claims.ParseBackground(f)
	if err != nil {
		t.Fatal(err)
	}
	if bg.Docs[2] != 2 || bg.DF("ha_noi", "vi") != 2 || bg.FactDocs != 4 || !strings.Contains(bg.Command, "--min-df 1") {
		t.Errorf("table: docs %v, df(ha_noi) %d, facts %d, command %q", bg.Docs, bg.DF("ha_noi", "vi"), bg.FactDocs, bg.Command)
	}
	if code := runMain(context.Background(), []string{"train", "background", "--texts", filepath.Join(dir, "none*.jsonl")}, &stdout, &stderr); code == 0 {
		t.Error("a glob matching nothing was accepted")
	}
}
